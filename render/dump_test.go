package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDump writes every view of the corpus to $RENDER_DUMP (when set), for
// looking at them with a PDF viewer or browser.
func TestDump(t *testing.T) {
	dir := os.Getenv("RENDER_DUMP")
	if dir == "" {
		t.Skip("set RENDER_DUMP=dir to write the rendered corpus there")
	}
	opt := Options{ExtraFonts: SystemFonts()}
	files, _ := filepath.Glob("testdata/*.eml")
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		stem := filepath.Join(dir, strings.TrimSuffix(filepath.Base(f), ".eml"))
		for ext, fn := range map[string]func(*os.File) error{
			".html": func(w *os.File) error { return HTML(raw, w) },
			".txt":  func(w *os.File) error { return Text(raw, w) },
			".mht":  func(w *os.File) error { return MHT(raw, w) },
			".pdf":  func(w *os.File) error { return PDF(raw, w, opt) },
		} {
			w, err := os.Create(stem + ext)
			if err != nil {
				t.Fatal(err)
			}
			if err := fn(w); err != nil {
				t.Errorf("%s%s: %v", stem, ext, err)
			}
			w.Close()
		}
	}
}
