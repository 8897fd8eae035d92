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
	msgs := readCorpus(t)
	msgs["rich.eml"] = richMessage()
	for name, raw := range msgs {
		stem := filepath.Join(dir, strings.TrimSuffix(name, ".eml"))
		for ext, fn := range map[string]func(*os.File) error{
			".html": func(w *os.File) error { return HTML(raw, w) },
			".txt":  func(w *os.File) error { return Text(raw, w) },
			".mht":  func(w *os.File) error { return MHT(raw, w) },
			".pdf":  func(w *os.File) error { return PDF(raw, w, opt) },
			".docx": func(w *os.File) error { return DOCX(raw, w) },
			".msg":  func(w *os.File) error { return MSG(raw, w) },
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
