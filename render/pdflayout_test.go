package render

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The PDF's layout of tables, images, emoji and mixed-direction text,
// checked from outside with poppler's tools.

// renderRaw writes the PDF of raw (with the system fonts) to a file.
func renderRaw(t *testing.T, name string, raw []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name+".pdf")
	if err := os.WriteFile(f, render(t, "pdf", raw, Options{ExtraFonts: systemFonts()}), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// pdfImageSizes lists the images drawn on the pages (pdfimages -list) as
// "width×height".
func pdfImageSizes(t *testing.T, f string) []string {
	var out []string
	for i, l := range strings.Split(run(t, "pdfimages", "-list", f), "\n") {
		fs := strings.Fields(l)
		if i < 2 || len(fs) < 5 {
			continue
		}
		out = append(out, fs[3]+"×"+fs[4])
	}
	return out
}

// Image attachments are shown after the text, each once, scaled to the
// page; an image that the HTML refers to by Content-Location is shown in
// place and not listed.
func TestPDFImageAttachments(t *testing.T) {
	raw := readCorpus(t)["image-attachments.eml"]
	f := renderRaw(t, "images", raw)
	got := strings.Join(pdfImageSizes(t, f), " ")
	if want := "200×60 300×200 900×600 120×80"; got != want {
		t.Errorf("images drawn: %s, want %s (logo in place, then red.png, lake.jpg, green.gif)", got, want)
	}
	txt := run(t, "pdftotext", "-layout", f, "-")
	if strings.Contains(txt, "logo.png") || !strings.Contains(txt, "Attachments (3)") {
		t.Errorf("the logo shown in place must not be listed:\n%s", txt)
	}
	// The large JPEG is scaled down to the column (174 mm): more than its
	// 96 pixels per inch.
	for _, l := range strings.Split(run(t, "pdfimages", "-list", f), "\n") {
		if fs := strings.Fields(l); len(fs) > 12 && fs[3] == "900" {
			if ppi, _ := strconv.Atoi(fs[12]); ppi < 125 {
				t.Errorf("lake.jpg drawn at %d ppi, want it scaled to the column (about 131)", ppi)
			}
		}
	}
}

// The HTML view resolves Content-Location references too (the shared
// parse model): the logo is shown from a data: URI, not blocked.
func TestHTMLContentLocation(t *testing.T) {
	page := string(render(t, "html", readCorpus(t)["image-attachments.eml"], Options{}))
	if !strings.Contains(page, "data:image/png;base64,") {
		t.Error("the logo referred to by Content-Location is not shown in the HTML view")
	}
}
