package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
)

const (
	pageW, pageH                       = 210.0, 297.0 // A4, mm
	marginL, marginR, marginT, marginB = 18.0, 18.0, 16.0, 18.0
	emlName                            = "message.eml"
)

var (
	grayText   = [3]int{95, 99, 104}
	quoteColor = [3]int{60, 90, 125}
	barGray    = [3]int{190, 194, 200}
	barAmber   = [3]int{224, 168, 0}
)

// PDF writes the .pdf view of raw: the header block, the body (the HTML
// alternative converted to formatted text, else the plain text), inline
// images, attached messages and the attachment list, with the original
// message and every attachment embedded as PDF file attachments. It fails
// only when w does or on an internal error.
func PDF(raw []byte, w io.Writer, opt Options) error {
	out, err := buildPDF(parse, raw, opt)
	if err != nil {
		// Last resort: the raw source as text, still with the .eml embedded.
		out, err = buildPDF(func(raw []byte) *message {
			return &message{body: []node{{kind: nRaw, text: rawText(raw)}}, cids: map[string]*attachment{}}
		}, raw, Options{})
	}
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

func buildPDF(parseFn func([]byte) *message, raw []byte, opt Options) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("render: pdf: %v", r)
		}
	}()
	m := parseFn(raw)
	d := newPDFDoc(m, raw, opt)
	d.message(m)
	d.endNote()
	var b bytes.Buffer
	if err := d.f.Output(&b); err != nil {
		return nil, fmt.Errorf("render: pdf: %w", err)
	}
	if b.Len() == 0 {
		return nil, errors.New("render: pdf: empty output")
	}
	a := &pdfArchive{title: metaText(m.hdr.Subject), author: metaText(m.hdr.From), date: d.date,
		files: d.files, fonts: map[string]string{}, toUnicode: map[string]map[uint16]string{}}
	for f, m := range d.toUnicode {
		a.toUnicode["utf8"+strings.ToLower(f.family)+f.style] = m
	}
	for f, ok := range d.added {
		if ok {
			a.fonts["utf8"+strings.ToLower(f.family)+f.style] = f.psName
		}
	}
	return a.write(b.Bytes())
}

// pdfDoc is the state of one PDF being laid out.
type pdfDoc struct {
	f         *fpdf.Fpdf
	opt       Options
	reg, bold *face
	extras    []*face // from opt.ExtraFonts, parsed when a rune needs them
	m         *message
	runes     map[rune]bool // docRunes(m), gathered when an extra face is first used
	loaded    bool
	added     map[*face]bool // registered with fpdf (false: fpdf refused it)
	y         float64        // current vertical position
	left      float64        // left edge of the current column
	right     float64
	bars      []bar  // vertical bars drawn beside each line (quotes, notes, nested messages)
	fills     []fill // table cell backgrounds around the current position, innermost last
	// The font and colour last set, to not repeat them in the page content.
	curFace  *face
	curSize  float64
	curLines string // fpdf's "U" and "S" styles
	curColor [3]int
	imgs     map[*attachment]pdfImage
	shown    map[*attachment]bool // images drawn on the pages
	// toUnicode: per face, the codes drawn that stand for other text
	// (pdfArchive.toUnicode).
	toUnicode map[*face]map[uint16]string
	date      time.Time // of the document: the message's Date
	// The embedded files: the .eml, then every attachment and attached
	// message, and the names under which the pages show them.
	files    []pdfFile
	attNames map[*attachment]string
	msgNames map[*message]string
}

type bar struct {
	x     float64
	color [3]int
}

// fill is the background of a table cell from x0 to x1 mm.
type fill struct {
	x0, x1 float64
	color  [3]int
}

func newPDFDoc(m *message, raw []byte, opt Options) *pdfDoc {
	reg, bold := bundled()
	f := fpdf.New("P", "mm", "A4", "")
	d := &pdfDoc{f: f, opt: opt, m: m, reg: reg, bold: bold, added: map[*face]bool{},
		left: marginL, right: pageW - marginR, imgs: map[*attachment]pdfImage{}, shown: map[*attachment]bool{}, toUnicode: map[*face]map[uint16]string{}}
	// Fixed dates: the message date, or a constant, never the clock. The
	// archival pass writes the metadata itself (pdfa.go).
	d.date = m.hdr.date
	if d.date.IsZero() {
		d.date = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	f.SetCreationDate(d.date)
	f.SetModificationDate(d.date)
	f.SetCatalogSort(true)
	f.SetCompression(false) // the archival pass deflates the pages (pdfa.go)
	f.SetMargins(marginL, marginT, marginR)
	f.SetAutoPageBreak(false, 0)
	f.SetCellMargin(0)
	f.SetFooterFunc(func() {
		f.SetFont(reg.family, "", 8)
		f.SetTextColor(grayText[0], grayText[1], grayText[2])
		f.SetXY(marginL, pageH-12)
		f.CellFormat(pageW-marginL-marginR, 4, strconv.Itoa(f.PageNo()), "", 0, "C", false, 0, "")
	})
	d.use(reg)
	d.use(bold)
	d.embed(m, raw)
	d.newPage()
	return d
}

// embed lists the files the PDF carries: the message itself, then each
// attached message (as its own .eml) and each attachment in the order the
// pages show them, under names unique in the PDF.
func (d *pdfDoc) embed(m *message, raw []byte) {
	d.attNames, d.msgNames = map[*attachment]string{}, map[*message]string{}
	seen := map[string]bool{}
	add := func(name, desc, mime, rel string, data []byte) string {
		name = uniqueName(name, seen)
		d.files = append(d.files, pdfFile{name: name, desc: metaText(desc), mime: mime, rel: rel, data: data})
		return name
	}
	add(emlName, "The original message", "message/rfc822", "Source", raw)
	var walk func(*message)
	walk = func(m *message) {
		walkMessages(m.body, func(fw *message) {
			d.msgNames[fw] = add(forwardName(fw), "Attached message", "message/rfc822", "Data", fw.raw)
			walk(fw)
		})
		for _, a := range m.atts {
			d.attNames[a] = add(a.name, a.ctype, a.ctype, "Data", a.data)
		}
	}
	walk(m)
}

// forwardName names the .eml of an attached message: its part's file
// name, else its subject.
func forwardName(m *message) string {
	if m.name != "" {
		return m.name
	}
	s := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) {
			return '-'
		}
		return r
	}, metaText(m.hdr.Subject))
	if s == "" {
		s = "attached message"
	}
	return s + ".eml"
}

// uniqueName makes name safe as an embedded file's name (no control or
// bidi override characters, at most maxFileName runes) and distinct from
// the names in seen, ignoring case: "a.pdf", "a (2).pdf", "a (3).pdf".
func uniqueName(name string, seen map[string]bool) string {
	name = metaText(name)
	if name == "" {
		name = "attachment"
	}
	stem, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && len(name)-i <= 16 {
		stem, ext = name[:i], name[i:]
	}
	if rs := []rune(stem); len(rs) > maxFileName {
		stem = string(rs[:maxFileName]) + "…"
	}
	name = stem + ext
	for n := 2; seen[strings.ToLower(name)]; n++ {
		name = stem + " (" + strconv.Itoa(n) + ")" + ext
	}
	seen[strings.ToLower(name)] = true
	return name
}

const maxFileName = 200

// walkMessages calls fn for each attached message among nodes.
func walkMessages(ns []node, fn func(*message)) {
	for _, n := range ns {
		switch n.kind {
		case nMessage:
			fn(n.msg)
		case nAlt:
			for _, a := range n.alts {
				walkMessages(a, fn)
			}
		}
	}
}

// newPage goes on to the next page: a new one, or the next of those a
// table row's earlier cell flowed onto (pdftable.go).
func (d *pdfDoc) newPage() {
	if n := d.f.PageNo(); n < d.f.PageCount() {
		d.toPage(n + 1)
	} else {
		d.f.AddPage()
		d.curFace, d.curColor = nil, [3]int{-1, -1, -1}
	}
	d.y = marginT
}

// need starts a new page unless h mm fit below the current position.
func (d *pdfDoc) need(h float64) {
	if d.y+h > pageH-marginB {
		d.newPage()
	}
}

// use registers a face with fpdf on first use; false if fpdf refused it.
func (d *pdfDoc) use(f *face) (ok bool) {
	if ok, seen := d.added[f]; seen {
		return ok
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
		if !ok {
			d.f.ClearError()
		}
		d.added[f] = ok
	}()
	// fpdf writes into the font bytes it is given (reading the metrics of
	// glyphs past hhea's numberOfHMetrics, it appends to a slice of them),
	// so it gets a copy: the shared font stays intact, and the output
	// deterministic, whatever other renders ran or run at the same time.
	// An extra font's copy has a cmap of this message's characters only
	// (fontsubset.go).
	ttf := f.ttf
	if f.has == nil {
		if d.runes == nil {
			d.runes = docRunes(d.m)
		}
		ttf = f.subsetFont(d.runes)
	} else {
		ttf = bytes.Clone(ttf)
	}
	d.f.AddUTF8FontFromBytes(f.family, f.style, ttf)
	return !d.f.Err()
}

// faceFor picks the face that draws r in style sp: the bundled face of
// that style, else Go Regular, else the first extra font that has it (for
// a character above U+FFFF the one with most such characters); nil when
// none does.
func (d *pdfDoc) faceFor(r rune, sp span) *face {
	if f := variant(sp.bold, sp.italic, sp.mono); f.covers(r) {
		return f
	}
	if d.reg.covers(r) {
		return d.reg
	}
	if r < 0x80 {
		return nil
	}
	if !d.loaded {
		d.loaded = true
		for i, b := range d.opt.ExtraFonts {
			if f := newExtraFace("x"+strconv.Itoa(i), b); f != nil {
				d.extras = append(d.extras, f)
			}
		}
	}
	if r >= 0x10000 {
		// Above U+FFFF the font with the most such characters: emoji come
		// from the emoji font, not from one with a few emoticons (DejaVu).
		var best *face
		for _, f := range d.extras {
			if f.covers(r) && (best == nil || len(f.pua) > len(best.pua)) {
				best = f
			}
		}
		if best != nil && d.use(best) && best.covers(r) {
			return best
		}
	}
	for _, f := range d.extras {
		// Covered again once fpdf has it: only this message's characters.
		if f.covers(r) && d.use(f) && f.covers(r) {
			return f
		}
	}
	return nil
}

// textOf notes that code, drawn in face f, stands for the character r (an
// Arabic presentation form for its letters, a Private Use Area code for a
// character above U+FFFF), for the text layer.
func (d *pdfDoc) textOf(f *face, code, r rune) {
	m := d.toUnicode[f]
	if m == nil {
		m = map[uint16]string{}
		d.toUnicode[f] = m
	}
	if t := arabicLetters[r]; t != "" {
		m[uint16(code)] = t
	} else {
		m[uint16(code)] = string(r)
	}
}

// skip leaves h mm of vertical space (bars continue through it); at the
// bottom of a page it just ends the page.
func (d *pdfDoc) skip(h float64) {
	if d.y+h > pageH-marginB {
		d.y = pageH - marginB
		return
	}
	d.drawBars(h)
	d.y += h
}

// drawBars draws what is beside and behind the next h mm, before the
// content there: the bars, and the innermost cell background as a strip
// (a page cannot be painted under what it already shows).
func (d *pdfDoc) drawBars(h float64) {
	if n := len(d.fills); n > 0 {
		f := d.fills[n-1]
		d.fillRect(f.color, f.x0, d.y, f.x1, d.y+h)
	}
	for _, b := range d.bars {
		d.f.SetDrawColor(b.color[0], b.color[1], b.color[2])
		d.f.SetLineWidth(0.6)
		d.f.Line(b.x, d.y, b.x, d.y+h)
	}
}

func (d *pdfDoc) rule(color [3]int) {
	d.need(3)
	d.f.SetDrawColor(color[0], color[1], color[2])
	d.f.SetLineWidth(0.2)
	d.f.Line(d.left, d.y+1.5, d.right, d.y+1.5)
	d.skip(3)
}

// endNote tells the reader where the embedded files are.
func (d *pdfDoc) endNote() {
	d.y += 4
	names := emlName
	if n := len(d.files) - 1; n > 0 {
		names += " and " + strconv.Itoa(n) + " attachment"
		if n > 1 {
			names += "s"
		}
	}
	st := textStyle{size: 8, lineH: 4, color: grayText}
	d.para([]span{{text: "Embedded in this PDF (see your viewer's attachments panel): " + names + "."}}, st, d.left, 0)
}
