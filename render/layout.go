package render

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// The PDF view lays text out itself: each rune gets the first face that has
// it (Go Regular/Bold, then the extra fonts), words are broken greedily at
// spaces and between CJK characters, and each line is drawn as runs of one
// face and one span, so links and font changes stay exact.

const (
	ptToMM     = 25.4 / 72
	tofu       = '\u25a1' // drawn for runes no font has (emoji, scripts without a font)
	defaultPt  = 10.5
	defaultLH  = 5.0
	minColumn  = 50.0 // mm of text width kept however deep quotes and lists nest
	spaceClass = 1
	breakClass = 2
	cjkClass   = 3
)

type textStyle struct {
	size  float64 // font size in points
	lineH float64 // line height in mm
	bold  bool
	color [3]int
	right bool // right-align right-to-left paragraphs
	ltr   bool // lay out left to right whatever the text's direction
}

// sizeOf is the font size of a span: smaller for sub- and superscripts,
// and a little smaller in monospace (whose letters are wide), as browsers
// show it.
func (st textStyle) sizeOf(sp span) float64 {
	size := st.size
	if sp.script != 0 {
		size *= 0.7
	}
	if sp.mono {
		size *= 0.9
	}
	return size
}

var (
	bodyStyle = textStyle{size: defaultPt, lineH: defaultLH, color: [3]int{32, 33, 36}, right: true}
	linkColor = [3]int{26, 86, 190}
)

// cell is one rune placed in a face.
type cell struct {
	r     rune
	face  *face
	span  int
	w     float64 // mm
	level int8    // bidi embedding level (bidiLevels)
}

// word is a unit of line breaking: a word, one CJK character, a space or
// a forced break.
type word struct {
	cells []cell
	w     float64
	class int
}

// words prepares spans for layout.
func (d *pdfDoc) words(spans []span, st textStyle) (ws []word, rtl bool) {
	n := 0
	for _, sp := range spans {
		n += len(sp.text)
	}
	cells := make([]cell, 0, n)
	dirSet := false
	for si, sp := range spans {
		sp.bold = st.bold || sp.bold
		size := st.sizeOf(sp)
		text := invisible.Replace(sp.text)
		if !norm.NFC.IsNormalString(text) {
			text = norm.NFC.String(text)
		}
		rs := []rune(text)
		if hasArabic(rs) {
			rs = shapeArabic(rs, func(r rune) bool { return d.faceFor(r, sp) != nil })
		}
		for _, r := range rs {
			if !dirSet && !st.ltr {
				if dr := direction(r); dr != 0 {
					rtl, dirSet = dr > 0, true
				}
			}
			switch {
			case r == '\n':
				cells = append(cells, cell{r: '\n', span: si})
				continue
			case r == '\t' || unicode.IsSpace(r):
				r = ' '
			case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || isSkinTone(r):
				continue
			}
			f := d.faceFor(r, sp)
			if f == nil {
				r, f = tofu, d.faceFor(tofu, sp)
			}
			cells = append(cells, cell{r: r, face: f, span: si, w: f.advance(r) * size / 1000 * ptToMM})
		}
	}
	d.unifyFaces(cells, spans, st)
	if rtl || hasRTL(cells) {
		bidiLevels(cells, rtl)
	}
	for i := 0; i < len(cells); {
		c := cells[i]
		class := 0
		switch {
		case c.r == '\n':
			class = breakClass
		case c.r == ' ':
			class = spaceClass
		case isCJK(c.r):
			class = cjkClass
		}
		j := i + 1
		if class == 0 {
			for j < len(cells) && cells[j].r != '\n' && cells[j].r != ' ' && !isCJK(cells[j].r) {
				j++
			}
		}
		w := word{cells: cells[i:j], class: class}
		for _, c := range w.cells {
			w.w += c.w
		}
		ws = append(ws, w)
		i = j
	}
	return ws, rtl
}

// unifyFaces draws each run of runes that need extra fonts with a single
// font when one has them all, so that a Korean word does not mix glyphs
// from a CJK fallback font and a Hangul font.
func (d *pdfDoc) unifyFaces(cells []cell, spans []span, st textStyle) {
	for i := 0; i < len(cells); {
		if cells[i].face == nil || cells[i].face.has != nil {
			i++
			continue
		}
		j, same := i, true
		for j < len(cells) && cells[j].face != nil && cells[j].face.has == nil {
			same = same && cells[j].face == cells[i].face
			j++
		}
		if same {
			i = j
			continue // one font already
		}
		for _, f := range d.extras {
			// Covered again once fpdf has it: only this message's characters.
			if coversCells(f, cells[i:j]) && d.use(f) && coversCells(f, cells[i:j]) {
				for k := i; k < j; k++ {
					cells[k].face, cells[k].w = f, f.advance(cells[k].r)*st.sizeOf(spans[cells[k].span])/1000*ptToMM
				}
				break
			}
		}
		i = j
	}
}

// dark reports a colour of low luminance (ITU-R BT.601 weights), on
// which black text is hard to read.
func dark(c [3]int) bool {
	return 299*c[0]+587*c[1]+114*c[2] < 128*1000
}

func coversCells(f *face, cs []cell) bool {
	for _, c := range cs {
		if !f.covers(c.r) {
			return false
		}
	}
	return true
}

func hasRTL(cs []cell) bool {
	for _, c := range cs {
		if direction(c.r) > 0 {
			return true
		}
	}
	return false
}

func hasArabic(rs []rune) bool {
	for _, r := range rs {
		if r >= 0x0600 && r <= 0x06FF {
			return true
		}
	}
	return false
}

// isSkinTone reports an emoji skin tone modifier (U+1F3FB–U+1F3FF). A
// monochrome font cannot tint the emoji before it and draws the modifier
// as a swatch of its own, which reads as a box, so the PDF leaves it out
// and shows the emoji in its default tone; the .eml keeps it. The joiner
// of a ZWJ sequence and the emoji variation selector are invisible, so a
// family (👨‍👩‍👧) is drawn as its members.
func isSkinTone(r rune) bool {
	return r >= 0x1F3FB && r <= 0x1F3FF
}

func isCJK(r rune) bool {
	return r >= 0x2E80 && r <= 0x9FFF || r >= 0xAC00 && r <= 0xD7AF || r >= 0xF900 && r <= 0xFAFF ||
		r >= 0xFF00 && r <= 0xFFEF
}

// lines breaks words into lines of at most width mm. Spaces at a wrap are
// dropped; a word longer than a line is split between characters.
func lines(ws []word, width float64) [][]word {
	var out [][]word
	var cur []word
	var w float64
	end := func() {
		for len(cur) > 0 && cur[len(cur)-1].class == spaceClass {
			cur = cur[:len(cur)-1]
		}
		out = append(out, cur)
		cur, w = nil, 0
	}
	for i := 0; i < len(ws); i++ {
		x := ws[i]
		switch {
		case x.class == breakClass:
			end()
			continue
		case x.class == spaceClass && len(cur) == 0 && len(out) > 0 && i > 0 && ws[i-1].class != breakClass:
			continue // no leading space after a wrap
		}
		if w+x.w <= width || len(cur) == 0 && x.w <= width {
			cur = append(cur, x)
			w += x.w
			continue
		}
		if x.class == spaceClass {
			end()
			continue
		}
		if len(cur) > 0 && x.w <= width {
			end()
			cur, w = append(cur, x), x.w
			continue
		}
		// Split an over-long word (a URL, say) where it crosses the edge.
		k, cw := 0, w
		for k < len(x.cells) && (cw+x.cells[k].w <= width || k == 0 && len(cur) == 0) {
			cw += x.cells[k].w
			k++
		}
		if k == 0 {
			end()
			i--
			continue
		}
		head, tail := x, x
		head.cells, tail.cells = x.cells[:k], x.cells[k:]
		head.w = cw - w
		tail.w = x.w - head.w
		cur = append(cur, head)
		end()
		ws[i] = tail
		i--
	}
	if len(cur) > 0 || len(out) == 0 {
		end()
	}
	return out
}

// para lays out and draws one paragraph at the current position, from x0
// (the first line may start further right, at x0+first) to the right edge.
func (d *pdfDoc) para(spans []span, st textStyle, x0, first float64) {
	x0 = min(x0, max(d.right-minColumn, d.left)) // deep nesting must not squeeze text to nothing
	ws, rtl := d.words(spans, st)
	width := d.right - x0
	ls := lines(ws, width)
	for li, l := range ls {
		d.need(st.lineH)
		if len(l) == 0 {
			d.drawBars(st.lineH)
			d.y += st.lineH
			continue
		}
		var lw float64
		for _, w := range l {
			lw += w.w
		}
		x := x0
		if li == 0 {
			x += first
		}
		if rtl && st.right {
			x = d.right - lw
		}
		d.drawLine(l, spans, st, x)
		d.y += st.lineH
	}
}

// drawLine draws the runs of one line and the bars beside it.
func (d *pdfDoc) drawLine(l []word, spans []span, st textStyle, x float64) {
	d.drawBars(st.lineH)
	var run strings.Builder
	var rf *face
	rspan, rx, rw := -1, x, 0.0
	flush := func() {
		if run.Len() == 0 {
			return
		}
		d.text(rf, st, spans[rspan], run.String(), rx, rw)
		run.Reset()
		rx += rw
		rw = 0
	}
	var cs []cell
	for _, w := range l {
		cs = append(cs, w.cells...)
	}
	for _, c := range reorder(cs) {
		if c.face != rf || c.span != rspan {
			flush()
			rf, rspan = c.face, c.span
		}
		code := c.face.code(c.r)
		if code != c.r || arabicLetters[c.r] != "" {
			d.textOf(c.face, code, c.r)
		}
		run.WriteRune(code)
		rw += c.w
	}
	flush()
}

func (d *pdfDoc) text(f *face, st textStyle, sp span, s string, x, w float64) {
	if !d.use(f) {
		return
	}
	size := st.sizeOf(sp)
	lines := ""
	if sp.underline {
		lines += "U"
	}
	if sp.strike {
		lines += "S"
	}
	if f != d.curFace || size != d.curSize || lines != d.curLines {
		// fpdf draws underline and strikeout itself ("U", "S").
		d.f.SetFont(f.family, f.style+lines, size)
		d.curFace, d.curSize, d.curLines = f, size, lines
	}
	c := st.color
	if sp.href != "" {
		c = linkColor
	}
	if n := len(d.fills); n > 0 && dark(d.fills[n-1].color) {
		// Text on a dark cell background: the message's own text colour
		// is not kept, and a mail with a dark cell writes light on it.
		c = [3]int{255, 255, 255}
	}
	if c != d.curColor {
		// Text and fill colour alike: fpdf then sets the colour once
		// instead of wrapping every run in q/Q (and fills underlines).
		d.f.SetTextColor(c[0], c[1], c[2])
		d.f.SetFillColor(c[0], c[1], c[2])
		d.curColor = c
	}
	// Superscripts are raised by a third of the line's font size,
	// subscripts lowered by a sixth.
	y := d.y
	switch sp.script {
	case 1:
		y -= st.size * ptToMM / 3
	case -1:
		y += st.size * ptToMM / 6
	}
	d.f.SetXY(x, y)
	d.f.CellFormat(w, st.lineH, s, "", 0, "L", false, 0, pdfURI(sp.href))
}
