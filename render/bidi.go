package render

import "unicode"

// A small right-to-left layer for the PDF view, enough for Hebrew and
// Arabic mail: Arabic letters are shaped into their presentation forms
// (initial, medial, final, isolated, lam-alef ligatures), words of
// right-to-left script are reversed, and each line is put in visual order
// by the paragraph direction. It is not the full Unicode bidi algorithm.

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

// reverseCells reverses a right-to-left word for left-to-right drawing,
// keeping combining marks after their base letter.
func reverseCells(cs []cell) []cell {
	out := make([]cell, 0, len(cs))
	for end := len(cs); end > 0; {
		start := end - 1
		for start > 0 && unicode.Is(unicode.Mn, cs[start].r) {
			start--
		}
		out = append(out, cs[start:end]...)
		end = start
	}
	return out
}

// visualOrder reorders the pieces of one line for drawing left to right.
// dirs holds each piece's direction (0 for spaces and punctuation).
func visualOrder(n int, dirs []int8, rtlPara bool, swap func(i, j int)) {
	para := int8(-1)
	if rtlPara {
		para = 1
	}
	res := make([]int8, n)
	for i := range res {
		res[i] = dirs[i]
		if res[i] != 0 {
			continue
		}
		prev, next := para, para
		for j := i - 1; j >= 0; j-- {
			if dirs[j] != 0 {
				prev = dirs[j]
				break
			}
		}
		for j := i + 1; j < n; j++ {
			if dirs[j] != 0 {
				next = dirs[j]
				break
			}
		}
		if prev == next {
			res[i] = prev
		} else {
			res[i] = para
		}
	}
	reverse := func(i, j int) {
		for ; i < j; i, j = i+1, j-1 {
			swap(i, j)
			res[i], res[j] = res[j], res[i]
		}
	}
	if rtlPara {
		reverse(0, n-1)
	}
	// Reverse each run that goes against the paragraph direction.
	for i := 0; i < n; {
		if res[i] == para {
			i++
			continue
		}
		j := i
		for j+1 < n && res[j+1] != para {
			j++
		}
		reverse(i, j)
		i = j + 1
	}
}
