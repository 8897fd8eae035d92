package fs

import (
	"reflect"
	"testing"

	"mailfs/cache"
	"mailfs/render"
)

func TestBuildTree(t *testing.T) {
	tr := buildTree([]cache.FolderInfo{
		{Name: "INBOX", Delim: '/'},
		{Name: "Archiv", Delim: '/', NoSelect: true},
		{Name: "Archiv/2024", Delim: '/'},
		{Name: "Lists/go/nuts", Delim: '/'}, // parents not listed
		{Name: "a/b", Delim: '.'},           // "/" inside a name
		{Name: "..", Delim: '/'},
	})
	for path, want := range map[string]treeDir{
		"":              {subdirs: []string{"%2E%2E", "Archiv", "INBOX", "Lists", "a%2Fb"}},
		"INBOX":         {folder: "INBOX", selectable: true},
		"Archiv":        {folder: "Archiv", subdirs: []string{"2024"}},
		"Archiv/2024":   {folder: "Archiv/2024", selectable: true},
		"Lists":         {subdirs: []string{"go"}},
		"Lists/go/nuts": {folder: "Lists/go/nuts", selectable: true},
		"a%2Fb":         {folder: "a/b", selectable: true},
		"%2E%2E":        {folder: "..", selectable: true},
	} {
		got := tr.dirs[path]
		if got == nil {
			t.Errorf("no directory %q", path)
			continue
		}
		if got.folder != want.folder || got.selectable != want.selectable || !reflect.DeepEqual(got.subdirs, want.subdirs) {
			t.Errorf("%q: got %+v, want %+v", path, *got, want)
		}
	}
}

func TestInodesStableAndDistinct(t *testing.T) {
	seen := map[uint64]string{}
	add := func(ino uint64, what string) {
		if other, ok := seen[ino]; ok {
			t.Errorf("%s and %s share inode %d", what, other, ino)
		}
		seen[ino] = what
	}
	for _, stem := range []string{"2024-03-01 143205 Invoice [k3m7x2qa]", "2024-03-01 143205 Invoice [k3m7x2qa-2]", "2024-03-01 143205 Invoice [aaaaaaaa]"} {
		for link := uint64(0); link < 50; link++ {
			for _, f := range render.Formats {
				add(fileIno("", stem, link, f.Slot), stem)
				add(fileIno("work", stem, link, f.Slot), "work "+stem)
			}
		}
	}
	for _, folder := range []string{"INBOX", "Archiv/2024", "Entwürfe"} {
		add(dirIno("", folder), "dir "+folder)
		add(dirIno("work", folder), "work dir "+folder)
	}
	add(dirIno("", ""), "root")
	add(dirIno("work", ""), "account work")
	if fileIno("", "x [a]", 7, 2) != fileIno("", "x [a]", 7, 2) || dirIno("", "") != 1 {
		t.Error("inode numbers are not deterministic")
	}
}

func TestParseFormats(t *testing.T) {
	got, err := parseFormats([]string{"eml", "pdf"})
	if err != nil || len(got) != 2 || got[1].Ext != "pdf" {
		t.Errorf("parseFormats: %v %v", got, err)
	}
	if got, err := parseFormats([]string{"docx"}); err != nil || got[0].Slot != 5 || (&fileNode{slot: 5}).ext() != "docx" {
		t.Errorf("parseFormats docx: %v %v", got, err)
	}
	if _, err := parseFormats([]string{"doc"}); err == nil {
		t.Error("unknown format accepted")
	}
	m := &account{formats: got}
	if stem, f, ok := m.splitName("2024-01-01 000000 a.b [1].pdf"); !ok || stem != "2024-01-01 000000 a.b [1]" || f.Ext != "pdf" {
		t.Errorf("splitName: %q %v %v", stem, f, ok)
	}
	if _, _, ok := m.splitName("x [1].txt"); ok {
		t.Error("a format not shown was accepted")
	}
}
