package render

import (
	"bytes"
	"os"
	"testing"
)

// The slots are part of inode numbers users' backups remember: this
// table may only grow.
func TestFormatSlotsNeverChange(t *testing.T) {
	want := map[string]int{"eml": 0, "html": 1, "pdf": 2, "txt": 3, "mht": 4, "docx": 5, "msg": 6}
	seenSlot, seenExt := map[int]string{}, map[string]bool{}
	for _, f := range Formats {
		if w, ok := want[f.Ext]; ok && f.Slot != w {
			t.Errorf("%s has slot %d, was %d", f.Ext, f.Slot, w)
		}
		if f.Slot < 0 || f.Slot > 6 {
			t.Errorf("%s: slot %d out of 0..6 (7 is for files being written)", f.Ext, f.Slot)
		}
		if other, ok := seenSlot[f.Slot]; ok {
			t.Errorf("%s and %s share slot %d", f.Ext, other, f.Slot)
		}
		if seenExt[f.Ext] || f.Ext == "" || f.Usage == "" {
			t.Errorf("format %+v: extension repeated or empty, or no usage", f)
		}
		seenSlot[f.Slot], seenExt[f.Ext] = f.Ext, true
		if (f.Render == nil) != (f.Ext == "eml") {
			t.Errorf("%s: only eml has no renderer", f.Ext)
		}
	}
	for ext := range want {
		if !seenExt[ext] {
			t.Errorf("format %s is gone", ext)
		}
	}
}

// Each renderer of the registry renders a message.
func TestFormatsRender(t *testing.T) {
	raw, err := os.ReadFile("testdata/plain.eml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Formats {
		if f.Render == nil {
			continue
		}
		var b bytes.Buffer
		if err := f.Render(raw, &b, Options{}); err != nil || b.Len() == 0 {
			t.Errorf("%s: %d bytes, %v", f.Ext, b.Len(), err)
		}
	}
	if f, ok := FormatOf("pdf"); !ok || !f.SystemFonts || f.Slot != 2 {
		t.Errorf("FormatOf(pdf) = %+v, %v", f, ok)
	}
	if _, ok := FormatOf("doc"); ok {
		t.Error("FormatOf(doc) found")
	}
	if got := FormatList(); got != "eml, html, pdf, txt, mht, docx, msg or mbox" {
		t.Errorf("FormatList() = %q", got)
	}
}
