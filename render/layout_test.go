package render

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func lineText(l []word) string {
	var b strings.Builder
	for _, w := range l {
		for _, c := range w.cells {
			b.WriteRune(c.r)
		}
	}
	return b.String()
}

func TestLines(t *testing.T) {
	d := newPDFDoc(&message{cids: map[string]*attachment{}}, nil, Options{})
	text := "The quick brown fox jumps over the lazy dog. " +
		"https://example.com/a/very/long/url/that/cannot/fit/on/one/line/at/all/and/must/be/split/somewhere/" +
		strings.Repeat("x", 120) + "\nsecond paragraph line"
	ws, rtl := d.words([]span{{text: text}}, bodyStyle)
	if rtl {
		t.Error("latin text taken as right-to-left")
	}
	const width = 80.0
	ls := lines(ws, width)
	var all []string
	for _, l := range ls {
		var w float64
		for _, x := range l {
			w += x.w
		}
		if w > width+0.01 {
			t.Errorf("line %q is %.1f mm wide, over %.0f", lineText(l), w, width)
		}
		all = append(all, lineText(l))
	}
	joined := strings.Join(all, "")
	if strings.ReplaceAll(joined, " ", "") != strings.ReplaceAll(strings.ReplaceAll(text, " ", ""), "\n", "") {
		t.Errorf("text lost in wrapping:\n%q", all)
	}
	if all[len(all)-1] != "second paragraph line" {
		t.Errorf("forced break not kept: %q", all)
	}
}

// TestBidiOrder: lines are drawn in the order of the Unicode bidi
// algorithm: numbers after Hebrew stay with it in an LTR paragraph,
// brackets in RTL text are mirrored, Latin inside Hebrew keeps its order.
func TestBidiOrder(t *testing.T) {
	visual := func(s string, rtl bool) string {
		var cs []cell
		for _, r := range s {
			cs = append(cs, cell{r: r})
		}
		bidiLevels(cs, rtl)
		var b strings.Builder
		for _, c := range reorder(cs) {
			b.WriteRune(c.r)
		}
		return b.String()
	}
	for _, c := range []struct {
		in   string
		rtl  bool
		want string
	}{
		{"Hebrew: שלום עולם 123 and more", false, "Hebrew: 123 םלוע םולש and more"},
		{"abc שלום 123 def", false, "abc 123 םולש def"},
		{"abc שלום def", false, "abc םולש def"},
		{"שלום (abc) עולם", true, "םלוע (abc) םולש"},
		{"פגישה ב-10:00.", true, ".10:00-ב השיגפ"},
		{"Plain text (no RTL)", false, "Plain text (no RTL)"},
	} {
		if got := visual(c.in, c.rtl); got != c.want {
			t.Errorf("%q: drawn as %q, want %q", c.in, got, c.want)
		}
	}
}

func TestShapeArabic(t *testing.T) {
	all := func(rune) bool { return true }
	got := shapeArabic([]rune("سلام"), all)
	want := []rune{0xFEB3, 0xFEFC, 0xFEE1} // seen initial, lam-alef final, meem isolated
	if string(got) != string(want) {
		t.Errorf("shape(سلام) = %U, want %U", got, want)
	}
	if got := shapeArabic([]rune("بيت"), all); string(got) != string([]rune{0xFE91, 0xFEF4, 0xFE96}) {
		t.Errorf("shape(بيت) = %U", got)
	}
	if got := shapeArabic([]rune("ب"), func(rune) bool { return false }); string(got) != "ب" {
		t.Errorf("unshapeable letter changed: %U", got)
	}
}

func TestPDFPagination(t *testing.T) {
	var body strings.Builder
	for i := 1; i <= 300; i++ {
		fmt.Fprintf(&body, "Line number %d of a long message.\r\n", i)
	}
	raw := []byte("From: a@example.com\r\nSubject: Long\r\nContent-Type: text/plain\r\n\r\n" + body.String())
	out := render(t, "pdf", raw, Options{})
	f := filepath.Join(t.TempDir(), "long.pdf")
	os.WriteFile(f, out, 0o644)
	text := run(t, "pdftotext", "-enc", "UTF-8", f, "-")
	for _, want := range []string{"Line number 1 of", "Line number 150 of", "Line number 300 of"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdf text lacks %q", want)
		}
	}
	if n := strings.Count(text, "\f"); n < 5 {
		t.Errorf("%d pages for 300 lines", n)
	}
}

func TestSystemFontsUsable(t *testing.T) {
	for i, b := range SystemFonts() {
		if !fpdfCanUse(b) {
			t.Errorf("font %d not usable", i)
		}
	}
	if fpdfCanUse([]byte("OTTO not a truetype font")) || fpdfCanUse(nil) {
		t.Error("fpdfCanUse accepts garbage")
	}
	// A broken font must not break the PDF.
	bad := append([]byte(nil), someFont()...)
	bad = bad[:len(bad)/3]
	out := render(t, "pdf", []byte("Subject: 日本\r\n\r\n日本語"), Options{ExtraFonts: [][]byte{bad, []byte("junk")}})
	if !bytes.HasPrefix(out, []byte("%PDF-")) {
		t.Error("no PDF with broken extra fonts")
	}
}

// someFont returns some TrueType font bytes for tests.
func someFont() []byte {
	if fs := SystemFonts(); len(fs) > 0 {
		return fs[0]
	}
	r, _ := bundled()
	return r.ttf
}
