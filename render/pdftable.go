package render

import (
	"cmp"
	"slices"
)

// Tables in the PDF: the bTable blocks of htmlTableBlocks (the model the
// DOCX view uses too) laid out as a browser's automatic table layout does,
// in short: each column gets at least its longest word and, when the page
// is too narrow for every cell's text on one line, a share of the rest in
// proportion to how much text it holds. Cells wrap their text and may hold
// any blocks, nested tables too. A row taller than what is left of the page
// continues on the next: each cell is laid out from the row's top on the
// row's first page and flows on over the pages after it (fpdf can go back
// to an earlier page), and the row ends below its longest cell. Borders are
// drawn, per page, where the message draws them.

const (
	cellPadX = 1.5 // mm left and right of a cell's content
	cellPadY = 1.0 // mm above and below
)

var tableLine = [3]int{176, 180, 186}

// tableCols is the number of grid columns of a table.
func tableCols(t block) int {
	cols := 0
	for _, r := range t.rows {
		n := 0
		for _, c := range r {
			n += c.span
		}
		cols = max(cols, n)
	}
	return min(cols, maxTableCols)
}

// columnWidths shares width mm among the columns of t. A width the
// message gives a table is kept (within the page) and one it gives a cell
// is its column's, both as browsers take them: a column is never narrower
// than its longest word, and a table wider than its columns want gives the
// rest to the columns without a width.
func (d *pdfDoc) columnWidths(t block, width float64) (widths []float64, least float64) {
	if t.width.v > 0 {
		width = min(width, t.width.mm(width))
	}
	cols := tableCols(t)
	minW, maxW, asked := make([]float64, cols), make([]float64, cols), make([]float64, cols)
	for _, r := range t.rows {
		col := 0
		for _, c := range r {
			if col >= cols {
				break
			}
			if c.span == 1 {
				lo, hi := d.cellWidths(c.blocks, width)
				minW[col], maxW[col] = max(minW[col], lo+2*cellPadX), max(maxW[col], hi+2*cellPadX)
				if c.width.v > 0 {
					asked[col] = max(asked[col], min(c.width.mm(width), width))
				}
			}
			col += c.span
		}
	}
	for i, a := range asked {
		if a > 0 {
			maxW[i] = max(a, minW[i])
		}
	}
	var sumMin, sumMax float64
	for i := range minW {
		minW[i] = max(minW[i], 2*cellPadX+2)
		maxW[i] = max(maxW[i], minW[i])
		sumMin += minW[i]
		sumMax += maxW[i]
	}
	out := make([]float64, cols)
	switch {
	case sumMax <= width:
		copy(out, maxW)
	case sumMin >= width:
		for i := range out {
			out[i] = minW[i] * width / sumMin
		}
	default:
		// The space beyond the longest words goes to the columns that
		// want least first, each getting at most an equal share of what
		// is left: narrow columns (numbers, prices) stay on one line, and
		// wide ones (a newsletter's two columns) share the rest evenly.
		order := make([]int, cols)
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(maxW[a]-minW[a], maxW[b]-minW[b]) })
		extra := width - sumMin
		for k, i := range order {
			give := min(maxW[i]-minW[i], extra/float64(cols-k))
			out[i] = minW[i] + give
			extra -= give
		}
	}
	if t.width.v > 0 {
		// A table as wide as asked: the rest to the columns without a
		// width, or to all in proportion when every one has a width.
		var sum, free float64
		for i, w := range out {
			sum += w
			if asked[i] == 0 {
				free += w
			}
		}
		for i := range out {
			switch {
			case sum >= width:
			case free > 0 && asked[i] == 0:
				out[i] += (width - sum) * out[i] / free
			case free == 0:
				out[i] *= width / sum
			}
		}
	}
	return out, sumMin
}

// cellWidths returns the width of a cell's longest word (or image) and of
// its longest line if nothing wrapped, both at most limit.
func (d *pdfDoc) cellWidths(bs []block, limit float64) (lo, hi float64) {
	for _, b := range bs {
		var l, h float64
		indent := float64(min(b.indent, 8))*6 + float64(min(b.quote, 8))*4.5
		switch b.kind {
		case bImage:
			if im := d.registerImage(b.img); im.ok {
				l, _ = d.imageSize(im, d.right-limit)
				h = l
			}
		case bTable:
			// At least its columns' longest words, at most as wide as
			// laid out (a table of width 100% takes the whole cell).
			ws, least := d.columnWidths(b, limit)
			for _, w := range ws {
				h += w
			}
			l = least
		case bRule:
		default:
			ws, _ := d.words(b.spans, blockStyle(b))
			line := 0.0
			for _, w := range ws {
				switch w.class {
				case breakClass:
					line = 0
				case spaceClass:
					line += w.w
				default:
					line += w.w
					l = max(l, w.w)
				}
				h = max(h, line)
			}
		}
		// A little slack, so that a line measured to fit does fit.
		lo, hi = max(lo, min(l+indent+0.05, limit)), max(hi, min(h+indent+0.05, limit))
	}
	return lo, hi
}

// table draws a bTable block from x to the right edge.
func (d *pdfDoc) table(t block, x float64) {
	widths, _ := d.columnWidths(t, d.right-x)
	savedLeft, savedRight := d.left, d.right
	defer func() { d.left, d.right = savedLeft, savedRight }()
	edges := make([]float64, len(widths)+1)
	edges[0] = x
	for i, w := range widths {
		edges[i+1] = edges[i] + w
	}
	savedFills := d.fills
	defer func() { d.fills = savedFills }()
	var outer *fill // the background of the cell around the table
	if n := len(savedFills); n > 0 {
		outer = &savedFills[n-1]
	}
	for _, r := range t.rows {
		d.need(2*cellPadY + defaultLH)
		top, topPage := d.y, d.f.PageNo()
		endY, endPage := top, topPage
		var bounds []float64 // the row's cell edges, for the borders
		type cellEnd struct {
			f    fill
			y    float64
			page int
		}
		var ends []cellEnd // the cells with a background, where their content ends
		col := 0
		for _, c := range r {
			if col >= len(widths) {
				break
			}
			next := min(col+c.span, len(widths))
			bounds = append(bounds, edges[col])
			d.toPage(topPage)
			d.y = top + cellPadY
			d.left, d.right = edges[col]+cellPadX, edges[next]-cellPadX
			// A cell's background, or the one around the table, is laid
			// strip by strip under its content (drawBars) and then below it.
			d.fills = savedFills
			if bg := c.bg; bg != nil || outer != nil {
				f := fill{x0: edges[col], x1: edges[next]}
				if bg != nil {
					f.color = *bg
				} else {
					f.color = outer.color
				}
				d.fills = append(savedFills[:len(savedFills):len(savedFills)], f)
				d.fillRect(f.color, f.x0, top, f.x1, top+cellPadY)
			}
			d.blocks(trimSpace(c.blocks))
			if len(d.fills) > len(savedFills) {
				ends = append(ends, cellEnd{f: d.fills[len(d.fills)-1], y: d.y, page: d.f.PageNo()})
			}
			if p := d.f.PageNo(); p > endPage || p == endPage && d.y > endY {
				endY, endPage = d.y, p
			}
			col = next
		}
		bounds = append(bounds, edges[col])
		d.fills = savedFills
		bottom := endY + cellPadY
		// Below each cell's content to the row's end, and beside the
		// table within the cell around it: nothing is drawn there yet.
		for _, e := range ends {
			d.fillPages(e.f.color, e.f.x0, e.f.x1, e.y, e.page, bottom, endPage)
		}
		if outer != nil {
			d.fillPages(outer.color, outer.x0, bounds[0], top, topPage, bottom, endPage)
			d.fillPages(outer.color, bounds[len(bounds)-1], outer.x1, top, topPage, bottom, endPage)
		}
		d.left, d.right = savedLeft, savedRight
		d.toPage(endPage)
		d.y = bottom
		if t.border {
			d.cellBorders(bounds, top, topPage)
		}
	}
	d.toPage(d.f.PageCount())
}

// fillPages paints from (y0 on page p0) to (y1 on page p1) between x0 and
// x1, on each page between.
func (d *pdfDoc) fillPages(color [3]int, x0, x1, y0 float64, p0 int, y1 float64, p1 int) {
	for p := p0; p <= p1; p++ {
		d.toPage(p)
		a, b := marginT, pageH-marginB
		if p == p0 {
			a = y0
		}
		if p == p1 {
			b = y1
		}
		d.fillRect(color, x0, a, x1, b)
	}
}

// fillRect paints a rectangle; the fill colour, which text also uses
// (pdfDoc.text), is set again before the next text.
func (d *pdfDoc) fillRect(color [3]int, x0, y0, x1, y1 float64) {
	if x1 <= x0 || y1 <= y0 {
		return
	}
	d.f.SetFillColor(color[0], color[1], color[2])
	d.f.Rect(x0, y0, x1-x0, y1-y0, "F")
	d.curColor = [3]int{-1, -1, -1}
}

// cellBorders draws the lines around one row's cells, on each page the
// row covers, ending at the current position.
func (d *pdfDoc) cellBorders(bounds []float64, top float64, topPage int) {
	bottom, endPage := d.y, d.f.PageNo()
	for p := topPage; p <= endPage; p++ {
		d.toPage(p)
		y0, y1 := marginT, pageH-marginB
		if p == topPage {
			y0 = top
		}
		if p == endPage {
			y1 = bottom
		}
		d.f.SetDrawColor(tableLine[0], tableLine[1], tableLine[2])
		d.f.SetLineWidth(0.2)
		for _, bx := range bounds {
			d.f.Line(bx, y0, bx, y1)
		}
		l, r := bounds[0], bounds[len(bounds)-1]
		d.f.Line(l, y0, r, y0)
		d.f.Line(l, y1, r, y1)
	}
}

// toPage makes page n (which exists) the one drawn on.
func (d *pdfDoc) toPage(n int) {
	if d.f.PageNo() == n {
		return
	}
	d.f.SetPage(n)
	// The page's content stream continues with its own last font and
	// colour, not those of the page left: set them again before drawing.
	d.curFace, d.curColor = nil, [3]int{-1, -1, -1}
}

// trimSpace drops the space after a cell's last block.
func trimSpace(bs []block) []block {
	if n := len(bs); n > 0 && bs[n-1].space {
		bs = append(bs[:n-1:n-1], bs[n-1])
		bs[n-1].space = false
	}
	return bs
}
