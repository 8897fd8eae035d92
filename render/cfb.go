package render

import (
	"encoding/binary"
	"slices"
	"unicode"
	"unicode/utf16"
)

// A small writer of Compound File Binary files (MS-CFB), version 3 with
// 512-byte sectors, as .msg files are. It writes a whole tree at once:
// the sizes of everything are known before the first byte, so the layout
// is computed up front and the file is one allocation. The layout is
// fixed: the big streams' sectors, the mini stream, the mini FAT, the
// directory, then the FAT and (beyond 109 FAT sectors, about 7 MB) the
// DIFAT. Directory entries carry no times and only the CLSIDs the caller
// sets, so the bytes depend on the tree alone.

// cfbEntry is a storage (with kids) or a stream (with data).
type cfbEntry struct {
	name    string
	storage bool
	clsid   [16]byte
	data    []byte
	kids    []*cfbEntry
}

const (
	cfbSector     = 512
	cfbMini       = 64
	cfbMiniCutoff = 4096 // streams smaller than this live in the mini stream
	cfbDirEntry   = 128
	cfbFree       = 0xFFFFFFFF
	cfbEnd        = 0xFFFFFFFE
	cfbFATSect    = 0xFFFFFFFD
	cfbDIFSect    = 0xFFFFFFFC
	cfbNoStream   = 0xFFFFFFFF
	cfbHeaderFAT  = 109 // FAT sector numbers in the header
	cfbPerSector  = cfbSector / 4
)

// cfbNode is a directory entry being laid out.
type cfbNode struct {
	e                  *cfbEntry
	left, right, child uint32
	black              bool
	start              uint32
}

// writeCFB returns the compound file whose root storage is root (its name
// is ignored: the root is always "Root Entry").
func writeCFB(root *cfbEntry) []byte {
	// Directory entries in depth-first order; each storage's children form
	// a balanced binary search tree in the order MS-CFB prescribes.
	var nodes []cfbNode
	var add func(e *cfbEntry) uint32
	add = func(e *cfbEntry) uint32 {
		id := uint32(len(nodes))
		nodes = append(nodes, cfbNode{e: e, left: cfbNoStream, right: cfbNoStream, child: cfbNoStream, black: true})
		if !e.storage {
			return id
		}
		kids := slices.Clone(e.kids)
		slices.SortFunc(kids, func(a, b *cfbEntry) int { return cfbCompare(a.name, b.name) })
		ids := make([]uint32, len(kids))
		for i, k := range kids {
			ids[i] = add(k)
		}
		nodes[id].child = cfbTree(nodes, ids)
		return id
	}
	add(root)

	// Streams: small ones into the mini stream, the rest into sectors.
	var miniLen, bigSectors int
	for i := range nodes {
		n := &nodes[i]
		size := len(n.e.data)
		switch {
		case n.e.storage || size == 0:
			n.start = cfbEnd
		case size < cfbMiniCutoff:
			n.start = uint32(miniLen / cfbMini)
			miniLen += roundUp(size, cfbMini)
		default:
			n.start = uint32(bigSectors)
			bigSectors += roundUp(size, cfbSector) / cfbSector
		}
	}
	miniSectors := miniLen / cfbMini
	miniStreamSectors := roundUp(miniLen, cfbSector) / cfbSector
	miniFATSectors := roundUp(miniSectors*4, cfbSector) / cfbSector
	dirSectors := roundUp(len(nodes)*cfbDirEntry, cfbSector) / cfbSector
	data := bigSectors + miniStreamSectors + miniFATSectors + dirSectors
	fat, difat := 0, 0
	for fat*cfbPerSector < data+fat+difat {
		fat++
		difat = max(0, (fat-cfbHeaderFAT+cfbPerSector-2)/(cfbPerSector-1))
	}
	total := data + fat + difat
	miniStreamStart := bigSectors
	miniFATStart := miniStreamStart + miniStreamSectors
	dirStart := miniFATStart + miniFATSectors
	fatStart := dirStart + dirSectors
	difatStart := fatStart + fat

	out := make([]byte, cfbSector*(1+total))
	le := binary.LittleEndian
	sector := func(s int) []byte { return out[cfbSector*(1+s) : cfbSector*(2+s)] }

	// FAT: chains for the big streams, the mini stream, the mini FAT and
	// the directory; the FAT and DIFAT sectors marked as such.
	fatAt := func(s int) []byte { return out[cfbSector*(1+fatStart)+4*s:] }
	for s := 0; s < fat*cfbPerSector; s++ {
		le.PutUint32(fatAt(s), cfbFree)
	}
	chain := func(start, n int) {
		for s := start; s < start+n; s++ {
			next := uint32(s + 1)
			if s == start+n-1 {
				next = cfbEnd
			}
			le.PutUint32(fatAt(s), next)
		}
	}
	for _, n := range nodes {
		if size := len(n.e.data); !n.e.storage && size >= cfbMiniCutoff {
			chain(int(n.start), roundUp(size, cfbSector)/cfbSector)
			copy(out[cfbSector*(1+int(n.start)):], n.e.data)
		}
	}
	chain(miniStreamStart, miniStreamSectors)
	chain(miniFATStart, miniFATSectors)
	chain(dirStart, dirSectors)
	for s := fatStart; s < difatStart; s++ {
		le.PutUint32(fatAt(s), cfbFATSect)
	}
	for s := difatStart; s < total; s++ {
		le.PutUint32(fatAt(s), cfbDIFSect)
	}

	// Mini stream and mini FAT.
	miniFAT := out[cfbSector*(1+miniFATStart) : cfbSector*(1+dirStart)]
	for i := 0; i < len(miniFAT); i += 4 {
		le.PutUint32(miniFAT[i:], cfbFree)
	}
	mini := out[cfbSector*(1+miniStreamStart):]
	for _, n := range nodes {
		if size := len(n.e.data); !n.e.storage && size > 0 && size < cfbMiniCutoff {
			copy(mini[int(n.start)*cfbMini:], n.e.data)
			first, count := int(n.start), roundUp(size, cfbMini)/cfbMini
			for s := first; s < first+count; s++ {
				next := uint32(s + 1)
				if s == first+count-1 {
					next = cfbEnd
				}
				le.PutUint32(miniFAT[4*s:], next)
			}
		}
	}

	// Directory.
	dir := out[cfbSector*(1+dirStart) : cfbSector*(1+fatStart)]
	for i := 0; i < len(dir)/cfbDirEntry; i++ {
		d := dir[i*cfbDirEntry : (i+1)*cfbDirEntry]
		le.PutUint32(d[68:], cfbNoStream)
		le.PutUint32(d[72:], cfbNoStream)
		le.PutUint32(d[76:], cfbNoStream)
		if i >= len(nodes) {
			continue // unused
		}
		n := nodes[i]
		name := "Root Entry"
		kind := byte(5)
		if i > 0 {
			name, kind = n.e.name, 2
			if n.e.storage {
				kind = 1
			}
		}
		u := utf16.Encode([]rune(name))
		for j, c := range u {
			le.PutUint16(d[2*j:], c)
		}
		le.PutUint16(d[64:], uint16(2*len(u)+2))
		d[66] = kind
		if n.black {
			d[67] = 1
		}
		le.PutUint32(d[68:], n.left)
		le.PutUint32(d[72:], n.right)
		le.PutUint32(d[76:], n.child)
		copy(d[80:96], n.e.clsid[:])
		switch {
		case i == 0: // the root's stream is the mini stream
			le.PutUint32(d[116:], cfbEnd)
			if miniLen > 0 {
				le.PutUint32(d[116:], uint32(miniStreamStart))
				le.PutUint64(d[120:], uint64(miniLen))
			}
		case !n.e.storage: // a storage has start and size zero
			le.PutUint32(d[116:], n.start)
			le.PutUint64(d[120:], uint64(len(n.e.data)))
		}
	}

	// DIFAT sectors: 127 FAT sector numbers each, then the next one's.
	for i := 0; i < difat; i++ {
		d := sector(difatStart + i)
		for j := 0; j < cfbPerSector-1; j++ {
			v := uint32(cfbFree)
			if k := cfbHeaderFAT + i*(cfbPerSector-1) + j; k < fat {
				v = uint32(fatStart + k)
			}
			le.PutUint32(d[4*j:], v)
		}
		next := uint32(cfbEnd)
		if i+1 < difat {
			next = uint32(difatStart + i + 1)
		}
		le.PutUint32(d[cfbSector-4:], next)
	}

	// Header.
	h := out[:cfbSector]
	copy(h, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")
	le.PutUint16(h[24:], 0x003E) // minor version
	le.PutUint16(h[26:], 3)      // major version
	le.PutUint16(h[28:], 0xFFFE) // little-endian
	le.PutUint16(h[30:], 9)      // 512-byte sectors
	le.PutUint16(h[32:], 6)      // 64-byte mini sectors
	le.PutUint32(h[44:], uint32(fat))
	le.PutUint32(h[48:], uint32(dirStart))
	le.PutUint32(h[56:], cfbMiniCutoff)
	if miniFATSectors > 0 {
		le.PutUint32(h[60:], uint32(miniFATStart))
	} else {
		le.PutUint32(h[60:], cfbEnd)
	}
	le.PutUint32(h[64:], uint32(miniFATSectors))
	if difat > 0 {
		le.PutUint32(h[68:], uint32(difatStart))
	} else {
		le.PutUint32(h[68:], cfbEnd)
	}
	le.PutUint32(h[72:], uint32(difat))
	for j := 0; j < cfbHeaderFAT; j++ {
		v := uint32(cfbFree)
		if j < fat {
			v = uint32(fatStart + j)
		}
		le.PutUint32(h[76+4*j:], v)
	}
	return out
}

// cfbTree links the sibling entries ids (sorted) as a balanced binary
// search tree and returns its root. It is a valid red-black tree: the
// deepest level is red when there is more than one level, every other
// node black, so every path from the root to a leaf has as many black
// nodes.
func cfbTree(nodes []cfbNode, ids []uint32) uint32 {
	if len(ids) == 0 {
		return cfbNoStream
	}
	deepest := 0
	for n := len(ids); n > 1; n >>= 1 {
		deepest++
	}
	var build func(lo, hi, depth int) uint32
	build = func(lo, hi, depth int) uint32 {
		if lo >= hi {
			return cfbNoStream
		}
		mid := (lo + hi) / 2
		id := ids[mid]
		nodes[id].left = build(lo, mid, depth+1)
		nodes[id].right = build(mid+1, hi, depth+1)
		nodes[id].black = depth < deepest || deepest == 0
		return id
	}
	return build(0, len(ids), 0)
}

// cfbCompare orders sibling names as MS-CFB does: shorter names first,
// then by the upper-case UTF-16 code units.
func cfbCompare(a, b string) int {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	if len(ua) != len(ub) {
		return len(ua) - len(ub)
	}
	for i := range ua {
		ca, cb := unicode.ToUpper(rune(ua[i])), unicode.ToUpper(rune(ub[i]))
		if ca != cb {
			return int(ca) - int(cb)
		}
	}
	return 0
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }
