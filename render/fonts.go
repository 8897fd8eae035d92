package render

import (
	"encoding/binary"
	"os"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gobolditalic"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// face is one TrueType font as the PDF layout sees it: which runes it has
// and how wide they are (in 1/1000 em, the unit PDF font metrics use).
type face struct {
	family string // fpdf family name
	style  string // fpdf style: "", "B", "I" or "BI"
	psName string // PostScript name, for the PDF's font name
	ttf    []byte
	// Bundled faces have full tables, computed once.
	has   *[0x10000 / 64]uint64
	width *[0x10000]uint16
	// Extra faces are looked up lazily, per document.
	sf    *sfnt.Font
	buf   sfnt.Buffer
	cache map[rune]uint16 // width+1, or 0 for "not in the font"
	// pua maps the characters above U+FFFF that an extra face has to the
	// codes they are drawn with (fontmap.go); nil for most fonts.
	pua map[rune]uint16
	// subset: once fpdf has an extra face, the characters its cmap in
	// this document has (fontsubset.go); nil before, and for bundled faces.
	subset map[rune]bool
}

// The bundled Go fonts (WGL4: Latin, Greek, Cyrillic), each with its
// coverage and widths computed on first use: regular and bold for text,
// italic and bold italic for <i>, <em> and <cite>, mono and mono bold for
// <pre> and <code> and for tables and ASCII art in plain text mail.
var (
	goRegular    = bundledFace("go", "", "Go-Regular", goregular.TTF)
	goBold       = bundledFace("go", "B", "Go-Bold", gobold.TTF)
	goItalic     = bundledFace("go", "I", "Go-Italic", goitalic.TTF)
	goBoldItalic = bundledFace("go", "BI", "Go-BoldItalic", gobolditalic.TTF)
	goMono       = bundledFace("gomono", "", "Go-Mono", gomono.TTF)
	goMonoBold   = bundledFace("gomono", "B", "Go-Mono-Bold", gomonobold.TTF)
)

func bundledFace(family, style, psName string, ttf []byte) func() *face {
	return sync.OnceValue(func() *face { return tableFace(family, style, psName, ttf) })
}

// bundled returns the Go Regular and Go Bold faces.
func bundled() (*face, *face) {
	return goRegular(), goBold()
}

// variant returns the bundled face for a style.
func variant(bold, italic, mono bool) *face {
	switch {
	case mono && bold:
		return goMonoBold()
	case mono:
		return goMono()
	case bold && italic:
		return goBoldItalic()
	case italic:
		return goItalic()
	case bold:
		return goBold()
	}
	return goRegular()
}

func tableFace(family, style, psName string, ttf []byte) *face {
	f := &face{family: family, style: style, psName: psName, ttf: ttf, has: new([0x10000 / 64]uint64), width: new([0x10000]uint16)}
	sf, err := sfnt.Parse(ttf)
	if err != nil {
		panic("render: bundled font: " + err.Error())
	}
	var buf sfnt.Buffer
	for r := rune(0); r < 0x10000; r++ {
		if g, err := sf.GlyphIndex(&buf, r); err == nil && g != 0 {
			f.has[r/64] |= 1 << (r % 64)
			f.width[r] = advance(sf, &buf, g)
		}
	}
	return f
}

func advance(sf *sfnt.Font, buf *sfnt.Buffer, g sfnt.GlyphIndex) uint16 {
	a, err := sf.GlyphAdvance(buf, g, fixed.I(1000), font.HintingNone)
	if err != nil || a < 0 {
		return 0
	}
	return uint16((a + 32) >> 6)
}

// newExtraFace prepares a caller-supplied font, or returns nil when fpdf
// could not use it (CFF outlines, collections, no Unicode BMP cmap).
func newExtraFace(family string, ttf []byte) *face {
	if !fpdfCanUse(ttf) {
		return nil
	}
	sf, err := sfnt.Parse(ttf)
	if err != nil {
		return nil
	}
	f := &face{family: family, psName: postScriptName(sf, family), ttf: ttf, sf: sf, cache: map[rune]uint16{}}
	if pm := supplementaryMap(ttf, sf); pm.ttf != nil {
		f.ttf, f.pua = pm.ttf, pm.pua
	}
	return f
}

// postScriptName returns the font's PostScript name, kept to the letters,
// digits and hyphens a PDF font name may use, or def.
func postScriptName(sf *sfnt.Font, def string) string {
	n, _ := sf.Name(nil, sfnt.NameIDPostScript)
	n = strings.Map(func(r rune) rune {
		if r == '-' || r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return -1
	}, n)
	if n == "" || len(n) > 63 {
		return def
	}
	return n
}

// covers reports whether the face has a glyph for r.
func (f *face) covers(r rune) bool {
	switch {
	case f.subset != nil:
		return f.subset[r]
	case r >= 0x10000:
		return f.pua[r] != 0
	case r < 0, f.pua != nil && r >= puaFirst && r <= puaLast:
		return false // its own private characters are not drawn
	}
	if f.has != nil {
		return f.has[r/64]&(1<<(r%64)) != 0
	}
	return f.lookup(r) != 0
}

// code is what r is drawn with in the face: r, or its code in the Private
// Use Area for a character above U+FFFF.
func (f *face) code(r rune) rune {
	if r >= 0x10000 {
		return rune(f.pua[r])
	}
	return r
}

// advance returns r's width in 1/1000 em.
func (f *face) advance(r rune) float64 {
	if f.width != nil {
		return float64(f.width[r])
	}
	return float64(f.lookup(r) - 1)
}

func (f *face) lookup(r rune) uint16 {
	if v, ok := f.cache[r]; ok {
		return v
	}
	var v uint16
	if g, err := f.sf.GlyphIndex(&f.buf, r); err == nil && g != 0 {
		v = advance(f.sf, &f.buf, g) + 1
	}
	f.cache[r] = v
	return v
}

// fpdfCanUse checks what go-pdf/fpdf's TrueType parser needs, so that a bad
// font is skipped instead of failing the document: TrueType outlines, the
// tables it reads, and a format 4 Unicode cmap.
func fpdfCanUse(b []byte) bool {
	if len(b) < 12 {
		return false
	}
	if v := binary.BigEndian.Uint32(b); v != 0x00010000 && v != 0x74727565 { // 1.0 or 'true'
		return false
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if len(b) < 12+16*n {
		return false
	}
	tables := map[string][2]int{}
	for i := 0; i < n; i++ {
		rec := b[12+16*i:]
		off, size := int(binary.BigEndian.Uint32(rec[8:])), int(binary.BigEndian.Uint32(rec[12:]))
		if off < 0 || size < 0 || off+size > len(b) || off+size < off {
			return false
		}
		tables[string(rec[:4])] = [2]int{off, size}
	}
	for _, t := range []string{"head", "hhea", "hmtx", "maxp", "cmap", "glyf", "loca", "post", "name", "OS/2"} {
		if _, ok := tables[t]; !ok {
			return false
		}
	}
	cm := tables["cmap"]
	c := b[cm[0] : cm[0]+cm[1]]
	if len(c) < 4 {
		return false
	}
	for i := 0; i < int(binary.BigEndian.Uint16(c[2:])); i++ {
		if 4+8*i+8 > len(c) {
			return false
		}
		rec := c[4+8*i:]
		platform, enc := binary.BigEndian.Uint16(rec), binary.BigEndian.Uint16(rec[2:])
		off := int(binary.BigEndian.Uint32(rec[4:]))
		if (platform == 3 && enc == 1 || platform == 0) && off+2 <= len(c) && binary.BigEndian.Uint16(c[off:]) == 4 {
			return true
		}
	}
	return false
}

// systemFontFiles are Debian locations of TrueType (not CFF, not .ttc) fonts
// for scripts Go's fonts lack, best first, each with the characters that
// show which script group it serves. fonts-noto-core's small per-script
// fonts come before fonts-ancient-scripts' large ones that cover several
// historic scripts each: fpdf's time per font grows with its size.
var systemFontFiles = []struct{ path, sample string }{
	{"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", "漢か"}, // fonts-droid-fallback: CJK
	{"/usr/share/fonts/truetype/droid/DroidSansFallback.ttf", "漢か"},
	{"/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf", "漢か"}, // fonts-ipafont-gothic: Japanese
	{"/usr/share/fonts/truetype/fonts-japanese-gothic.ttf", "漢か"},
	{"/usr/share/fonts/truetype/vlgothic/VL-Gothic-Regular.ttf", "漢か"},
	{"/usr/share/fonts/truetype/nanum/NanumGothic.ttf", "회한"}, // fonts-nanum: Korean (Droid lacks most Hangul)
	{"/usr/share/fonts/truetype/unfonts-core/UnDotum.ttf", "회한"},
	{"/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf", "漢"}, // Chinese
	{"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "שع"},       // fonts-dejavu-core: Hebrew, Arabic
	{"/usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf", "ש"},
	{"/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf", "ع"},
	{"/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf", "ع"},
	{"/usr/share/fonts/truetype/freefont/FreeSans.ttf", "שع"},
	// Monochrome emoji and symbols, also above U+FFFF (fontmap.go), and
	// the mathematical alphanumerics (𝐀, 𝔸).
	{"/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf", "😀🎉𝐀𝔸"}, // fonts-symbola
	{"/usr/share/fonts/truetype/noto/NotoSansSymbols2-Regular.ttf", "😀🎉"},  // fonts-noto-core
	{"/usr/share/fonts/truetype/noto/NotoSansMath-Regular.ttf", "𝐀𝔸"},
	// Historic and other scripts above U+FFFF, and Runic.
	{"/usr/share/fonts/truetype/noto/NotoSansGothic-Regular.ttf", "𐌰"}, // fonts-noto-core
	{"/usr/share/fonts/truetype/noto/NotoSansOldItalic-Regular.ttf", "𐌀"},
	{"/usr/share/fonts/truetype/noto/NotoSansLinearB-Regular.ttf", "𐀀"},
	{"/usr/share/fonts/truetype/noto/NotoSansCypriot-Regular.ttf", "𐠀"},
	{"/usr/share/fonts/truetype/noto/NotoSansUgaritic-Regular.ttf", "𐎀"},
	{"/usr/share/fonts/truetype/noto/NotoSansPhoenician-Regular.ttf", "𐤀"},
	{"/usr/share/fonts/truetype/noto/NotoSansOldPersian-Regular.ttf", "𐎠"},
	{"/usr/share/fonts/truetype/noto/NotoSansDeseret-Regular.ttf", "𐐀"},
	{"/usr/share/fonts/truetype/noto/NotoSansShavian-Regular.ttf", "𐑐"},
	{"/usr/share/fonts/truetype/noto/NotoSansOsmanya-Regular.ttf", "𐒀"},
	{"/usr/share/fonts/truetype/noto/NotoSansRunic-Regular.ttf", "ᚠ"},
	{"/usr/share/fonts/truetype/noto/NotoSansCuneiform-Regular.ttf", "𒀀"},
	{"/usr/share/fonts/truetype/noto/NotoSansEgyptianHieroglyphs-Regular.ttf", "𓀀"},
	{"/usr/share/fonts/truetype/ancient-scripts/Analecta_hint.ttf", "𐌰𐐀"},  // fonts-ancient-scripts: Gothic, Deseret
	{"/usr/share/fonts/truetype/ancient-scripts/Aegean_hint.ttf", "𐀀𐠀𐎀𐤀𐌀"}, // Linear B, Cypriot, Ugaritic, Phoenician, Old Italic
	{"/usr/share/fonts/truetype/ancient-scripts/Akkadian_hint.ttf", "𒀀"},
	{"/usr/share/fonts/truetype/ancient-scripts/Gardiner_hint.ttf", "𓀀"},
}

// SystemFonts returns TrueType fonts found in the usual Debian locations
// for the scripts the bundled font lacks (CJK, Arabic, Hebrew), for emoji
// (fonts-symbola, else fonts-noto-core's Noto Sans Symbols 2), and for
// mathematical letters and historic scripts above U+FFFF (fonts-noto-core,
// else fonts-ancient-scripts), or nil. It is the only function in render
// that does I/O; the caller loads the fonts once and passes them in
// Options.ExtraFonts. A font is returned only if it has a sample character
// that the fonts before it lack, so one font per script group is loaded.
func SystemFonts() [][]byte {
	var out [][]byte
	have := map[rune]bool{}
	for _, sf := range systemFontFiles {
		missing := false
		for _, r := range sf.sample {
			missing = missing || !have[r]
		}
		if !missing {
			continue
		}
		b, err := os.ReadFile(sf.path)
		if err != nil {
			continue
		}
		f := newExtraFace("probe", b)
		if f == nil {
			continue
		}
		useful := false
		for _, r := range sf.sample {
			if !have[r] && f.covers(r) {
				have[r], useful = true, true
			}
		}
		if useful {
			out = append(out, b)
		}
	}
	return out
}
