package render

import (
	"slices"
	"unicode"

	"golang.org/x/text/unicode/bidi"
)

// The right-to-left layer of the PDF view: Arabic letters are shaped into
// their presentation forms (initial, medial, final, isolated, lam-alef
// ligatures), each paragraph's characters get their levels by the Unicode
// bidi algorithm, and each line is put in visual order from them.

func isRTL(r rune) bool {
	return r >= 0x0590 && r <= 0x08FF || r >= 0xFB1D && r <= 0xFDFF || r >= 0xFE70 && r <= 0xFEFF
}

// direction of a rune: 1 right-to-left, -1 left-to-right, 0 neutral.
func direction(r rune) int8 {
	switch {
	case isRTL(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r):
		return 1
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		return -1
	}
	return 0
}

// arabicForms holds, for each letter, its isolated, final, initial and
// medial forms; a letter with only two forms joins to the right only.
var arabicForms = map[rune][]rune{
	0x0621: {0xFE80}, 0x0622: {0xFE81, 0xFE82}, 0x0623: {0xFE83, 0xFE84},
	0x0624: {0xFE85, 0xFE86}, 0x0625: {0xFE87, 0xFE88}, 0x0626: {0xFE89, 0xFE8A, 0xFE8B, 0xFE8C},
	0x0627: {0xFE8D, 0xFE8E}, 0x0628: {0xFE8F, 0xFE90, 0xFE91, 0xFE92}, 0x0629: {0xFE93, 0xFE94},
	0x062A: {0xFE95, 0xFE96, 0xFE97, 0xFE98}, 0x062B: {0xFE99, 0xFE9A, 0xFE9B, 0xFE9C},
	0x062C: {0xFE9D, 0xFE9E, 0xFE9F, 0xFEA0}, 0x062D: {0xFEA1, 0xFEA2, 0xFEA3, 0xFEA4},
	0x062E: {0xFEA5, 0xFEA6, 0xFEA7, 0xFEA8}, 0x062F: {0xFEA9, 0xFEAA}, 0x0630: {0xFEAB, 0xFEAC},
	0x0631: {0xFEAD, 0xFEAE}, 0x0632: {0xFEAF, 0xFEB0}, 0x0633: {0xFEB1, 0xFEB2, 0xFEB3, 0xFEB4},
	0x0634: {0xFEB5, 0xFEB6, 0xFEB7, 0xFEB8}, 0x0635: {0xFEB9, 0xFEBA, 0xFEBB, 0xFEBC},
	0x0636: {0xFEBD, 0xFEBE, 0xFEBF, 0xFEC0}, 0x0637: {0xFEC1, 0xFEC2, 0xFEC3, 0xFEC4},
	0x0638: {0xFEC5, 0xFEC6, 0xFEC7, 0xFEC8}, 0x0639: {0xFEC9, 0xFECA, 0xFECB, 0xFECC},
	0x063A: {0xFECD, 0xFECE, 0xFECF, 0xFED0}, 0x0640: {0x0640, 0x0640, 0x0640, 0x0640},
	0x0641: {0xFED1, 0xFED2, 0xFED3, 0xFED4}, 0x0642: {0xFED5, 0xFED6, 0xFED7, 0xFED8},
	0x0643: {0xFED9, 0xFEDA, 0xFEDB, 0xFEDC}, 0x0644: {0xFEDD, 0xFEDE, 0xFEDF, 0xFEE0},
	0x0645: {0xFEE1, 0xFEE2, 0xFEE3, 0xFEE4}, 0x0646: {0xFEE5, 0xFEE6, 0xFEE7, 0xFEE8},
	0x0647: {0xFEE9, 0xFEEA, 0xFEEB, 0xFEEC}, 0x0648: {0xFEED, 0xFEEE}, 0x0649: {0xFEEF, 0xFEF0},
	0x064A: {0xFEF1, 0xFEF2, 0xFEF3, 0xFEF4},
	0x067E: {0xFB56, 0xFB57, 0xFB58, 0xFB59}, 0x0686: {0xFB7A, 0xFB7B, 0xFB7C, 0xFB7D},
	0x0698: {0xFB8A, 0xFB8B}, 0x06A9: {0xFB8E, 0xFB8F, 0xFB90, 0xFB91},
	0x06AF: {0xFB92, 0xFB93, 0xFB94, 0xFB95}, 0x06CC: {0xFBFC, 0xFBFD, 0xFBFE, 0xFBFF},
}

// lamAlef maps the alef that follows a lam to the isolated ligature; the
// final form is the next code point.
var lamAlef = map[rune]rune{0x0622: 0xFEF5, 0x0623: 0xFEF7, 0x0625: 0xFEF9, 0x0627: 0xFEFB}

// arabicLetters maps each presentation form of arabicForms and lamAlef
// back to the letters it shows, for the PDF's text layer.
var arabicLetters = func() map[rune]string {
	m := map[rune]string{}
	for r, forms := range arabicForms {
		for _, f := range forms {
			if f != r && f >= 0xFB50 {
				m[f] = string(r)
			}
		}
	}
	// A ligature's letters are given in the order they are drawn in, as
	// all glyphs of the page are (visual order, alef left of lam): text
	// extractors (poppler, pdf.js) turn right-to-left text into logical
	// order by reversing it, and would otherwise make "la" of "lam alef".
	for alef, lig := range lamAlef {
		m[lig], m[lig+1] = string([]rune{alef, 0x0644}), string([]rune{alef, 0x0644})
	}
	return m
}()

// shapeArabic replaces Arabic letters by their contextual presentation
// forms. ok(r) tells whether a form can be drawn; when not, the letter is
// left as it is.
func shapeArabic(rs []rune, ok func(rune) bool) []rune {
	joinsLeft := func(r rune) bool { return len(arabicForms[r]) == 4 }
	// neighbour finds the next letter in direction d, skipping marks.
	neighbour := func(i, d int) rune {
		for j := i + d; j >= 0 && j < len(rs); j += d {
			if !unicode.Is(unicode.Mn, rs[j]) {
				return rs[j]
			}
		}
		return 0
	}
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		forms := arabicForms[r]
		if forms == nil {
			out = append(out, r)
			continue
		}
		prev := neighbour(i, -1)
		joinPrev := joinsLeft(prev)
		if r == 0x0644 {
			if next := neighbour(i, 1); lamAlef[next] != 0 && i+1 < len(rs) && rs[i+1] == next {
				lig := lamAlef[next]
				if joinPrev {
					lig++
				}
				if ok(lig) {
					out = append(out, lig)
					i++
					continue
				}
			}
		}
		joinNext := len(forms) == 4 && len(arabicForms[neighbour(i, 1)]) >= 2
		var f rune
		switch {
		case joinPrev && joinNext:
			f = forms[3]
		case joinPrev:
			f = forms[min(1, len(forms)-1)]
		case joinNext:
			f = forms[2]
		default:
			f = forms[0]
		}
		if !ok(f) {
			f = r
		}
		out = append(out, f)
	}
	return out
}

// bidiLevels gives each cell its embedding level by the Unicode bidi
// algorithm (UAX #9, golang.org/x/text/unicode/bidi) for a paragraph of
// the given direction: 0 left to right, 1 right to left, 2 left to right
// within right to left (numbers, Latin words in Hebrew text). The package
// gives the runs of even and odd level; a number right after right-to-left
// text in a left-to-right paragraph keeps level 2 (rules W7 and I1), which
// the runs alone would merge into the level 0 text after it.
func bidiLevels(cells []cell, rtl bool) {
	rs := make([]rune, 0, len(cells)+1)
	var opts []bidi.Option
	if rtl {
		opts = append(opts, bidi.DefaultDirection(bidi.RightToLeft))
	} else {
		rs = append(rs, '\u200e') // a left-to-right mark: the paragraph is LTR
	}
	skip := len(rs)
	for _, c := range cells {
		if c.r == '\n' {
			rs = append(rs, '\u2028') // a line separator, not a new paragraph
		} else {
			rs = append(rs, c.r)
		}
	}
	var p bidi.Paragraph
	if _, err := p.SetString(string(rs), opts...); err != nil {
		return
	}
	o, err := p.Order()
	if err != nil {
		return
	}
	base := int8(0)
	if rtl {
		base = 1
	}
	prevRTL := false
	for i := 0; i < o.NumRuns(); i++ {
		run := o.Run(i)
		start, end := run.Pos()
		isRTL := run.Direction() == bidi.RightToLeft
		lvl := int8(1)
		if !isRTL {
			lvl = base * 2
		}
		k := start
		if !isRTL && !rtl && prevRTL {
			// Digits (with their separators) right after RTL text.
			last := -1
			for k <= end {
				pr, _ := bidi.LookupRune(rs[k])
				cl := pr.Class()
				if cl == bidi.EN || cl == bidi.AN {
					last = k
				} else if cl != bidi.CS && cl != bidi.ES && cl != bidi.ET && cl != bidi.NSM {
					break
				}
				k++
			}
			for j := start; j <= last; j++ {
				if j >= skip {
					cells[j-skip].level = 2
				}
			}
			k = max(last+1, start)
		}
		for j := k; j <= end; j++ {
			if j >= skip {
				cells[j-skip].level = lvl
			}
		}
		prevRTL = isRTL
	}
}

// reorder puts the cells of one line in drawing order (UAX #9 L2–L4):
// from the highest level down to the lowest odd one, each sequence at that
// level or above is reversed; a combining mark stays after its base
// letter, and brackets at odd levels are mirrored.
func reorder(cs []cell) []cell {
	var hi int8
	lowOdd := int8(127)
	for _, c := range cs {
		hi = max(hi, c.level)
		if c.level%2 == 1 {
			lowOdd = min(lowOdd, c.level)
		}
	}
	if hi == 0 {
		return cs
	}
	lowOdd = min(lowOdd, hi)
	// Clusters: a base and its marks, reversed as one.
	type cluster struct{ i, j int }
	var cl []cluster
	for i := 0; i < len(cs); {
		j := i + 1
		for j < len(cs) && unicode.Is(unicode.Mn, cs[j].r) {
			j++
		}
		cl = append(cl, cluster{i, j})
		i = j
	}
	for lvl := hi; lvl >= lowOdd && lvl > 0; lvl-- {
		for i := 0; i < len(cl); {
			if cs[cl[i].i].level < lvl {
				i++
				continue
			}
			j := i
			for j < len(cl) && cs[cl[j].i].level >= lvl {
				j++
			}
			slices.Reverse(cl[i:j])
			i = j
		}
	}
	out := make([]cell, 0, len(cs))
	for _, c := range cl {
		for _, x := range cs[c.i:c.j] {
			if x.level%2 == 1 {
				if m, ok := mirrored[x.r]; ok {
					x.r = m
				}
			}
			out = append(out, x)
		}
	}
	return out
}

// mirrored are the paired characters drawn mirrored in right-to-left text.
var mirrored = map[rune]rune{'(': ')', ')': '(', '[': ']', ']': '[', '{': '}', '}': '{', '<': '>', '>': '<',
	'«': '»', '»': '«', '‹': '›', '›': '‹'}
