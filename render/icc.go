package render

import (
	"encoding/binary"
	"math"
	"sync"
)

// srgbICC returns a small ICC version 2 display profile of sRGB
// (IEC 61966-2-1), built once: the PDF/A output intent needs one, and a
// profile made here from the standard's numbers needs no bundled file or
// licence. It is a matrix/TRC profile: the D50-adapted primaries that the
// ICC publishes for sRGB, the D50 white point, and the sRGB tone curve
// sampled at 1024 points (one curve shared by the three channels).
var srgbICC = sync.OnceValue(func() []byte {
	s15 := func(v float64) uint32 { return uint32(int32(math.Round(v * 65536))) }
	xyz := func(x, y, z float64) []byte {
		b := make([]byte, 20)
		copy(b, "XYZ ")
		binary.BigEndian.PutUint32(b[8:], s15(x))
		binary.BigEndian.PutUint32(b[12:], s15(y))
		binary.BigEndian.PutUint32(b[16:], s15(z))
		return b
	}
	const points = 1024
	curve := make([]byte, 12+2*points)
	copy(curve, "curv")
	binary.BigEndian.PutUint32(curve[8:], points)
	for i := 0; i < points; i++ {
		c := float64(i) / (points - 1)
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		binary.BigEndian.PutUint16(curve[12+2*i:], uint16(math.Round(c*65535)))
	}
	// textDescriptionType: ASCII part, then empty Unicode and ScriptCode parts.
	name := "sRGB IEC61966-2.1 (mailfs)\x00"
	desc := make([]byte, 12+len(name)+4+4+2+1+67)
	copy(desc, "desc")
	binary.BigEndian.PutUint32(desc[8:], uint32(len(name)))
	copy(desc[12:], name)
	cprt := append([]byte("text\x00\x00\x00\x00"), "No copyright, use freely\x00"...)

	tags := []struct {
		sig  string
		data []byte
	}{
		{"desc", desc}, {"cprt", cprt}, {"wtpt", xyz(0.9642, 1, 0.8249)},
		{"rXYZ", xyz(0.4361, 0.2225, 0.0139)}, {"gXYZ", xyz(0.3851, 0.7169, 0.0971)},
		{"bXYZ", xyz(0.1431, 0.0606, 0.7141)},
		{"rTRC", curve}, {"gTRC", nil}, {"bTRC", nil}, // nil: the same data as rTRC
	}
	p := make([]byte, 128+4+12*len(tags))
	binary.BigEndian.PutUint32(p[128:], uint32(len(tags)))
	var off, size uint32
	for i, t := range tags {
		if t.data != nil {
			for len(p)%4 != 0 {
				p = append(p, 0)
			}
			off, size = uint32(len(p)), uint32(len(t.data))
			p = append(p, t.data...)
		}
		e := p[132+12*i:]
		copy(e, t.sig)
		binary.BigEndian.PutUint32(e[4:], off)
		binary.BigEndian.PutUint32(e[8:], size)
	}
	for len(p)%4 != 0 {
		p = append(p, 0)
	}
	// The header.
	binary.BigEndian.PutUint32(p[0:], uint32(len(p)))
	binary.BigEndian.PutUint32(p[8:], 0x02100000) // version 2.1
	copy(p[12:], "mntrRGB XYZ ")
	for i, v := range []uint16{2024, 1, 1, 0, 0, 0} { // creation date, fixed
		binary.BigEndian.PutUint16(p[24+2*i:], v)
	}
	copy(p[36:], "acsp")
	binary.BigEndian.PutUint32(p[68:], s15(0.9642)) // PCS illuminant D50
	binary.BigEndian.PutUint32(p[72:], s15(1))
	binary.BigEndian.PutUint32(p[76:], s15(0.8249))
	return p
})
