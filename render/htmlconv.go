package render

import (
	"strconv"
	"strings"

	"golang.org/x/image/colornames"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlBlocks converts an HTML body to blocks for the TXT and PDF views:
// block elements become paragraphs, lists get markers, links keep their
// target, cid: images become image blocks and hidden or active content is
// dropped. Table cells of a row with only inline content share one line.
func htmlBlocks(src string, m *message) []block {
	return convertHTML(src, m, false)
}

// htmlTableBlocks is htmlBlocks for views that lay out tables: a table of
// more than one column becomes a bTable block whose cells hold blocks; a
// table of one column (a layout table) is read as its cells' content.
func htmlTableBlocks(src string, m *message) []block {
	return convertHTML(src, m, true)
}

func convertHTML(src string, m *message, tables bool) []block {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return textBlocks(src)
	}
	c := &htmlConv{m: m, tables: tables}
	c.walk(doc)
	c.flush(bPara, false)
	return c.blocks
}

type htmlConv struct {
	m       *message
	tables  bool // make bTable blocks
	depth   int  // tables around this conversion (of a cell)
	blocks  []block
	cur     []span
	style   span // current bold/italic/href
	indent  int
	quote   int
	pre     int
	bullet  string
	heading int
}

// skipped elements are dropped with their content.
var skipped = map[atom.Atom]bool{
	atom.Head: true, atom.Script: true, atom.Style: true, atom.Title: true, atom.Template: true,
	atom.Noscript: true, atom.Svg: true, atom.Math: true, atom.Object: true, atom.Embed: true,
	atom.Iframe: true, atom.Select: true, atom.Textarea: true, atom.Input: true, atom.Map: true,
	atom.Audio: true, atom.Video: true, atom.Canvas: true, atom.Frame: true, atom.Frameset: true,
	atom.Applet: true, atom.Meta: true, atom.Link: true, atom.Base: true,
}

// blockish elements end the current paragraph before and after.
var blockish = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Header: true,
	atom.Footer: true, atom.Main: true, atom.Nav: true, atom.Aside: true, atom.Address: true,
	atom.Center: true, atom.Form: true, atom.Fieldset: true, atom.Figure: true,
	atom.Figcaption: true, atom.Dl: true, atom.Dt: true, atom.Dd: true, atom.Details: true,
	atom.Summary: true, atom.Caption: true, atom.Table: true, atom.Tbody: true,
	atom.Thead: true, atom.Tfoot: true, atom.Tr: true, atom.Td: true, atom.Th: true,
	atom.Ul: true, atom.Ol: true, atom.Li: true, atom.Blockquote: true, atom.Pre: true,
	atom.Hr: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true,
	atom.H6: true, atom.Body: true, atom.Html: true, atom.Img: true,
}

func (c *htmlConv) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		c.text(n.Data)
		return
	case html.ElementNode:
	default:
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			c.walk(ch)
		}
		return
	}
	if skipped[n.DataAtom] || hidden(n) {
		return
	}
	saved := c.style
	defer func() { c.style = saved }()
	c.inlineStyle(attr(n, "style"))
	switch n.DataAtom {
	case atom.Br:
		c.add("\n")
		return
	case atom.Img:
		c.image(n)
		return
	case atom.Hr:
		c.flush(bPara, false)
		c.blocks = append(c.blocks, block{kind: bRule, indent: c.indent, quote: c.quote})
		return
	case atom.B, atom.Strong, atom.Th:
		c.style.bold = true
	case atom.I, atom.Em, atom.Cite, atom.Var, atom.Dfn:
		c.style.italic = true
	case atom.Code, atom.Tt, atom.Kbd, atom.Samp:
		c.style.mono = true
	case atom.U, atom.Ins:
		c.style.underline = true
	case atom.S, atom.Strike, atom.Del:
		c.style.strike = true
	case atom.Sup:
		c.style.script = 1
	case atom.Sub:
		c.style.script = -1
	case atom.A:
		c.style.href = safeHref(attr(n, "href"))
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		c.flush(bPara, false)
		c.heading = int(n.Data[1] - '0')
		c.style.bold = true
		c.children(n)
		c.flush(bHeading, true)
		c.heading = 0
		return
	case atom.Ul, atom.Ol:
		c.flush(bPara, false)
		c.indent++
		num := 1
		if s, err := strconv.Atoi(attr(n, "start")); err == nil {
			num = s
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			if ch.Type == html.ElementNode && ch.DataAtom == atom.Li {
				c.bullet = "•"
				if n.DataAtom == atom.Ol {
					c.bullet = strconv.Itoa(num) + "."
					num++
				}
			}
			c.walk(ch)
			c.flush(bPara, false)
		}
		c.indent--
		c.markSpace()
		return
	case atom.Blockquote:
		c.flush(bPara, false)
		c.quote++
		c.children(n)
		c.flush(bPara, true)
		c.quote--
		return
	case atom.Pre:
		c.flush(bPara, false)
		c.pre++
		c.style.mono = true
		c.children(n)
		c.flush(bPre, true)
		c.pre--
		return
	case atom.Table:
		if c.tables && c.table(n) {
			return
		}
	case atom.Tr:
		if cells := inlineCells(n); len(cells) > 1 {
			c.flush(bPara, false)
			for i, td := range cells {
				if i > 0 {
					c.add(" | ")
				}
				c.children(td)
			}
			c.flush(bPara, false)
			return
		}
	}
	if blockish[n.DataAtom] {
		c.flush(bPara, false)
		c.children(n)
		c.flush(bPara, n.DataAtom == atom.P || n.DataAtom == atom.Table)
		return
	}
	c.children(n)
}

func (c *htmlConv) children(n *html.Node) {
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		c.walk(ch)
	}
}

// text adds character data, collapsing white space outside <pre>.
func (c *htmlConv) text(s string) {
	s = invisible.Replace(s)
	if c.pre > 0 {
		c.add(s)
		return
	}
	var b strings.Builder
	space := c.endsInSpace()
	for _, r := range s {
		if r == ' ' || r == '\n' || r == '\t' || r == '\r' || r == '\f' {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		b.WriteRune(r)
		space = false
	}
	c.add(b.String())
}

func (c *htmlConv) endsInSpace() bool {
	if len(c.cur) == 0 {
		return true
	}
	t := c.cur[len(c.cur)-1].text
	return t == "" || t[len(t)-1] == ' ' || t[len(t)-1] == '\n'
}

func (c *htmlConv) add(s string) {
	if s == "" {
		return
	}
	if n := len(c.cur); n > 0 {
		last := &c.cur[n-1]
		style := *last
		style.text = ""
		if style == c.style {
			last.text += s
			return
		}
	}
	sp := c.style
	sp.text = s
	c.cur = append(c.cur, sp)
}

// flush ends the current paragraph as a block of the given kind.
func (c *htmlConv) flush(kind blockKind, space bool) {
	for len(c.cur) > 0 {
		last := &c.cur[len(c.cur)-1]
		if kind != bPre {
			last.text = strings.TrimRight(last.text, " \n")
		} else {
			last.text = strings.TrimRight(last.text, "\n")
		}
		if last.text != "" {
			break
		}
		c.cur = c.cur[:len(c.cur)-1]
	}
	if len(c.cur) == 0 {
		if space {
			c.markSpace()
		}
		return
	}
	c.cur[0].text = strings.TrimLeft(c.cur[0].text, "\n")
	c.blocks = append(c.blocks, block{kind: kind, spans: c.cur, level: c.heading, indent: c.indent,
		quote: c.quote, bullet: c.bullet, space: space})
	c.cur, c.bullet = nil, ""
}

func (c *htmlConv) markSpace() {
	if n := len(c.blocks); n > 0 {
		c.blocks[n-1].space = true
	}
}

// image shows an image of the message (cid: or Content-Location) in place;
// other images leave their alt text.
func (c *htmlConv) image(n *html.Node) {
	if a := c.m.resource(attr(n, "src")); a != nil && imageType(a.data) != "" {
		c.flush(bPara, false)
		c.blocks = append(c.blocks, block{kind: bImage, img: a, indent: c.indent, quote: c.quote})
		return
	}
	if alt := strings.TrimSpace(invisible.Replace(attr(n, "alt"))); alt != "" {
		c.text("[" + alt + "]")
	}
}

const (
	maxTableDepth = 5  // nesting of bTable blocks; deeper tables are flattened
	maxTableCols  = 63 // Word's limit; wider tables are flattened
)

// table makes a bTable block of a table with more than one column and
// reports whether it did; each cell is converted on its own.
func (c *htmlConv) table(n *html.Node) bool {
	rows := tableRows(n)
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	if cols < 2 || cols > maxTableCols || c.depth >= maxTableDepth {
		return false
	}
	c.flush(bPara, false)
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if ch.Type == html.ElementNode && ch.DataAtom == atom.Caption {
			c.walk(ch)
		}
	}
	t := block{kind: bTable, indent: c.indent, quote: c.quote, space: true, border: bordered(n), width: htmlWidth(n)}
	tableBG := background(n)
	for _, r := range rows {
		row := make([]tableCell, len(r))
		rowBG := tableBG
		if bg := background(r[0].Parent); bg != nil {
			rowBG = bg
		}
		for i, td := range r {
			sub := &htmlConv{m: c.m, tables: true, depth: c.depth + 1}
			sub.walk(td)
			sub.flush(bPara, false)
			span, _ := strconv.Atoi(attr(td, "colspan"))
			bg := background(td)
			if bg == nil {
				bg = rowBG
			}
			row[i] = tableCell{blocks: sub.blocks, span: min(max(span, 1), maxTableCols), width: htmlWidth(td), bg: bg}
			t.border = t.border || bordered(td)
		}
		t.rows = append(t.rows, row)
	}
	c.blocks = append(c.blocks, t)
	return true
}

// tableRows returns the visible cells of each row of a table that has any.
func tableRows(table *html.Node) [][]*html.Node {
	var rows [][]*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			if ch.Type != html.ElementNode || hidden(ch) {
				continue
			}
			switch ch.DataAtom {
			case atom.Thead, atom.Tbody, atom.Tfoot:
				walk(ch)
			case atom.Tr:
				var cells []*html.Node
				for td := ch.FirstChild; td != nil; td = td.NextSibling {
					if td.Type == html.ElementNode && (td.DataAtom == atom.Td || td.DataAtom == atom.Th) && !hidden(td) {
						cells = append(cells, td)
					}
				}
				if len(cells) > 0 {
					rows = append(rows, cells)
				}
			}
		}
	}
	walk(table)
	return rows
}

// htmlWidth is the width of a table or cell: its CSS width (px or %),
// else its width attribute (pixels or %); zero when neither is one.
func htmlWidth(n *html.Node) length {
	w := attr(n, "width")
	for _, decl := range strings.Split(strings.ToLower(attr(n, "style")), ";") {
		if k, v, _ := strings.Cut(decl, ":"); strings.TrimSpace(k) == "width" {
			w = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "!important"))
		}
	}
	w = strings.TrimSpace(w)
	l := length{pct: strings.HasSuffix(w, "%")}
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSuffix(w, "%"), "px"), 64)
	if err != nil || v <= 0 || v > 1e5 {
		return length{}
	}
	l.v = v
	return l
}

// background is the background colour of a table, row or cell: its CSS
// background-color or background, else its bgcolor attribute; nil when
// none is given or it is white (the page's).
func background(n *html.Node) *[3]int {
	c := parseColor(attr(n, "bgcolor"))
	for _, decl := range strings.Split(strings.ToLower(attr(n, "style")), ";") {
		k, v, _ := strings.Cut(decl, ":")
		if k = strings.TrimSpace(k); k != "background-color" && k != "background" {
			continue
		}
		for _, f := range strings.Fields(strings.ReplaceAll(strings.ReplaceAll(v, ", ", ","), "!important", "")) {
			if col := parseColor(f); col != nil {
				c = col
				break
			}
		}
	}
	if c == nil || *c == [3]int{255, 255, 255} {
		return nil
	}
	return c
}

// parseColor reads a CSS colour: #rgb, #rrggbb, rgb(r,g,b) or a name; nil
// for anything else (transparent, url(), gradients).
func parseColor(s string) *[3]int {
	s = strings.ToLower(strings.TrimSpace(s))
	if c, ok := colornames.Map[s]; ok {
		return &[3]int{int(c.R), int(c.G), int(c.B)}
	}
	if args, ok := strings.CutPrefix(s, "rgb("); ok {
		parts := strings.Split(strings.TrimSuffix(args, ")"), ",")
		if len(parts) != 3 {
			return nil
		}
		var c [3]int
		for i, p := range parts {
			v, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil {
				return nil
			}
			c[i] = min(max(v, 0), 255)
		}
		return &c
	}
	hex, ok := strings.CutPrefix(s, "#")
	if !ok {
		return nil
	}
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	v, err := strconv.ParseUint(hex, 16, 32)
	if len(hex) != 6 || err != nil {
		return nil
	}
	return &[3]int{int(v >> 16), int(v >> 8 & 0xFF), int(v & 0xFF)}
}

// bordered reports a table or cell that draws borders: a border attribute
// above zero or a border style that is not none or zero.
func bordered(n *html.Node) bool {
	if b, err := strconv.Atoi(strings.TrimSpace(attr(n, "border"))); err == nil && b > 0 {
		return true
	}
	st := strings.ToLower(strings.Join(strings.Fields(attr(n, "style")), ""))
	for _, decl := range strings.Split(st, ";") {
		k, v, _ := strings.Cut(decl, ":")
		if strings.HasPrefix(k, "border") && !strings.HasSuffix(k, "radius") && !strings.HasSuffix(k, "collapse") &&
			!strings.HasSuffix(k, "color") && v != "" && v != "0" && v != "none" && !strings.HasPrefix(v, "0px") && !strings.HasPrefix(v, "none") {
			return true
		}
	}
	return false
}

// inlineCells returns the non-empty cells of a table row when none of them
// holds block content, so the row can be shown as one line.
func inlineCells(tr *html.Node) []*html.Node {
	var cells []*html.Node
	for td := tr.FirstChild; td != nil; td = td.NextSibling {
		if td.Type != html.ElementNode || (td.DataAtom != atom.Td && td.DataAtom != atom.Th) || hidden(td) {
			continue
		}
		if !inlineOnly(td) {
			return nil
		}
		if strings.TrimSpace(invisible.Replace(textContent(td))) != "" {
			cells = append(cells, td)
		}
	}
	return cells
}

func inlineOnly(n *html.Node) bool {
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if ch.Type == html.ElementNode && (blockish[ch.DataAtom] && ch.DataAtom != atom.Img || !inlineOnly(ch)) {
			return false
		}
	}
	return true
}

func textContent(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if ch.Type != html.ElementNode || !skipped[ch.DataAtom] {
			b.WriteString(textContent(ch))
		}
	}
	return b.String()
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key && a.Namespace == "" {
			return a.Val
		}
	}
	return ""
}

// inlineStyle applies the text styles of a style attribute that the PDF
// can show: bold, italic, monospace, underline, line-through, sub and
// superscript.
func (c *htmlConv) inlineStyle(css string) {
	if css == "" {
		return
	}
	for _, decl := range strings.Split(strings.ToLower(css), ";") {
		prop, val, ok := strings.Cut(decl, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(val), "!important"))
		switch strings.TrimSpace(prop) {
		case "font-weight":
			c.style.bold = val == "bold" || val == "bolder" || len(val) == 3 && val >= "600" && val <= "900"
		case "font-style":
			c.style.italic = val == "italic" || val == "oblique"
		case "font-family":
			c.style.mono = strings.Contains(val, "monospace") || strings.Contains(val, "courier") ||
				strings.Contains(val, "consolas") || strings.Contains(val, "menlo") || strings.Contains(val, "monaco")
		case "text-decoration", "text-decoration-line":
			c.style.underline = strings.Contains(val, "underline")
			c.style.strike = strings.Contains(val, "line-through")
		case "vertical-align":
			switch val {
			case "super":
				c.style.script = 1
			case "sub":
				c.style.script = -1
			case "baseline":
				c.style.script = 0
			}
		}
	}
}

// hidden reports elements that a mail client does not show (preheaders).
func hidden(n *html.Node) bool {
	if _, ok := attrOK(n, "hidden"); ok {
		return true
	}
	st := strings.ToLower(strings.Join(strings.Fields(attr(n, "style")), ""))
	return strings.Contains(st, "display:none") || strings.Contains(st, "mso-hide:all") ||
		strings.Contains(st, "visibility:hidden")
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key && a.Namespace == "" {
			return a.Val, true
		}
	}
	return "", false
}
