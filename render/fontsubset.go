package render

import (
	"bytes"
	"html"
	"slices"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/norm"
)

// fpdf parses every font it is given per document, and its time grows
// with the font's character map: Symbola's (about 11,000 characters) cost
// several milliseconds per PDF, its fixed cost per font included. An extra
// font is therefore given to fpdf with a character map of only the
// characters this message has (docRunes): the same glyph data, a small
// cmap. From then on the face covers only those characters in this
// document, so a character the gathering missed falls to the next font, as
// if the font lacked it, and is never drawn as a missing glyph. The cmap
// depends on the message alone, so the bytes stay deterministic; the
// shared font bytes are only read.

// docRunes gathers every character above U+007F that the message's views
// could show: header fields, body texts (HTML with its entities decoded,
// so the markup adds a few extra letters at most), notes, attachment
// names and attached messages, each also in NFC as the layout draws it.
func docRunes(m *message) map[rune]bool {
	set := map[rune]bool{}
	add := func(s string) {
		for _, t := range []string{s, norm.NFC.String(s)} {
			for _, r := range t {
				if r >= 0x80 {
					set[r] = true
				}
			}
		}
	}
	var walkMsg func(m *message, depth int)
	var walk func(ns []node, depth int)
	walk = func(ns []node, depth int) {
		for _, n := range ns {
			switch n.kind {
			case nHTML:
				add(html.UnescapeString(n.text))
			case nAlt:
				for _, a := range n.alts {
					walk(a, depth)
				}
			case nMessage:
				walkMsg(n.msg, depth+1)
			default:
				add(n.text)
			}
			if n.att != nil {
				add(n.att.name)
			}
		}
	}
	walkMsg = func(m *message, depth int) {
		if m == nil || depth > maxDepth {
			return
		}
		h := m.hdr
		add(h.From + h.To + h.Cc + h.Date + h.Subject)
		walk(m.body, depth)
		for _, a := range m.parts {
			add(a.name)
			walkMsg(a.msg, depth+1)
		}
	}
	walkMsg(m, 0)
	for r := range set {
		if r >= 0x0600 && r <= 0x06FF { // shaped to presentation forms (shapeArabic)
			for p := rune(0xFB50); p <= 0xFEFF; p++ {
				set[p] = true
			}
			break
		}
	}
	return set
}

// subsetFont returns the font file fpdf gets for an extra face in this
// document: its glyphs with a cmap of the characters in want that it has,
// which become the face's subset; nil if the cmap cannot be written (the
// whole font is used then).
func (f *face) subsetFont(want map[rune]bool) []byte {
	rs := make([]rune, 0, len(want))
	for r := range want {
		if f.covers(r) {
			rs = append(rs, r)
		}
	}
	slices.SortFunc(rs, func(a, b rune) int { return int(f.code(a)) - int(f.code(b)) })
	var buf sfnt.Buffer
	codes, glyphs := make([]uint16, 0, len(rs)), make([]uint16, 0, len(rs))
	subset := make(map[rune]bool, len(rs))
	for _, r := range rs {
		g, err := f.sf.GlyphIndex(&buf, r)
		if err != nil || g == 0 || f.code(r) == 0xFFFF {
			continue
		}
		codes, glyphs = append(codes, uint16(f.code(r))), append(glyphs, uint16(g))
		subset[r] = true
	}
	cmap := cmapFormat4(codes, glyphs)
	if cmap == nil {
		return bytes.Clone(f.ttf)
	}
	out := replaceTable(f.ttf, "cmap", cmap)
	if out == nil {
		return bytes.Clone(f.ttf)
	}
	f.subset = subset
	return out
}
