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
}

// Inode numbers are what users' backups (rsync -H, borg, restic) and
// open files remember across remounts: these values must never change.
func TestInodeNumbersNeverChange(t *testing.T) {
	for _, c := range []struct {
		what      string
		got, want uint64
	}{
		{"pdf of a message", fileIno("", "x [a]", 7, 2), 0xab00a091cea85369},
		{"docx in account work", fileIno("work", "2024-03-01 143205 Invoice [k3m7x2qa]", 1, 5), 0xd21565e35a340a17},
		{"INBOX", dirIno("", "INBOX"), 0x41c5c6eaa9e13dbb},
		{"work's Archiv/2024", dirIno("work", "Archiv/2024"), 0x793400e9887adaec},
		{"INBOX's flags file", flagsIno("", "INBOX"), 0x5a2f0b4e28cd360f},
		{"the root", dirIno("", ""), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s: inode %#x, was %#x", c.what, c.got, c.want)
		}
	}
	// A message's number: 1, its format's slot, 60 bits of hash.
	for _, f := range render.Formats {
		if ino := fileIno("", "x [a]", 7, f.Slot); ino>>63 != 1 || int(ino>>60&7) != f.Slot || ino&(1<<60-1) != 0xab00a091cea85369&(1<<60-1) {
			t.Errorf("%s: inode %#x does not follow the layout", f.Ext, ino)
		}
	}
	if w := writeIno(); w>>60 != 0xf {
		t.Errorf("written file's inode %#x: want slot 7, which no format uses", w)
	}
}

func TestParseFormats(t *testing.T) {
	got, mbox, err := parseFormats([]string{"eml", "pdf"})
	if err != nil || len(got) != 2 || got[1].Ext != "pdf" || mbox {
		t.Errorf("parseFormats: %v %v %v", got, mbox, err)
	}
	if got, mbox, err := parseFormats([]string{"eml", "mbox"}); err != nil || len(got) != 1 || !mbox {
		t.Errorf("parseFormats with mbox: %v %v %v", got, mbox, err)
	}
	if got, _, err := parseFormats([]string{"docx"}); err != nil || got[0].Slot != 5 || (&fileNode{slot: 5}).ext() != "docx" {
		t.Errorf("parseFormats docx: %v %v", got, err)
	}
	if got, _, err := parseFormats([]string{"msg"}); err != nil || got[0].Slot != 6 || (&fileNode{slot: 6}).ext() != "msg" {
		t.Errorf("parseFormats msg: %v %v", got, err)
	}
	if _, _, err := parseFormats([]string{"doc"}); err == nil {
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
