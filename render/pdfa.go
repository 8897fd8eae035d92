package render

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf16"
)

// The archival pass: fpdf writes the pages, fonts and images; this file
// rewrites its finished output into a PDF/A-3b file (see "PDF/A-3" in
// doc.go). It copies fpdf's objects as they are, except for four small
// edits, and adds the objects fpdf cannot write.

// pdfFile is one file embedded in the PDF.
type pdfFile struct {
	name string // unique in the PDF (case-insensitively)
	desc string
	mime string // lower-case media type
	rel  string // AFRelationship: "Source" for the message, "Data" for its parts
	data []byte
}

// pdfArchive is what the archival pass adds to fpdf's output.
type pdfArchive struct {
	title, author string // already cleaned by metaText
	date          time.Time
	files         []pdfFile
	fonts         map[string]string // fpdf's font name -> PostScript name
	// toUnicode holds, per fpdf font name, the codes drawn that stand for
	// other text: Arabic presentation forms (their letters) and Private
	// Use Area codes of characters above U+FFFF (fontmap.go).
	toUnicode map[string]map[uint16]string
}

var producer = "mailfs render " + strconv.Itoa(Version)

// fpdfObject is one object of fpdf's output: its number and the bytes
// between "N 0 obj" and "endobj".
type fpdfObject struct {
	num  int
	body []byte
}

// readFpdf splits fpdf's output into its objects by the offsets of its
// cross-reference table (so that stream data is never scanned), and finds
// the catalog and the information dictionary in its trailer.
func readFpdf(in []byte) (objs []fpdfObject, root, info int, err error) {
	bad := func(what string) ([]fpdfObject, int, int, error) {
		return nil, 0, 0, errors.New("render: pdf/a: unexpected fpdf output: " + what)
	}
	sx := bytes.LastIndex(in, []byte("\nstartxref\n"))
	if sx < 0 {
		return bad("no startxref")
	}
	num := func(b []byte) int {
		end := 0
		for end < len(b) && b[end] >= '0' && b[end] <= '9' {
			end++
		}
		n, err := strconv.Atoi(string(b[:end]))
		if err != nil {
			return -1
		}
		return n
	}
	xref := num(in[sx+len("\nstartxref\n"):])
	if xref < 0 || xref >= sx || !bytes.HasPrefix(in[xref:], []byte("xref\n0 ")) {
		return bad("no xref table")
	}
	p := xref + len("xref\n0 ")
	n := num(in[p:])
	p += len(strconv.Itoa(n)) + 1
	if n < 3 || p+20*n > sx {
		return bad("xref size")
	}
	offsets := make([]int, n)
	for j := 1; j < n; j++ {
		if offsets[j] = num(in[p+20*j:]); offsets[j] < 0 || offsets[j] >= xref {
			return bad("xref entry")
		}
	}
	trailer := in[p+20*n : sx]
	refIn := func(key string) int {
		i := bytes.Index(trailer, []byte(key))
		if i < 0 {
			return -1
		}
		return num(trailer[i+len(key):])
	}
	root, info = refIn("/Root "), refIn("/Info ")
	if root <= 0 || root >= n || info <= 0 || info >= n {
		return bad("trailer")
	}
	order := make([]int, n-1)
	for j := range order {
		order[j] = j + 1
	}
	sort.Slice(order, func(a, b int) bool { return offsets[order[a]] < offsets[order[b]] })
	objs = make([]fpdfObject, n)
	for k, j := range order {
		end := xref
		if k+1 < len(order) {
			end = offsets[order[k+1]]
		}
		b := in[offsets[j]:end]
		head := strconv.Itoa(j) + " 0 obj\n"
		if !bytes.HasPrefix(b, []byte(head)) {
			return bad("object " + strconv.Itoa(j))
		}
		b = bytes.TrimRight(b[len(head):], "\n\r ")
		if !bytes.HasSuffix(b, []byte("endobj")) {
			return bad("end of object " + strconv.Itoa(j))
		}
		objs[j] = fpdfObject{num: j, body: bytes.TrimRight(b[:len(b)-len("endobj")], "\n\r ")}
	}
	return objs, root, info, nil
}

// pdfWriter writes numbered objects and remembers their offsets.
type pdfWriter struct {
	b       bytes.Buffer
	offsets []int // by object number; 0 for numbers not written yet
}

func (w *pdfWriter) object(num int, parts ...[]byte) {
	for len(w.offsets) <= num {
		w.offsets = append(w.offsets, 0)
	}
	w.offsets[num] = w.b.Len()
	w.b.WriteString(strconv.Itoa(num))
	w.b.WriteString(" 0 obj\n")
	for _, p := range parts {
		w.b.Write(p)
	}
	w.b.WriteString("\nendobj\n")
}

// stream writes a stream object; dict holds the entries besides /Length.
func (w *pdfWriter) stream(num int, dict string, data []byte) {
	w.object(num, []byte("<<"+dict+" /Length "+strconv.Itoa(len(data))+">>\nstream\n"), data, []byte("\nendstream"))
}

// write returns the PDF/A-3b file made of fpdf's output in.
func (a *pdfArchive) write(in []byte) ([]byte, error) {
	objs, root, info, err := readFpdf(in)
	if err != nil {
		return nil, err
	}
	sortImages(objs, info)
	names := a.subsetNames(objs)

	w := &pdfWriter{}
	size := len(in) + 4096
	for _, f := range a.files {
		size += len(f.data) + 512
	}
	w.b.Grow(size)
	// A binary comment after the header marks the file as binary (6.1.2).
	w.b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	next := len(objs)
	alloc := func() int { next++; return next - 1 }
	metaNum, iccNum := alloc(), alloc()
	specs := make([]int, len(a.files))
	for i := range a.files {
		specs[i] = alloc()
		alloc() // its stream
	}
	contents := map[int]bool{} // the pages' content streams
	cmaps := map[int]string{}  // ToUnicode streams to rewrite -> font name
	for _, o := range objs[1:] {
		switch {
		case cmaps[o.num] != "":
			w.stream(o.num, "/Filter /FlateDecode", deflate(toUnicodeCMap(a.toUnicode[cmaps[o.num]])))
			continue
		case o.num == info:
			w.object(o.num, []byte(a.infoDict()))
		case o.num == root:
			w.object(o.num, []byte(a.catalog(metaNum, iccNum, specs)))
		case bytes.HasPrefix(o.body, []byte("<</Type /Page\n")):
			if i := bytes.Index(o.body, []byte("/Contents ")); i >= 0 {
				if n, err := strconv.Atoi(nameAt(o.body, i+len("/Contents "))); err == nil {
					contents[n] = true
				}
			}
			// Link annotations must be printable (6.3.2).
			w.object(o.num, bytes.ReplaceAll(o.body, []byte("/Subtype /Link "), []byte("/Subtype /Link /F 4 ")))
		case contents[o.num]:
			w.object(o.num, deflateContents(o.body))
		case bytes.HasPrefix(o.body, []byte("<</Type /Font")):
			if i, j := bytes.Index(o.body, []byte("/BaseFont /")), bytes.Index(o.body, []byte("/ToUnicode ")); i >= 0 && j >= 0 {
				name := nameAt(o.body, i+len("/BaseFont /"))
				if n, err := strconv.Atoi(nameAt(o.body, j+len("/ToUnicode "))); err == nil && a.toUnicode[name] != nil {
					cmaps[n] = name
				}
			}
			w.object(o.num, renameFont(o.body, names))
		default:
			w.object(o.num, o.body)
		}
	}
	w.stream(metaNum, "/Type /Metadata /Subtype /XML", a.xmp())
	w.stream(iccNum, "/N 3 /Filter /FlateDecode", srgbICCDeflated())
	for i, f := range a.files {
		date := pdfDate(a.date)
		w.object(specs[i], []byte("<</Type /Filespec /F "+asciiName(f.name)+" /UF "+pdfString(f.name)+
			" /Desc "+pdfString(f.desc)+" /AFRelationship /"+f.rel+
			" /EF <</F "+strconv.Itoa(specs[i]+1)+" 0 R /UF "+strconv.Itoa(specs[i]+1)+" 0 R>>>>"))
		data, filter := deflateUnlessCompressed(f.data)
		sum := md5.Sum(f.data)
		w.stream(specs[i]+1, "/Type /EmbeddedFile /Subtype "+pdfName(f.mime)+filter+
			" /Params <</Size "+strconv.Itoa(len(f.data))+" /CheckSum <"+hex.EncodeToString(sum[:])+"> /ModDate "+date+">>", data)
	}

	// The file identifier is a digest of everything before it (6.1.3).
	id := sha256.Sum256(w.b.Bytes())
	idHex := hex.EncodeToString(id[:16])
	xref := w.b.Len()
	fmt.Fprintf(&w.b, "xref\n0 %d\n0000000000 65535 f \n", len(w.offsets))
	for _, off := range w.offsets[1:] {
		fmt.Fprintf(&w.b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&w.b, "trailer\n<</Size %d /Root %d 0 R /Info %d 0 R /ID [<%s><%s>]>>\nstartxref\n%d\n%%%%EOF\n",
		len(w.offsets), root, info, idHex, idHex, xref)
	return w.b.Bytes(), nil
}

var (
	imageRes = regexp.MustCompile(`/(I[0-9a-f]+) (\d+) 0 R`)
	objRef   = regexp.MustCompile(`\b(\d+) 0 R\b`)
)

// sortImages undoes fpdf's one nondeterminism: it numbers the images of a
// page width in map order. The image objects, the last fpdf writes before
// the information dictionary (each with its palette after it), are put in
// the order of their resource names, which are digests of the images, and
// the references to them renumbered.
func sortImages(objs []fpdfObject, info int) {
	type group struct {
		name       string
		start, end int
	}
	byStart := map[int]string{}
	for _, m := range imageRes.FindAllSubmatch(objs[2].body, -1) {
		n, _ := strconv.Atoi(string(m[2]))
		if old, ok := byStart[n]; !ok || string(m[1]) < old {
			byStart[n] = string(m[1]) // identical images share one object
		}
	}
	if len(byStart) < 2 {
		return
	}
	groups := make([]group, 0, len(byStart))
	for n, name := range byStart {
		groups = append(groups, group{name: name, start: n})
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].start < groups[j].start })
	for i := range groups {
		groups[i].end = info
		if i+1 < len(groups) {
			groups[i].end = groups[i+1].start
		}
	}
	lo := groups[0].start
	sort.Slice(groups, func(i, j int) bool { return groups[i].name < groups[j].name })
	renum := map[int]int{}
	next := lo
	for _, g := range groups {
		for n := g.start; n < g.end; n++ {
			renum[n] = next
			next++
		}
	}
	fix := func(b []byte) []byte {
		head, stream, isStream := bytes.Cut(b, []byte("\nstream\n"))
		head = objRef.ReplaceAllFunc(head, func(r []byte) []byte { // a copy
			n, _ := strconv.Atoi(string(r[:bytes.IndexByte(r, ' ')]))
			if m, ok := renum[n]; ok {
				return []byte(strconv.Itoa(m) + " 0 R")
			}
			return r
		})
		if !isStream {
			return head
		}
		return append(append(head, "\nstream\n"...), stream...)
	}
	moved := make([]fpdfObject, info-lo)
	for n := lo; n < info; n++ {
		moved[renum[n]-lo] = fpdfObject{num: renum[n], body: fix(objs[n].body)}
	}
	copy(objs[lo:info], moved)
	objs[2].body = fix(objs[2].body)
}

// subsetNames gives each embedded font a subset name: a tag of six capital
// letters derived from the subset's own bytes, "+", its PostScript name
// (ISO 32000-1 9.6.4). It maps fpdf's font names to these.
func (a *pdfArchive) subsetNames(objs []fpdfObject) map[string]string {
	out := map[string]string{}
	for _, o := range objs[1:] {
		if !bytes.HasPrefix(o.body, []byte("<</Type /FontDescriptor /FontName /")) {
			continue
		}
		name := nameAt(o.body, len("<</Type /FontDescriptor /FontName /"))
		ps, ok := a.fonts[name]
		i := bytes.Index(o.body, []byte("/FontFile2 "))
		if !ok || i < 0 {
			continue
		}
		file, err := strconv.Atoi(string(nameAt(o.body, i+len("/FontFile2 "))))
		if err != nil || file <= 0 || file >= len(objs) {
			continue
		}
		sum := sha256.Sum256(objs[file].body)
		tag := make([]byte, 6)
		for k := range tag {
			tag[k] = 'A' + sum[k]%26
		}
		out[name] = string(tag) + "+" + ps
	}
	return out
}

// renameFont replaces fpdf's font name in a font or font descriptor
// dictionary by its subset name.
func renameFont(body []byte, names map[string]string) []byte {
	for _, key := range []string{"/BaseFont /", "/FontName /"} {
		i := bytes.Index(body, []byte(key))
		if i < 0 {
			continue
		}
		start := i + len(key)
		old := nameAt(body, start)
		if n, ok := names[old]; ok {
			body = append(append(append([]byte{}, body[:start]...), n...), body[start+len(old):]...)
		}
	}
	return body
}

// nameAt returns the PDF name (or number) token starting at b[i].
func nameAt(b []byte, i int) string {
	j := i
	for j < len(b) && !bytes.ContainsRune([]byte(" \t\r\n\f()<>[]{}/%"), rune(b[j])) {
		j++
	}
	return string(b[i:j])
}

func (a *pdfArchive) infoDict() string {
	var s strings.Builder
	s.WriteString("<</Producer " + pdfString(producer))
	if a.title != "" {
		s.WriteString(" /Title " + pdfString(a.title))
	}
	if a.author != "" {
		s.WriteString(" /Author " + pdfString(a.author))
	}
	d := pdfDate(a.date)
	s.WriteString(" /CreationDate " + d + " /ModDate " + d + ">>")
	return s.String()
}

func (a *pdfArchive) catalog(meta, icc int, specs []int) string {
	var s strings.Builder
	s.WriteString("<</Type /Catalog /Pages 1 0 R /Metadata " + strconv.Itoa(meta) + " 0 R")
	s.WriteString(" /OutputIntents [<</Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier (sRGB IEC61966-2.1)" +
		" /RegistryName (http://www.color.org) /Info (sRGB IEC61966-2.1) /DestOutputProfile " + strconv.Itoa(icc) + " 0 R>>]")
	// Name tree keys sort as the files are ordered.
	s.WriteString(" /Names <</EmbeddedFiles <</Names [")
	for i, n := range specs {
		fmt.Fprintf(&s, "(%04d) %d 0 R ", i, n)
	}
	s.WriteString("]>>>> /AF [")
	for _, n := range specs {
		s.WriteString(strconv.Itoa(n) + " 0 R ")
	}
	s.WriteString("]>>")
	return s.String()
}

// xmp is the document's XMP metadata packet: the PDF/A identification and
// the same title, author, dates and producer as the information dictionary.
func (a *pdfArchive) xmp() []byte {
	var s strings.Builder
	s.WriteString("<?xpacket begin=\"\ufeff\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n" +
		"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n" +
		"<rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"" +
		" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n" +
		"<pdfaid:part>3</pdfaid:part>\n<pdfaid:conformance>B</pdfaid:conformance>\n<dc:format>application/pdf</dc:format>\n")
	if a.title != "" {
		s.WriteString("<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">" + xmlText(a.title) + "</rdf:li></rdf:Alt></dc:title>\n")
	}
	if a.author != "" {
		s.WriteString("<dc:creator><rdf:Seq><rdf:li>" + xmlText(a.author) + "</rdf:li></rdf:Seq></dc:creator>\n")
	}
	d := a.date.Format("2006-01-02T15:04:05-07:00")
	s.WriteString("<xmp:CreateDate>" + d + "</xmp:CreateDate>\n<xmp:ModifyDate>" + d + "</xmp:ModifyDate>\n" +
		"<pdf:Producer>" + producer + "</pdf:Producer>\n</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"r\"?>")
	return []byte(s.String())
}

func xmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// metaText makes a header value fit for the document's metadata: valid
// UTF-8 without control characters or noncharacters (XML forbids most of
// them, and they have no place in a title), spaces collapsed, and short
// enough for PDF's string limit.
func metaText(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r) || unicode.IsSpace(r):
			return ' '
		case r == 0xFFFE || r == 0xFFFF || r == '\uFFFD',
			r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069: // bidi overrides could disguise a title
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	s = strings.Join(strings.Fields(s), " ")
	if rs := []rune(s); len(rs) > maxMetaRunes {
		s = string(rs[:maxMetaRunes-1]) + "…"
	}
	return s
}

const maxMetaRunes = 2000 // a UTF-16 string of at most 8 KB, far below PDF's 32767 bytes

// pdfString encodes s as a UTF-16BE text string in hex, which holds any
// rune (surrogate pairs above U+FFFF) and needs no escaping.
func pdfString(s string) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 6+4*len(u))
	b = append(b, "<FEFF"...)
	for _, c := range u {
		b = fmt.Appendf(b, "%04X", c)
	}
	return string(append(b, '>'))
}

// pdfName writes a media type as a PDF name: "/text#2Fplain".
func pdfName(s string) string {
	if s == "" || len(s) > 100 {
		s = "application/octet-stream"
	}
	var b strings.Builder
	b.WriteByte('/')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > ' ' && c < 0x7f && !strings.ContainsRune("#/()<>[]{}%", rune(c)) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "#%02X", c)
		}
	}
	return b.String()
}

// asciiName is the file name for /F, which older readers take as bytes: a
// literal string where runes outside ASCII become "_".
func asciiName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '_'
		}
		return r
	}, s)
	return "(" + strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(s) + ")"
}

// pdfURI makes a link target fit for a URI action, which PDF wants in
// 7-bit ASCII: other bytes are percent-encoded. Targets too long for a PDF
// string (and no real link is) are dropped.
func pdfURI(href string) string {
	var b strings.Builder
	for i := 0; i < len(href); i++ {
		if c := href[i]; c > ' ' && c < 0x7f {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	if b.Len() > 8000 {
		return ""
	}
	return b.String()
}

// pdfDate formats t as a PDF date with its zone offset: (D:20240408100000+02'00').
func pdfDate(t time.Time) string {
	z := t.Format("-0700")
	return "(D:" + t.Format("20060102150405") + z[:3] + "'" + z[3:] + "')"
}

// deflateContents compresses a page's content stream, which fpdf writes
// uncompressed (SetCompression(false)): a pooled writer here costs less
// than the new one fpdf makes for every page. Anything not of the form
// fpdf writes is kept as it is.
func deflateContents(body []byte) []byte {
	head, data, ok := bytes.Cut(body, []byte(">>\nstream\n"))
	if !ok || !bytes.HasPrefix(head, []byte("<</Length ")) || !bytes.HasSuffix(data, []byte("\nendstream")) {
		return body
	}
	data = data[:len(data)-len("\nendstream")]
	if string(head[len("<</Length "):]) != strconv.Itoa(len(data)) {
		return body
	}
	z := deflate(data)
	out := make([]byte, 0, len(z)+64)
	out = append(out, "<</Filter /FlateDecode /Length "+strconv.Itoa(len(z))+">>\nstream\n"...)
	return append(append(out, z...), "\nendstream"...)
}

var zlibWriters = sync.Pool{New: func() any {
	w, _ := zlib.NewWriterLevel(nil, zlib.BestSpeed)
	return w
}}

// deflateUnlessCompressed compresses an embedded file unless it is in a
// format that is compressed already (JPEG, PNG, GIF, WebP, ZIP and the
// office formats built on it, gzip), returning the data and its /Filter.
func deflateUnlessCompressed(data []byte) ([]byte, string) {
	if imageType(data) != "" || bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("\x1f\x8b")) {
		return data, ""
	}
	return deflate(data), " /Filter /FlateDecode"
}

func deflate(data []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(data)/2 + 64)
	zw := zlibWriters.Get().(*zlib.Writer)
	zw.Reset(&b)
	zw.Write(data)
	zw.Close()
	zlibWriters.Put(zw)
	return b.Bytes()
}

var srgbICCDeflated = sync.OnceValue(func() []byte { return deflate(srgbICC()) })

// toUnicodeCMap writes the ToUnicode CMap of a font: each code stands for
// itself (as in fpdf's own CMap), except those in text.
func toUnicodeCMap(text map[uint16]string) []byte {
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo\n<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	codes := make([]int, 0, len(text))
	for c := range text {
		codes = append(codes, int(c))
	}
	sort.Ints(codes)
	// Ranges of codes that map to themselves, each within one high byte
	// (ISO 32000-1 9.10.3), around the codes of text.
	var ranges [][2]int
	next := 0 // the first of codes not yet passed
	for hi := 0; hi < 0x10000; hi += 0x100 {
		start := hi
		for ; next < len(codes) && codes[next] < hi+0x100; next++ {
			if c := codes[next]; c > start {
				ranges = append(ranges, [2]int{start, c - 1})
			}
			start = codes[next] + 1
		}
		if start < hi+0x100 {
			ranges = append(ranges, [2]int{start, hi + 0xFF})
		}
	}
	for i := 0; i < len(ranges); i += 100 {
		chunk := ranges[i:min(i+100, len(ranges))]
		fmt.Fprintf(&b, "%d beginbfrange\n", len(chunk))
		for _, r := range chunk {
			fmt.Fprintf(&b, "<%04X> <%04X> <%04X>\n", r[0], r[1], r[0])
		}
		b.WriteString("endbfrange\n")
	}
	for i := 0; i < len(codes); i += 100 {
		chunk := codes[i:min(i+100, len(codes))]
		fmt.Fprintf(&b, "%d beginbfchar\n", len(chunk))
		for _, c := range chunk {
			fmt.Fprintf(&b, "<%04X> <", c)
			for _, u := range utf16.Encode([]rune(text[uint16(c)])) {
				fmt.Fprintf(&b, "%04X", u)
			}
			b.WriteString(">\n")
		}
		b.WriteString("endbfchar\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend")
	return b.Bytes()
}
