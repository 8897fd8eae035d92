package render

import (
	"encoding/binary"
	"sync"
	"unsafe"

	"golang.org/x/image/font/sfnt"
)

// Characters above U+FFFF (emoji, symbols, historic scripts): fpdf's fonts
// are addressed by 16-bit codes that are the characters themselves, so it
// cannot draw them. An extra font that has such glyphs is given to fpdf
// with a cmap of its own that also maps codes of the Private Use Area
// (U+E000–U+F8FF, 6400 codes) to them; render draws those codes, and the
// archival pass writes a ToUnicode CMap that maps each code drawn back to
// its character (pdfa.go), so the text layer holds the emoji, not the code.

const (
	puaFirst = 0xE000
	puaLast  = 0xF8FF
)

// planeMap is an extra font with its Private Use Area remapped.
type planeMap struct {
	ttf []byte          // the font with the new cmap; nil if it has no glyph above U+FFFF
	pua map[rune]uint16 // character above U+FFFF -> the code it is drawn with
}

type fontKey struct {
	p *byte
	n int
}

// planeMaps caches a planeMap per caller font (the slices do not change
// while renders run, see Options).
var planeMaps sync.Map // fontKey -> *planeMap

// supplementaryMap returns the planeMap of an extra font.
func supplementaryMap(ttf []byte, sf *sfnt.Font) *planeMap {
	key := fontKey{unsafe.SliceData(ttf), len(ttf)}
	if v, ok := planeMaps.Load(key); ok {
		return v.(*planeMap)
	}
	pm := buildPlaneMap(ttf, sf)
	v, _ := planeMaps.LoadOrStore(key, pm)
	return v.(*planeMap)
}

func buildPlaneMap(ttf []byte, sf *sfnt.Font) *planeMap {
	var buf sfnt.Buffer
	pm := &planeMap{pua: map[rune]uint16{}}
	var codes, glyphs []uint16
	for r := rune(0); r < 0x10000; r++ {
		if r >= puaFirst && r <= puaLast || r == 0xFFFF {
			continue
		}
		if g, err := sf.GlyphIndex(&buf, r); err == nil && g != 0 {
			codes, glyphs = append(codes, uint16(r)), append(glyphs, uint16(g))
		}
	}
	// Characters after the Private Use Area, in order: insert there.
	at := len(codes)
	for i, c := range codes {
		if c > puaLast {
			at = i
			break
		}
	}
	var puaCodes, puaGlyphs []uint16
	next := rune(puaFirst)
	for r := rune(0x10000); r < 0x30000 && next <= puaLast; r++ {
		if g, err := sf.GlyphIndex(&buf, r); err == nil && g != 0 {
			pm.pua[r] = uint16(next)
			puaCodes, puaGlyphs = append(puaCodes, uint16(next)), append(puaGlyphs, uint16(g))
			next++
		}
	}
	if len(pm.pua) == 0 {
		return &planeMap{}
	}
	codes = append(codes[:at:at], append(puaCodes, codes[at:]...)...)
	glyphs = append(glyphs[:at:at], append(puaGlyphs, glyphs[at:]...)...)
	cmap := cmapFormat4(codes, glyphs)
	if cmap == nil {
		return &planeMap{}
	}
	pm.ttf = replaceTable(ttf, "cmap", cmap)
	if pm.ttf == nil {
		return &planeMap{}
	}
	return pm
}

// cmapFormat4 writes a cmap table with one (3, 1) format 4 subtable that
// maps the sorted codes to glyphs, or nil if it would be too long.
func cmapFormat4(codes, glyphs []uint16) []byte {
	type seg struct {
		start, end   uint16
		delta        uint16
		first        int // index in codes
		constDelta   bool
		arrayStartAt int // index in glyphIdArray
	}
	var segs []seg
	for i := 0; i < len(codes); {
		j := i + 1
		for j < len(codes) && codes[j] == codes[j-1]+1 && codes[j] != 0xFFFF {
			j++
		}
		s := seg{start: codes[i], end: codes[j-1], first: i, constDelta: true, delta: glyphs[i] - codes[i]}
		for k := i; k < j; k++ {
			if glyphs[k]-codes[k] != s.delta {
				s.constDelta = false
				break
			}
		}
		segs = append(segs, s)
		i = j
	}
	segs = append(segs, seg{start: 0xFFFF, end: 0xFFFF, delta: 1, constDelta: true})
	var array []uint16
	for i := range segs {
		if !segs[i].constDelta {
			segs[i].arrayStartAt = len(array)
			array = append(array, glyphs[segs[i].first:segs[i].first+int(segs[i].end-segs[i].start)+1]...)
		}
	}
	n := len(segs)
	length := 16 + 8*n + 2*len(array)
	if length > 0xFFFF {
		return nil
	}
	b := make([]byte, 12, 12+length)
	be := binary.BigEndian
	be.PutUint16(b[2:], 1)  // one subtable
	be.PutUint16(b[4:], 3)  // Windows
	be.PutUint16(b[6:], 1)  // Unicode BMP
	be.PutUint32(b[8:], 12) // its offset
	u16 := func(v uint16) { b = be.AppendUint16(b, v) }
	search := 1
	sel := 0
	for search*2 <= n {
		search *= 2
		sel++
	}
	for _, v := range []int{4, length, 0, 2 * n, 2 * search, sel, 2*n - 2*search} {
		u16(uint16(v))
	}
	for _, s := range segs {
		u16(s.end)
	}
	u16(0)
	for _, s := range segs {
		u16(s.start)
	}
	for _, s := range segs {
		if s.constDelta {
			u16(s.delta)
		} else {
			u16(0)
		}
	}
	for i, s := range segs {
		if s.constDelta {
			u16(0)
		} else {
			u16(uint16(2*(n-i) + 2*s.arrayStartAt))
		}
	}
	for _, g := range array {
		u16(g)
	}
	return b
}

// replaceTable returns a copy of a TrueType font whose table tag is data,
// appended at the end (the directory entry points there), or nil when the
// font has no such table.
func replaceTable(ttf []byte, tag string, data []byte) []byte {
	be := binary.BigEndian
	n := int(be.Uint16(ttf[4:]))
	for i := 0; i < n; i++ {
		rec := 12 + 16*i
		if string(ttf[rec:rec+4]) != tag {
			continue
		}
		out := make([]byte, len(ttf), len(ttf)+len(data)+8)
		copy(out, ttf)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		off := len(out)
		out = append(out, data...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		var sum uint32
		for k := off; k < len(out); k += 4 {
			sum += be.Uint32(out[k:])
		}
		be.PutUint32(out[rec+4:], sum)
		be.PutUint32(out[rec+8:], uint32(off))
		be.PutUint32(out[rec+12:], uint32(len(data)))
		return out
	}
	return nil
}
