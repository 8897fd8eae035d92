package render

import (
	"strings"
	"testing"

	"golang.org/x/image/font/sfnt"
)

// docRunes finds the characters of every place the PDF draws text from:
// header fields, HTML with entities, plain text, attachment names, an
// attached message, and Arabic's presentation forms.
func TestDocRunes(t *testing.T) {
	raw := "From: =?UTF-8?Q?Zo=C3=AB?= <z@example.com>\r\nTo: a@example.org\r\nSubject: =?UTF-8?B?8J+OiQ==?=\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: multipart/alternative; boundary=A\r\n\r\n" +
		"--A\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain ☃\r\n" +
		"--A\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html &#x1F600; &hearts;</p>\r\n--A--\r\n" +
		"--B\r\nContent-Type: application/octet-stream; name=\"=?UTF-8?B?8J+Tji5wZGY=?=\"\r\n\r\nx\r\n" +
		"--B\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nسلام 𐌰\r\n--B--\r\n"
	got := docRunes(parse([]byte(raw)))
	for _, r := range "ë🎉☃😀♥📎س𐌰\ufefb\ufe8e" {
		if !got[r] {
			t.Errorf("docRunes lacks %q (%U)", r, r)
		}
	}
	for r := range got {
		if r < 0x80 {
			t.Errorf("docRunes has ASCII %q", r)
		}
	}
}

// An extra font reaches fpdf with a cmap of the wanted characters only,
// each on its own glyph (emoji on their Private Use Area codes), and the
// face then covers just those.
func TestSubsetFont(t *testing.T) {
	emojiFont(t)
	var f *face
	for _, b := range systemFonts() {
		if g := newExtraFace("t", b); g != nil && g.covers('😀') {
			f = g
			break
		}
	}
	full := map[rune]sfnt.GlyphIndex{}
	var buf sfnt.Buffer
	for _, r := range "😀🎉☃✓" {
		full[r], _ = f.sf.GlyphIndex(&buf, r)
	}
	sub, err := sfnt.Parse(f.subsetFont(map[rune]bool{'😀': true, '☃': true, '漢': true}))
	if err != nil {
		t.Fatal(err)
	}
	for r, want := range map[rune]sfnt.GlyphIndex{f.code('😀'): full['😀'], '☃': full['☃'], f.code('🎉'): 0, '✓': 0} {
		if g, _ := sub.GlyphIndex(&buf, r); g != want {
			t.Errorf("subset maps %U to glyph %d, want %d", r, g, want)
		}
	}
	if !f.covers('😀') || !f.covers('☃') || f.covers('🎉') || f.covers('漢') {
		t.Errorf("the face must cover 😀 and ☃ only, now that fpdf has its subset")
	}
	if n := sub.NumGlyphs(); n != f.sf.NumGlyphs() {
		t.Errorf("subset has %d glyphs, want all %d (only the cmap is cut)", n, f.sf.NumGlyphs())
	}
}

// A message whose emoji are HTML entities, in an attached message and in
// an attachment's name, still has them drawn from the emoji font.
func TestPDFEmojiEverywhere(t *testing.T) {
	emojiFont(t)
	raw := "From: a@example.com\r\nTo: b@example.org\r\nSubject: entities\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>smile &#x1F600; pizza &#127829;</p>\r\n" +
		"--B\r\nContent-Type: application/octet-stream; name=\"=?UTF-8?B?8J+Tji5wZGY=?=\"\r\n\r\nx\r\n" +
		"--B\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner \xf0\x9f\x8c\x9f\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nrocket \xf0\x9f\x9a\x80\r\n--B--\r\n"
	f := renderRaw(t, "everywhere", []byte(raw))
	txt := run(t, "pdftotext", f, "-")
	for _, s := range []string{"smile 😀 pizza 🍕", "📎.pdf", "inner 🌟", "rocket 🚀"} {
		if !strings.Contains(txt, s) {
			t.Errorf("text layer lacks %q:\n%s", s, txt)
		}
	}
	if strings.ContainsRune(txt, tofu) {
		t.Errorf("boxes drawn:\n%s", txt)
	}
}
