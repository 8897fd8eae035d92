package render

import (
	"regexp"
	"strings"
	"unicode"
)

// Blocks are the formatted-text model shared by the TXT, PDF and DOCX
// renderers: an HTML or plain text body becomes a flat list of paragraphs
// made of styled spans, plus images and rules, and, for the views that lay
// out tables (DOCX), tables whose cells hold blocks.

type span struct {
	text      string
	href      string // link target (http, https, mailto, tel, ftp) or ""
	bold      bool
	italic    bool
	mono      bool // a monospace face (code, preformatted text, ASCII art)
	underline bool
	strike    bool
	script    int8 // 1 superscript, -1 subscript, 0 neither
}

type blockKind uint8

const (
	bPara    blockKind = iota // wrapped text; "\n" in a span is a line break
	bHeading                  // level 1–6
	bPre                      // text with significant white space
	bImage                    // img
	bRule                     // a horizontal line
	bTable                    // rows of cells (htmlTableBlocks only)
)

type block struct {
	kind   blockKind
	spans  []span
	level  int    // heading level
	indent int    // list nesting
	quote  int    // blockquote / "> " depth
	bullet string // list marker for the first line, or ""
	space  bool   // followed by a blank line
	img    *attachment
	rows   [][]tableCell // bTable
	border bool          // bTable: the message draws cell borders
	width  length        // bTable: the width the message asks for
}

type tableCell struct {
	blocks []block
	span   int     // columns covered (colspan), at least 1
	width  length  // the width the message asks for
	bg     *[3]int // background colour (the cell's, else its row's or table's), or nil
}

// length is an HTML width: a percentage of the width available, or CSS
// pixels (96 per inch); zero when not given.
type length struct {
	v   float64
	pct bool
}

// mm is the length in mm within width mm.
func (l length) mm(width float64) float64 {
	if l.pct {
		return width * min(l.v, 100) / 100
	}
	return l.v * 25.4 / 96
}

// messageView is a document view, the PDF or the DOCX, which shows a
// message as one sequence: the header block, the chosen body parts (HTML
// converted to blocks, plain text, notes, inline images, attached
// messages), then the attachment list. showMessage walks it for both.
type messageView interface {
	headerBlock(header)
	blocks([]block)
	note(string)
	inlineImage(*attachment)
	nested(*message)
	attachmentList([]*attachment)
}

// maxBodyText caps the body text laid out per part: beyond some hundreds
// of pages a document is no longer read, and the full text stays in the
// .eml.
const maxBodyText = 1 << 20

// showMessage shows m in v; a part cut at maxBodyText is followed by a
// note that the complete message is where (for instance "in the .eml
// file").
func showMessage(v messageView, m *message, where string) {
	v.headerBlock(m.hdr)
	for _, n := range chooseBody(m.body, true) {
		cut := false
		if len(n.text) > maxBodyText {
			n.text, cut = strings.ToValidUTF8(n.text[:maxBodyText], ""), true
		}
		switch n.kind {
		case nText, nRaw:
			v.blocks(textBlocks(n.text))
		case nHTML:
			v.blocks(htmlTableBlocks(n.text, m))
		case nNote:
			v.note(n.text)
		case nImage:
			v.inlineImage(n.att)
		case nMessage:
			v.nested(n.msg)
		}
		if cut {
			v.note("The text above is cut short here; the complete message is " + where + ".")
		}
	}
	v.attachmentList(m.atts)
}

// chooseBody resolves multipart/alternative choices. With preferHTML the
// last (richest) alternative holding HTML wins, else the last one holding
// non-blank plain text; failing that the last non-empty one.
func chooseBody(ns []node, preferHTML bool) []node {
	var out []node
	for _, n := range ns {
		if n.kind != nAlt {
			out = append(out, n)
			continue
		}
		best := -1
		for i, a := range n.alts {
			if hasBody(a, preferHTML) {
				best = i
			}
		}
		if best < 0 {
			for i, a := range n.alts {
				if hasBody(a, !preferHTML) || best < 0 && len(a) > 0 {
					best = i
				}
			}
		}
		if best >= 0 {
			out = append(out, chooseBody(n.alts[best], preferHTML)...)
		}
	}
	return out
}

func hasBody(ns []node, html bool) bool {
	for _, n := range ns {
		switch {
		case n.kind == nAlt:
			for _, a := range n.alts {
				if hasBody(a, html) {
					return true
				}
			}
		case html && n.kind == nHTML:
			return true
		case !html && n.kind == nText && strings.TrimSpace(n.text) != "":
			return true
		}
	}
	return false
}

// textBlocks turns a plain text body into one paragraph per line, with
// "> " quoting as depth and URLs as links.
func textBlocks(s string) []block {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	out := make([]block, 0, len(lines))
	for _, l := range lines {
		q := 0
		for {
			t := strings.TrimLeft(l, " ")
			if !strings.HasPrefix(t, ">") {
				break
			}
			l = strings.TrimPrefix(t[1:], " ")
			q++
		}
		mono := preformatted(l)
		l = strings.ReplaceAll(l, "\t", "    ")
		spans := linkify(l)
		for i := range spans {
			spans[i].mono = mono
		}
		out = append(out, block{kind: bPara, spans: spans, quote: q})
	}
	return out
}

var artRE = regexp.MustCompile(`\S(?: {3,}|\t)\S|^(?: {4}|\t)\s*\S|[-=_*+#~]{4,}|\|.*\||[\x{2500}-\x{259F}]`)

// preformatted reports a plain text line that is laid out with spaces:
// table columns (runs of three spaces or a tab inside the line), indented
// code, rules, pipe tables, box drawing, and ASCII art (mostly symbols).
// The PDF shows such lines in a monospace face, so that they line up as
// the sender saw them.
func preformatted(line string) bool {
	if artRE.MatchString(line) {
		return true
	}
	symbols, letters := 0, 0
	for _, r := range line {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			letters++
		case unicode.IsPunct(r) || unicode.IsSymbol(r):
			symbols++
		}
	}
	return symbols >= 3 && symbols > letters
}

var urlRE = regexp.MustCompile(`(?i)\b(?:https?://|ftp://|mailto:|www\.)[^\s<>"]+`)

// linkify splits text into spans, URLs becoming links.
func linkify(s string) []span {
	var out []span
	for s != "" {
		loc := urlRE.FindStringIndex(s)
		if loc == nil {
			out = append(out, span{text: s})
			break
		}
		u := trimURL(s[loc[0]:loc[1]])
		if loc[0] > 0 {
			out = append(out, span{text: s[:loc[0]]})
		}
		href := u
		if strings.HasPrefix(strings.ToLower(u), "www.") {
			href = "http://" + u
		}
		out = append(out, span{text: u, href: href})
		s = s[loc[0]+len(u):]
	}
	return out
}

// trimURL drops trailing punctuation that ends the sentence, not the URL.
func trimURL(u string) string {
	for u != "" {
		c := u[len(u)-1]
		if strings.IndexByte(".,;:!?'\"*", c) >= 0 ||
			c == ')' && strings.Count(u, "(") < strings.Count(u, ")") ||
			c == ']' && strings.Count(u, "[") < strings.Count(u, "]") {
			u = u[:len(u)-1]
			continue
		}
		break
	}
	return u
}

// safeHref returns a link target for the schemes render keeps, or "".
func safeHref(h string) string {
	h = strings.TrimSpace(h)
	l := strings.ToLower(h)
	for _, p := range []string{"http://", "https://", "mailto:", "tel:", "ftp://"} {
		if strings.HasPrefix(l, p) && len(h) > len(p) {
			return h
		}
	}
	return ""
}

// invisible are characters that only steer layout or hide text (zero-width
// spaces, soft hyphens, joiners, byte order marks, variation selectors).
var invisible = strings.NewReplacer(
	"\u00ad", "", "\u034f", "", "\u200b", "", "\u200c", "", "\u200d", "",
	"\u2060", "", "\ufeff", "", "\ufe0f", "", "\ufe0e", "", "\u00a0", " ",
)
