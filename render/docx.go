package render

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/bidi"
)

// DOCX writes the .docx view of raw: an Office Open XML document with the
// header block (Subject as title), the body as the PDF shows it (the HTML
// alternative converted to blocks, tables kept as tables, else the plain
// text), inline images, attached messages in a framed box, and the
// attachment list with image attachments shown after it. Attachments are
// listed, not embedded. It fails only when w does or on an internal error.
func DOCX(raw []byte, w io.Writer) error {
	var b bytes.Buffer
	err := buildDOCX(&b, parse, raw)
	if err != nil {
		// Last resort: the raw source as text.
		b.Reset()
		err = buildDOCX(&b, func(raw []byte) *message {
			return &message{body: []node{{kind: nRaw, text: rawText(raw)}}, cids: map[string]*attachment{}}
		}, raw)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(b.Bytes())
	return err
}

func buildDOCX(w io.Writer, parseFn func([]byte) *message, raw []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("render: docx: %v", r)
		}
	}()
	m := parseFn(raw)
	d := &docxDoc{width: docxTextWidth, images: map[*attachment]docxImage{}, links: map[string]string{}}
	d.body.Grow(4096)
	d.message(m)
	return writeZip(w, d.parts(m.hdr))
}

// Lengths in the document are in twips (1/20 pt, 1/1440 inch); images in
// EMU (914400 per inch, 635 per twip).
const (
	docxPageW, docxPageH = 11906, 16838 // A4
	docxMarginX          = 1020         // 18 mm, as the PDF
	docxMarginY          = 964
	docxTextWidth        = docxPageW - 2*docxMarginX
	listIndent           = 340 // per list level (6 mm)
	quoteIndent          = 255 // per quote level (4.5 mm)
	cellMargin           = 108 // left and right inside a table cell
)

// docxDoc is the state of one document being written.
type docxDoc struct {
	body   bytes.Buffer // the children of w:body
	width  int          // width of the current column, twips
	rels   []docxRel    // of word/document.xml, beyond the fixed ones
	media  []docxPart
	images map[*attachment]docxImage
	links  map[string]string // link target to relationship id
	ids    int               // drawing ids
	// Numbered lists: one numbering instance per list, so each starts at
	// its own number. starts[i] is instance i+2's first number; listNum
	// and listNext hold, per level, the current instance and its next
	// number.
	starts   []int
	listNum  [9]int
	listNext [9]int
}

type docxImage struct {
	rel   string // relationship id, "" when the image cannot be shown
	w, h  int    // pixels
	shown bool   // drawn already
}

func (d *docxDoc) parts(h header) []docxPart {
	rels := append([]docxRel{
		{"rIdStyles", relNS + "styles", "styles.xml", false},
		{"rIdSettings", relNS + "settings", "settings.xml", false},
		{"rIdNumbering", relNS + "numbering", "numbering.xml", false},
	}, d.rels...)
	var doc bytes.Buffer
	doc.Grow(d.body.Len() + 1024)
	doc.WriteString(xmlHd + `<w:document xmlns:w="` + nsW + `" xmlns:r="` + nsR + `"` +
		` xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"` +
		` xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"` +
		` xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><w:body>`)
	doc.Write(d.body.Bytes())
	fmt.Fprintf(&doc, `<w:sectPr><w:pgSz w:w="%d" w:h="%d"/><w:pgMar w:top="%d" w:right="%d" w:bottom="%d" w:left="%d"`+
		` w:header="567" w:footer="567" w:gutter="0"/></w:sectPr></w:body></w:document>`,
		docxPageW, docxPageH, docxMarginY, docxMarginX, docxMarginY, docxMarginX)
	return append([]docxPart{
		{"_rels/.rels", packageRels},
		{"docProps/app.xml", appProps},
		{"docProps/core.xml", coreProps(h)},
		{"word/_rels/document.xml.rels", relationships(rels)},
		{"word/document.xml", doc.Bytes()},
		{"word/numbering.xml", numberingXML(d.starts)},
		{"word/settings.xml", settingsXML},
		{"word/styles.xml", stylesXML},
	}, d.media...)
}

func (d *docxDoc) message(m *message) {
	showMessage(d, m, "in the .eml file")
}

func (d *docxDoc) inlineImage(a *attachment) { d.imagePara(a, pPr{}) }

// pPr are the paragraph properties docx.go uses.
type pPr struct {
	style         string // paragraph style id
	numID, level  int    // list instance (0: none) and level
	left, hang    int    // indent, twips
	before, after int    // space before and after, twips
	barColor      string // left border colour (quotes, notes)
	fill          string // background colour
	bottomRule    bool   // a line below (header block, <hr>)
	keepNext      bool
	rtl           bool
}

func (d *docxDoc) startPara(p pPr) {
	b := &d.body
	if p == (pPr{}) {
		b.WriteString(`<w:p>`)
		return
	}
	b.WriteString(`<w:p><w:pPr>`)
	if p.style != "" {
		b.WriteString(`<w:pStyle w:val="` + p.style + `"/>`)
	}
	if p.keepNext {
		b.WriteString(`<w:keepNext/>`)
	}
	if p.numID != 0 {
		fmt.Fprintf(b, `<w:numPr><w:ilvl w:val="%d"/><w:numId w:val="%d"/></w:numPr>`, p.level, p.numID)
	}
	if p.barColor != "" || p.bottomRule {
		b.WriteString(`<w:pBdr>`)
		if p.barColor != "" {
			b.WriteString(`<w:left w:val="single" w:sz="18" w:space="8" w:color="` + p.barColor + `"/>`)
		}
		if p.bottomRule {
			b.WriteString(`<w:bottom w:val="single" w:sz="4" w:space="4" w:color="BEC2C8"/>`)
		}
		b.WriteString(`</w:pBdr>`)
	}
	if p.fill != "" {
		b.WriteString(`<w:shd w:val="clear" w:color="auto" w:fill="` + p.fill + `"/>`)
	}
	if p.rtl {
		b.WriteString(`<w:bidi/>`)
	}
	if p.before != 0 || p.after != 0 {
		b.WriteString(`<w:spacing`)
		if p.before != 0 {
			b.WriteString(` w:before="` + strconv.Itoa(p.before) + `"`)
		}
		if p.after != 0 {
			b.WriteString(` w:after="` + strconv.Itoa(p.after) + `"`)
		}
		b.WriteString(`/>`)
	}
	if p.left != 0 || p.hang != 0 {
		fmt.Fprintf(b, `<w:ind w:left="%d" w:hanging="%d"/>`, p.left, p.hang)
	}
	b.WriteString(`</w:pPr>`)
}

func (d *docxDoc) endPara() { d.body.WriteString(`</w:p>`) }

// rPr are the run properties docx.go uses.
type rPr struct {
	link, bold, italic, mono bool // link: the Hyperlink character style
	color                    string
	size                     int // half-points, 0: the style's
}

// run writes text as runs: "\n" becomes a line break, "\t" a tab.
// Emoji get a run of their own that names an emoji font, which Word on
// Windows has and for which LibreOffice finds a fallback (without it,
// LibreOffice draws an emoji ending a right-to-left line as a box).
func (d *docxDoc) run(s string, r rPr) {
	for s != "" {
		i, emoji := 0, isEmoji(firstRune(s))
		for i < len(s) {
			c, n := utf8.DecodeRuneInString(s[i:])
			if isEmoji(c) != emoji && !(emoji && (c == 0x200D || c == 0xFE0F)) {
				break
			}
			i += n
		}
		d.oneRun(s[:i], r, emoji)
		s = s[i:]
	}
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// isEmoji: the pictographic planes and the Miscellaneous Symbols and
// Dingbats blocks.
func isEmoji(r rune) bool {
	return r >= 0x1F000 && r <= 0x1FAFF || r >= 0x2600 && r <= 0x27BF
}

func (d *docxDoc) oneRun(s string, r rPr, emoji bool) {
	b := &d.body
	b.WriteString(`<w:r>`)
	if r != (rPr{}) || emoji {
		b.WriteString(`<w:rPr>`)
		if r.link {
			b.WriteString(`<w:rStyle w:val="Hyperlink"/>`)
		}
		switch {
		case emoji:
			b.WriteString(`<w:rFonts w:ascii="Segoe UI Emoji" w:hAnsi="Segoe UI Emoji" w:eastAsia="Segoe UI Emoji" w:cs="Segoe UI Emoji"/>`)
		case r.mono:
			b.WriteString(`<w:rFonts w:ascii="Courier New" w:hAnsi="Courier New" w:cs="Courier New"/>`)
		}
		if r.bold {
			b.WriteString(`<w:b/><w:bCs/>`)
		}
		if r.italic {
			b.WriteString(`<w:i/><w:iCs/>`)
		}
		if r.color != "" {
			b.WriteString(`<w:color w:val="` + r.color + `"/>`)
		}
		if r.size != 0 {
			fmt.Fprintf(b, `<w:sz w:val="%d"/><w:szCs w:val="%d"/>`, r.size, r.size)
		}
		b.WriteString(`</w:rPr>`)
	}
	for s != "" {
		i := strings.IndexAny(s, "\n\t")
		t := s
		if i >= 0 {
			t = s[:i]
		}
		if t != "" {
			b.WriteString(`<w:t xml:space="preserve">`)
			writeXML(b, t)
			b.WriteString(`</w:t>`)
		}
		if i < 0 {
			break
		}
		if s[i] == '\n' {
			b.WriteString(`<w:br/>`)
		} else {
			b.WriteString(`<w:tab/>`)
		}
		s = s[i+1:]
	}
	b.WriteString(`</w:r>`)
}

// spans writes styled spans; a run of spans with one target is one
// hyperlink.
func (d *docxDoc) spans(ss []span, base rPr) {
	for i := 0; i < len(ss); {
		j := i + 1
		for j < len(ss) && ss[j].href == ss[i].href {
			j++
		}
		rel := ""
		if ss[i].href != "" {
			rel = d.link(ss[i].href)
		}
		if rel != "" {
			d.body.WriteString(`<w:hyperlink r:id="` + rel + `">`)
		}
		for _, s := range ss[i:j] {
			r := base
			r.bold = r.bold || s.bold
			r.italic = r.italic || s.italic
			r.link = rel != ""
			d.run(s.text, r)
		}
		if rel != "" {
			d.body.WriteString(`</w:hyperlink>`)
		}
		i = j
	}
}

// link returns the relationship id of an external link target, or "" for
// a target Word would reject (not a URL, or longer than Word accepts).
func (d *docxDoc) link(href string) string {
	if id, ok := d.links[href]; ok {
		return id
	}
	id := ""
	if u, err := url.Parse(href); err == nil && len(href) < 2000 {
		id = "rIdL" + strconv.Itoa(len(d.links)+1)
		d.rels = append(d.rels, docxRel{id, relNS + "hyperlink", u.String(), true})
	}
	d.links[href] = id
	return id
}

// rtlText reports text whose first strong character is right-to-left,
// which then sets the paragraph's direction (as dir=auto in HTML).
func rtlText(ss []span) bool {
	for _, s := range ss {
		for _, r := range s.text {
			p, _ := bidi.LookupRune(r)
			switch p.Class() {
			case bidi.L:
				return false
			case bidi.R, bidi.AL:
				return true
			}
		}
	}
	return false
}

func (d *docxDoc) headerBlock(h header) {
	subject, cutSubject := shortenField(h.Subject)
	if subject == "" {
		subject = "(no subject)"
	}
	title := []span{{text: subject}}
	d.startPara(pPr{style: "Title", rtl: rtlText(title)})
	d.spans(title, rPr{})
	d.endPara()
	const tab = 1000 // label column, twips
	// Fields too long for the page are shortened as in the PDF.
	shortened := func(label, full string, left int) {
		d.startPara(pPr{left: left})
		d.run(shortenedNote(label, full, "the message's .eml file"), rPr{color: "5F6368", size: 16})
		d.endPara()
	}
	if cutSubject {
		shortened("Subject", h.Subject, 0)
	}
	for _, f := range headerFields(h) {
		if f.label == "Subject" {
			continue
		}
		v, cut := shortenField(f.value)
		d.startPara(pPr{left: tab, hang: tab})
		d.run(f.label+"\t", rPr{bold: true, color: "5F6368", size: 18})
		d.run(v, rPr{size: 19})
		d.endPara()
		if cut {
			shortened(f.label, f.value, tab)
		}
	}
	d.startPara(pPr{bottomRule: true, after: 200})
	d.endPara()
}

// blocks writes the blocks of a body.
func (d *docxDoc) blocks(bs []block) {
	for _, b := range bs {
		if b.indent == 0 {
			d.listNum = [9]int{}
		}
		p := pPr{left: min(b.indent, 9)*listIndent + min(b.quote, 8)*quoteIndent}
		var r rPr
		if b.quote > 0 {
			p.barColor, r.color = "BEC2C8", "3C5A7D"
		}
		if b.space {
			p.after = 140
		}
		switch b.kind {
		case bRule:
			p.bottomRule = true
			d.startPara(p)
			d.endPara()
		case bImage:
			d.imagePara(b.img, p)
		case bTable:
			d.table(b, p.left)
		case bHeading:
			p.style = "Heading" + strconv.Itoa(min(max(b.level, 1), 6))
			p.rtl = rtlText(b.spans)
			d.startPara(p)
			d.spans(b.spans, r)
			d.endPara()
		default:
			if b.kind == bPre {
				p.style = "Preformatted"
			}
			if b.bullet != "" {
				p.numID, p.level = d.listItem(b.bullet, min(max(b.indent, 1), 9)-1)
				p.hang = listIndent
			}
			p.rtl = rtlText(b.spans)
			d.startPara(p)
			d.spans(b.spans, r)
			d.endPara()
		}
	}
}

// listItem returns the numbering instance and level of a list item whose
// marker is bullet ("•" or "12.").
func (d *docxDoc) listItem(bullet string, level int) (int, int) {
	n, err := strconv.Atoi(strings.TrimSuffix(bullet, "."))
	if err != nil || !strings.HasSuffix(bullet, ".") {
		return 1, level
	}
	if d.listNum[level] == 0 || n != d.listNext[level] {
		d.starts = append(d.starts, n)
		d.listNum[level] = len(d.starts) + 1
	}
	d.listNext[level] = n + 1
	return d.listNum[level], level
}

// table writes a bTable block: columns of equal width across the column
// the table stands in, cells holding blocks.
func (d *docxDoc) table(t block, indent int) {
	cols := 0
	for _, r := range t.rows {
		n := 0
		for _, c := range r {
			n += c.span
		}
		cols = max(cols, n)
	}
	cols = min(cols, maxTableCols)
	width := max(d.width-indent, cols*400)
	colW := width / cols
	border := "none"
	if t.border {
		border = "single"
	}
	b := &d.body
	fmt.Fprintf(b, `<w:tbl><w:tblPr><w:tblW w:w="%d" w:type="dxa"/><w:tblInd w:w="%d" w:type="dxa"/><w:tblBorders>`, width, indent)
	for _, side := range []string{"top", "left", "bottom", "right", "insideH", "insideV"} {
		fmt.Fprintf(b, `<w:%s w:val="%s" w:sz="4" w:space="0" w:color="B0B4BA"/>`, side, border)
	}
	b.WriteString(`</w:tblBorders><w:tblLayout w:type="fixed"/><w:tblCellMar><w:top w:w="40" w:type="dxa"/>` +
		`<w:bottom w:w="40" w:type="dxa"/></w:tblCellMar><w:tblLook w:val="0000"/></w:tblPr><w:tblGrid>`)
	for i := 0; i < cols; i++ {
		fmt.Fprintf(b, `<w:gridCol w:w="%d"/>`, colW)
	}
	b.WriteString(`</w:tblGrid>`)
	saved, savedList := d.width, d.listNum
	for _, r := range t.rows {
		b.WriteString(`<w:tr>`)
		used := 0
		for _, c := range r {
			span := min(c.span, cols-used)
			if span <= 0 {
				break
			}
			used += span
			d.cell(c.blocks, span, colW)
		}
		for ; used < cols; used++ {
			d.cell(nil, 1, colW)
		}
		b.WriteString(`</w:tr>`)
	}
	d.width, d.listNum = saved, savedList
	b.WriteString(`</w:tbl>`)
	// A paragraph after the table keeps it apart from a following one.
	d.startPara(pPr{after: 60})
	d.endPara()
}

// cell writes one table cell; Word wants each cell to end in a paragraph.
func (d *docxDoc) cell(bs []block, span, colW int) {
	fmt.Fprintf(&d.body, `<w:tc><w:tcPr><w:tcW w:w="%d" w:type="dxa"/>`, span*colW)
	if span > 1 {
		fmt.Fprintf(&d.body, `<w:gridSpan w:val="%d"/>`, span)
	}
	d.body.WriteString(`</w:tcPr>`)
	d.width = span*colW - 2*cellMargin
	d.listNum = [9]int{}
	d.blocks(bs)
	if !bytes.HasSuffix(d.body.Bytes(), []byte(`</w:p>`)) {
		d.startPara(pPr{})
		d.endPara()
	}
	d.body.WriteString(`</w:tc>`)
}

func (d *docxDoc) note(text string) {
	d.startPara(pPr{barColor: "E0A800", fill: "FFF8E1", left: 170, after: 160})
	d.spans(linkify(text), rPr{})
	d.endPara()
}

// nested writes an attached message inside a framed one-cell table.
func (d *docxDoc) nested(m *message) {
	saved, savedList := d.width, d.listNum
	fmt.Fprintf(&d.body, `<w:tbl><w:tblPr><w:tblW w:w="%d" w:type="dxa"/><w:tblBorders>`, d.width)
	for _, side := range []string{"top", "left", "bottom", "right"} {
		fmt.Fprintf(&d.body, `<w:%s w:val="single" w:sz="6" w:space="0" w:color="D9DCE1"/>`, side)
	}
	fmt.Fprintf(&d.body, `</w:tblBorders><w:tblLayout w:type="fixed"/><w:tblCellMar><w:top w:w="120" w:type="dxa"/>`+
		`<w:left w:w="200" w:type="dxa"/><w:bottom w:w="120" w:type="dxa"/><w:right w:w="200" w:type="dxa"/></w:tblCellMar>`+
		`<w:tblLook w:val="0000"/></w:tblPr><w:tblGrid><w:gridCol w:w="%d"/></w:tblGrid><w:tr><w:tc>`+
		`<w:tcPr><w:tcW w:w="%d" w:type="dxa"/><w:shd w:val="clear" w:color="auto" w:fill="FAFAFB"/></w:tcPr>`, d.width, d.width)
	d.width -= 400
	d.listNum = [9]int{}
	d.startPara(pPr{after: 60})
	d.run("ATTACHED MESSAGE", rPr{bold: true, color: "5F6368", size: 16})
	d.endPara()
	d.message(m)
	d.startPara(pPr{})
	d.endPara()
	d.body.WriteString(`</w:tc></w:tr></w:tbl>`)
	d.width, d.listNum = saved, savedList
	d.startPara(pPr{after: 120})
	d.endPara()
}

// attachmentList names each attachment with its type and size, then shows
// the image attachments, as a mail client does below a message.
func (d *docxDoc) attachmentList(atts []*attachment) {
	if len(atts) == 0 {
		return
	}
	d.startPara(pPr{keepNext: true, before: 160, after: 60})
	d.run("Attachments ("+strconv.Itoa(len(atts))+")", rPr{bold: true, size: 23})
	d.endPara()
	for _, a := range atts {
		d.startPara(pPr{numID: 1, left: listIndent, hang: listIndent})
		d.run(a.name, rPr{bold: true})
		d.run("   "+a.ctype+", "+formatSize(len(a.data)), rPr{color: "5F6368"})
		d.endPara()
	}
	for _, a := range atts {
		if strings.HasPrefix(a.ctype, "image/") && imageType(a.data) != "" && !d.images[a].shown && d.image(a).rel != "" {
			d.startPara(pPr{keepNext: true})
			d.run(a.name, rPr{color: "5F6368", size: 17})
			d.endPara()
			d.imagePara(a, pPr{after: 120})
		}
	}
}

// image adds an image's media part once: PNG, JPEG and GIF as they are,
// other formats Go can decode (WebP) converted to PNG.
func (d *docxDoc) image(a *attachment) docxImage {
	if im, ok := d.images[a]; ok {
		return im
	}
	var im docxImage
	defer func() { d.images[a] = im }()
	cfg, _, err := image.DecodeConfig(bytes.NewReader(a.data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > 40_000_000 {
		return im
	}
	data, ext := a.data, imageType(a.data)
	if ext != "png" && ext != "jpeg" && ext != "gif" {
		if data, ext = toPNG(a.data), "png"; data == nil {
			return im
		}
	}
	n := strconv.Itoa(len(d.media) + 1)
	im = docxImage{rel: "rIdI" + n, w: cfg.Width, h: cfg.Height}
	d.media = append(d.media, docxPart{"word/media/image" + n + "." + ext, data})
	d.rels = append(d.rels, docxRel{im.rel, relNS + "image", "media/image" + n + "." + ext, false})
	return im
}

// imagePara shows an image in its own paragraph at 96 dpi, scaled down to
// the column and the page; an image that cannot be shown leaves its name,
// one smaller than a millimetre (a tracking pixel) nothing.
func (d *docxDoc) imagePara(a *attachment, p pPr) {
	im := d.image(a)
	if im.rel == "" {
		d.startPara(p)
		d.run("[image: "+a.name+"]", rPr{color: "5F6368", size: 18})
		d.endPara()
		return
	}
	const emuPx = 9525 // at 96 dpi
	w, h := im.w*emuPx, im.h*emuPx
	if maxW := (d.width - p.left) * 635; w > maxW {
		w, h = maxW, int(int64(h)*int64(maxW)/int64(w))
	}
	if maxH := (docxPageH - 2*docxMarginY - 600) * 635; h > maxH {
		w, h = int(int64(w)*int64(maxH)/int64(h)), maxH
	}
	if w < 36000 || h < 36000 {
		return
	}
	im.shown = true
	d.images[a] = im
	d.ids++
	id := strconv.Itoa(d.ids)
	d.startPara(p)
	b := &d.body
	fmt.Fprintf(b, `<w:r><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0"><wp:extent cx="%d" cy="%d"/>`+
		`<wp:docPr id="%s" name="Picture %s" descr="`, w, h, id, id)
	writeXML(b, a.name)
	fmt.Fprintf(b, `"/><wp:cNvGraphicFramePr><a:graphicFrameLocks noChangeAspect="1"/></wp:cNvGraphicFramePr>`+
		`<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic>`+
		`<pic:nvPicPr><pic:cNvPr id="%s" name="`, id)
	writeXML(b, a.name)
	fmt.Fprintf(b, `"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip r:embed="%s"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>`+
		`<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="%d" cy="%d"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr>`+
		`</pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>`, im.rel, w, h)
	d.endPara()
}
