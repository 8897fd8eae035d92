package render

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"io"
	"path"
	"strings"
	"testing"
)

func renderDOCX(t testing.TB, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := DOCX(raw, &b); err != nil {
		t.Fatalf("docx: %v", err)
	}
	return b.Bytes()
}

// testPNG makes a w×h PNG of one colour.
func testPNG(w, h int, c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func b64(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	return out.String() + s
}

// richMessage is a newsletter-like HTML message: a layout table holding
// a banner, a two-column table with an image and a list, a bordered data
// table, a numbered list starting at 3 with a nested list, a quote, a
// preformatted block, links and words in several scripts; plus a listed
// PDF and an image attachment that the body does not show.
func richMessage() []byte {
	html := `<html><head><style>p{color:red}</style></head><body>
<div style="display:none">Preheader nobody sees</div>
<table width="600"><tr><td><img src="cid:banner@cafe" alt="banner"></td></tr>
<tr><td><h2>Spring menu at Café Nordic</h2>
<p>Our <b>new</b> <i>seasonal</i> dishes are here. <a href="https://cafe.example/menu?a=1&amp;b=2">See the full menu</a>.</p>
<table><tr><td width="50%"><img src="cid:dish@cafe"><p>Rhubarb tart with cream</p></td>
<td><h3>Events</h3><ul><li>Jazz evening on Friday</li><li>Tasting, <a href="mailto:events@cafe.example">book a seat</a></li></ul></td></tr></table>
<table border="1"><tr><th>Dish</th><th>Price</th></tr>
<tr><td>Борщ (borscht)</td><td>6.50 €</td></tr>
<tr><td>味噌汁 (miso soup)</td><td>5.00 €</td></tr>
<tr><td colspan="2">שלום and مرحبا to every guest 🍰</td></tr></table>
<ol start="3"><li>Third step</li><li>Fourth step<ol><li>Nested first</li></ol></li></ol>
<blockquote>Quoted praise from a happy guest</blockquote>
<pre>  Opening   hours
  Mon–Fri   8–18</pre>
</td></tr></table></body></html>`
	return []byte("From: Café Nordic <news@cafe.example>\r\nTo: reader@example.org\r\nSubject: Newsletter: spring menu & events\r\n" +
		"Date: Tue, 9 Apr 2024 08:00:00 +0200\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=M\r\n\r\n" +
		"--M\r\nContent-Type: multipart/related; boundary=R\r\n\r\n" +
		"--R\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64([]byte(html)) + "\r\n" +
		"--R\r\nContent-Type: image/png\r\nContent-ID: <banner@cafe>\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		b64(testPNG(480, 80, color.RGBA{30, 90, 180, 255})) + "\r\n" +
		"--R\r\nContent-Type: image/png\r\nContent-ID: <dish@cafe>\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		b64(testPNG(160, 120, color.RGBA{200, 60, 80, 255})) + "\r\n--R--\r\n" +
		"--M\r\nContent-Type: application/pdf; name=menu.pdf\r\nContent-Disposition: attachment; filename=menu.pdf\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + b64([]byte("%PDF-1.4 not really")) + "\r\n" +
		"--M\r\nContent-Type: image/png; name=terrace.png\r\nContent-Disposition: attachment; filename=terrace.png\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + b64(testPNG(200, 100, color.RGBA{40, 160, 70, 255})) + "\r\n--M--\r\n")
}

var richWords = []string{"Newsletter: spring menu & events", "Spring menu at Café Nordic", "seasonal", "See the full menu",
	"Rhubarb tart with cream", "Jazz evening on Friday", "book a seat", "Dish", "Price", "Борщ", "味噌汁", "שלום", "مرحبا",
	"Third step", "Nested first", "Quoted praise from a happy guest", "Opening", "menu.pdf", "terrace.png"}

type docxPackage struct {
	names []string // in zip order
	parts map[string][]byte
	zip   *zip.Reader
}

func openDOCX(t *testing.T, b []byte) docxPackage {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	p := docxPackage{parts: map[string][]byte{}, zip: z}
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		p.names = append(p.names, f.Name)
		p.parts[f.Name] = data
	}
	return p
}

// wellFormed parses an XML part to its end.
func wellFormed(t *testing.T, name string, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Errorf("%s is not well-formed XML: %v", name, err)
			return
		}
	}
}

// docxText returns the text of document.xml, one line per paragraph.
func docxText(t *testing.T, doc []byte) string {
	t.Helper()
	var b strings.Builder
	d := xml.NewDecoder(bytes.NewReader(doc))
	inText := false
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			inText = tk.Name.Local == "t"
			if tk.Name.Local == "tab" || tk.Name.Local == "br" {
				b.WriteByte(' ')
			}
		case xml.EndElement:
			inText = false
			if tk.Name.Local == "p" {
				b.WriteByte('\n')
			}
		case xml.CharData:
			if inText {
				b.Write(tk)
			}
		}
	}
	return b.String()
}

type rels struct {
	Rel []struct {
		ID     string `xml:"Id,attr"`
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
		Mode   string `xml:"TargetMode,attr"`
	} `xml:"Relationship"`
}

// checkPackage asserts the OPC structure Word insists on: content types
// first and covering every part, relationships pointing at parts that
// exist, well-formed XML, fixed entry times.
func checkPackage(t *testing.T, p docxPackage) {
	t.Helper()
	if len(p.names) == 0 || p.names[0] != "[Content_Types].xml" {
		t.Fatalf("first entry %v, want [Content_Types].xml", p.names)
	}
	for i := 2; i < len(p.names); i++ {
		if p.names[i-1] >= p.names[i] {
			t.Errorf("entries not sorted: %q before %q", p.names[i-1], p.names[i])
		}
	}
	for _, f := range p.zip.File {
		if !f.Modified.Equal(zipTime) {
			t.Errorf("%s: time %v", f.Name, f.Modified)
		}
	}
	ct := string(p.parts["[Content_Types].xml"])
	for name, data := range p.parts {
		switch ext := path.Ext(name); ext {
		case ".xml", ".rels":
			wellFormed(t, name, data)
		case ".png", ".jpeg", ".gif":
			if !strings.Contains(ct, `Extension="`+ext[1:]+`"`) {
				t.Errorf("no content type for %s", name)
			}
		default:
			t.Errorf("unexpected part %s", name)
		}
		if path.Ext(name) == ".xml" && name != "[Content_Types].xml" && !strings.Contains(ct, `PartName="/`+name+`"`) {
			t.Errorf("no content type override for %s", name)
		}
	}
	for _, rp := range []string{"_rels/.rels", "word/_rels/document.xml.rels"} {
		var rs rels
		if err := xml.Unmarshal(p.parts[rp], &rs); err != nil {
			t.Fatalf("%s: %v", rp, err)
		}
		for _, r := range rs.Rel {
			if r.Mode == "External" {
				continue
			}
			target := r.Target
			if rp != "_rels/.rels" {
				target = "word/" + target
			}
			if _, ok := p.parts[target]; !ok {
				t.Errorf("%s: %s points to missing %s", rp, r.ID, target)
			}
		}
	}
}

func TestDOCXCorpus(t *testing.T) {
	for name, raw := range readCorpus(t) {
		t.Run(name, func(t *testing.T) {
			want := corpus[name]
			p := openDOCX(t, renderDOCX(t, raw))
			checkPackage(t, p)
			text := norm1(docxText(t, p.parts["word/document.xml"]))
			for _, s := range append([]string{want.subject, want.snippet}, want.atts...) {
				if !strings.Contains(text, norm1(s)) {
					t.Errorf("docx lacks %q in:\n%s", s, text)
				}
			}
			if want.subject != "" && !strings.Contains(string(p.parts["docProps/core.xml"]), "<dc:title>"+xmlString(want.subject)+"</dc:title>") {
				t.Errorf("core.xml lacks the title:\n%s", p.parts["docProps/core.xml"])
			}
		})
	}
}

func TestDOCXStructure(t *testing.T) {
	p := openDOCX(t, renderDOCX(t, richMessage()))
	checkPackage(t, p)
	doc := string(p.parts["word/document.xml"])
	text := docxText(t, p.parts["word/document.xml"])
	for _, w := range richWords {
		if !strings.Contains(text, w) {
			t.Errorf("docx lacks %q", w)
		}
	}
	if strings.Contains(text, "Preheader") {
		t.Error("hidden preheader shown")
	}
	for what, s := range map[string]string{
		"heading":              `<w:pStyle w:val="Heading2"/>`,
		"bold":                 `<w:b/><w:bCs/></w:rPr><w:t xml:space="preserve">new</w:t>`,
		"italic":               `<w:i/><w:iCs/></w:rPr><w:t xml:space="preserve">seasonal</w:t>`,
		"bullet list":          `<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>`,
		"numbered list":        `<w:numPr><w:ilvl w:val="0"/><w:numId w:val="2"/></w:numPr>`,
		"nested numbered list": `<w:numPr><w:ilvl w:val="1"/><w:numId w:val="3"/></w:numPr>`,
		"preformatted":         `<w:pStyle w:val="Preformatted"/>`,
		"quote bar":            `<w:left w:val="single"`,
		"bordered table":       `<w:top w:val="single" w:sz="4"`,
		"colspan":              `<w:gridSpan w:val="2"/>`,
		"hyperlink":            `<w:hyperlink r:id="rIdL1"><w:r><w:rPr><w:rStyle w:val="Hyperlink"/></w:rPr><w:t xml:space="preserve">See the full menu`,
	} {
		if !strings.Contains(doc, s) {
			t.Errorf("no %s (%s)", what, s)
		}
	}
	// The two-column table and the data table; the layout table of one
	// column around them is unwrapped.
	if n := strings.Count(doc, "<w:tbl>"); n != 2 {
		t.Errorf("%d tables, want 2 (the one-column layout table unwrapped)", n)
	}
	if !strings.Contains(string(p.parts["word/numbering.xml"]), `<w:num w:numId="2"><w:abstractNumId w:val="1"/><w:lvlOverride w:ilvl="0"><w:startOverride w:val="3"/>`) {
		t.Error("numbered list does not start at 3")
	}
	rel := string(p.parts["word/_rels/document.xml.rels"])
	for _, s := range []string{`Target="https://cafe.example/menu?a=1&amp;b=2" TargetMode="External"`, `Target="mailto:events@cafe.example" TargetMode="External"`} {
		if !strings.Contains(rel, s) {
			t.Errorf("relationships lack %s:\n%s", s, rel)
		}
	}
	// The banner, the dish and the terrace attachment, each once.
	var media []string
	for _, n := range p.names {
		if strings.HasPrefix(n, "word/media/") {
			media = append(media, n)
			if imageType(p.parts[n]) != "png" {
				t.Errorf("%s is not a PNG", n)
			}
		}
	}
	if len(media) != 3 || strings.Count(doc, "<w:drawing>") != 3 {
		t.Errorf("media %v and %d drawings, want 3 of each", media, strings.Count(doc, "<w:drawing>"))
	}
}

func TestDOCXImages(t *testing.T) {
	p := openDOCX(t, renderDOCX(t, readCorpus(t)["inline-images.eml"]))
	doc := string(p.parts["word/document.xml"])
	if p.parts["word/media/image1.jpeg"] == nil || p.parts["word/media/image2.png"] == nil {
		t.Errorf("media parts %v, want image1.jpeg and image2.png", p.names)
	}
	// Shown in place, listed, and not shown a second time after the list.
	if n := strings.Count(doc, "<w:drawing>"); n != 2 {
		t.Errorf("%d drawings, want 2", n)
	}
	// 320×200 px at 96 dpi: 3048000×1905000 EMU.
	if !strings.Contains(doc, `<wp:extent cx="3048000" cy="1905000"/>`) {
		t.Error("view.jpg not at 96 dpi")
	}
}

func TestDOCXDeterministic(t *testing.T) {
	msgs := readCorpus(t)
	msgs["rich"] = richMessage()
	for name, raw := range msgs {
		if !bytes.Equal(renderDOCX(t, raw), renderDOCX(t, raw)) {
			t.Errorf("%s: docx differs between two renders", name)
		}
	}
}

func TestDOCXHostileText(t *testing.T) {
	raw := []byte("Subject: a\x01b <x> & \"q\"\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		"<p>nul\x00 esc\x1b ff\x0c \xff\xfe bad</p><a href=\"http://[::1\">broken</a> <a href=\"https://ok.example/a b\">space</a>")
	p := openDOCX(t, renderDOCX(t, raw))
	checkPackage(t, p)
	text := docxText(t, p.parts["word/document.xml"])
	for _, s := range []string{"ab <x> & \"q\"", "nul", "broken", "space"} {
		if !strings.Contains(text, s) {
			t.Errorf("lacks %q in %q", s, text)
		}
	}
	if rel := string(p.parts["word/_rels/document.xml.rels"]); strings.Contains(rel, "[::1") || !strings.Contains(rel, "https://ok.example/a%20b") {
		t.Errorf("link targets not cleaned:\n%s", rel)
	}
}

func TestDOCXWriteError(t *testing.T) {
	if err := DOCX(readCorpus(t)["plain.eml"], failWriter{}); err == nil {
		t.Error("write error not returned")
	}
}

// FuzzDOCX: whatever the message, the .docx is a zip whose parts are
// well-formed XML with their content types and relationships in place.
func FuzzDOCX(f *testing.F) {
	for _, raw := range readCorpus(f) {
		if len(raw) < 64<<10 {
			f.Add(raw)
		}
	}
	f.Add(richMessage())
	f.Fuzz(func(t *testing.T, raw []byte) {
		var b bytes.Buffer
		if err := buildDOCX(&b, parse, raw); err != nil {
			t.Fatal(err)
		}
		checkPackage(t, openDOCX(t, b.Bytes()))
	})
}
