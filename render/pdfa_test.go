package render

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The PDF/A-3b checks read each PDF with tools we did not write: qpdf
// (--check, and --json for every object), pdffonts and pdfdetach. The
// README lists which requirements of ISO 19005-3 they cover.

// pdfaMessages are the corpus and the generated messages that stress the
// metadata and the header block.
func pdfaMessages(t *testing.T) map[string][]byte {
	msgs := readCorpus(t)
	msgs["long-to (generated)"] = longToMessage()
	return msgs
}

// longToMessage has a To field of about 135 KB.
func longToMessage() []byte {
	var to strings.Builder
	for i := 0; i < 4500; i++ {
		if i > 0 {
			to.WriteString(",\r\n ")
		}
		fmt.Fprintf(&to, "Person %04d <p%04d@example.org>", i, i)
	}
	return []byte("From: List <list@example.com>\r\nTo: " + to.String() + "\r\nSubject: Everyone is invited\r\n" +
		"Date: Mon, 15 Apr 2024 12:00:00 +0000\r\nContent-Type: text/plain\r\n\r\nThe party is on Friday.\r\n")
}

func TestPDFA(t *testing.T) {
	tool(t, "qpdf")
	tool(t, "pdffonts")
	tool(t, "pdfdetach")
	opt := Options{ExtraFonts: systemFonts()}
	dir := t.TempDir()
	ids := map[string]string{}
	for name, raw := range pdfaMessages(t) {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".pdf")
			out := render(t, "pdf", raw, opt)
			if err := os.WriteFile(f, out, 0o644); err != nil {
				t.Fatal(err)
			}
			p := readPDF(t, f)
			checkHeader(t, out)
			ids[name] = p.checkTrailer(t)
			info := p.checkInfo(t)
			p.checkXMP(t, info)
			p.checkOutputIntent(t, name == "plain.eml")
			p.checkObjects(t)
			p.checkFonts(t, f)
			p.checkFiles(t, f, raw)
		})
	}
	seen := map[string]string{}
	for name, id := range ids {
		if other, dup := seen[id]; dup {
			t.Errorf("%s and %s have the same /ID", name, other)
		}
		seen[id] = name
	}
}

// pdfObjects is qpdf's JSON (version 2) view of a file: each object by
// "N 0 R", and the trailer.
type pdfObjects struct {
	objs    map[string]any
	trailer map[string]any
}

func readPDF(t *testing.T, f string) *pdfObjects {
	t.Helper()
	if s := run(t, "qpdf", "--check", f); !strings.Contains(s, "No syntax or stream encoding errors") || strings.Contains(s, "WARNING") {
		t.Fatalf("qpdf --check:\n%s", s)
	}
	var doc struct {
		QPDF []map[string]any `json:"qpdf"`
	}
	js := run(t, "qpdf", "--json=2", "--json-key=qpdf", "--json-stream-data=inline", "--decode-level=generalized", f)
	if err := json.Unmarshal([]byte(js), &doc); err != nil || len(doc.QPDF) != 2 {
		t.Fatalf("qpdf --json: %v", err)
	}
	p := &pdfObjects{objs: map[string]any{}}
	for k, v := range doc.QPDF[1] {
		o := v.(map[string]any)
		val := o["value"]
		if s, ok := o["stream"]; ok {
			val = s
		}
		if k == "trailer" {
			p.trailer = val.(map[string]any)
		} else {
			p.objs[strings.TrimPrefix(k, "obj:")] = val
		}
	}
	return p
}

var refRE = regexp.MustCompile(`^\d+ \d+ R$`)

// get follows a reference; other values are returned as they are.
func (p *pdfObjects) get(v any) any {
	if s, ok := v.(string); ok && refRE.MatchString(s) {
		return p.objs[s]
	}
	return v
}

// dict returns the dictionary v (or a stream's dictionary), or nil.
func (p *pdfObjects) dict(v any) map[string]any {
	m, _ := p.get(v).(map[string]any)
	if d, ok := m["dict"].(map[string]any); ok {
		return d
	}
	return m
}

// data returns the decoded data of stream v.
func (p *pdfObjects) data(t *testing.T, v any) []byte {
	t.Helper()
	m, _ := p.get(v).(map[string]any)
	s, ok := m["data"].(string)
	if !ok {
		t.Fatalf("%v is not a stream with data", v)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// text decodes a qpdf JSON string: "u:" text, "b:" hex bytes.
func text(v any) (string, bool) {
	s, ok := v.(string)
	switch {
	case !ok:
		return "", false
	case strings.HasPrefix(s, "u:"):
		return s[2:], true
	case strings.HasPrefix(s, "b:"):
		b, err := hex.DecodeString(s[2:])
		return string(b), err == nil
	}
	return "", false
}

// checkHeader: 6.1.2, a %PDF-1.n header followed by a comment of at least
// four bytes above 127.
func checkHeader(t *testing.T, out []byte) {
	first, rest, _ := bytes.Cut(out, []byte("\n"))
	second, _, _ := bytes.Cut(rest, []byte("\n"))
	if !regexp.MustCompile(`^%PDF-1\.[0-7]$`).Match(first) {
		t.Errorf("header %q", first)
	}
	high := 0
	for _, c := range second {
		if c > 127 {
			high++
		}
	}
	if len(second) == 0 || second[0] != '%' || high < 4 {
		t.Errorf("no binary comment after the header: %q", second)
	}
}

// checkTrailer: 6.1.3, an /ID of two strings and no /Encrypt.
func (p *pdfObjects) checkTrailer(t *testing.T) string {
	if _, ok := p.trailer["/Encrypt"]; ok {
		t.Error("encrypted")
	}
	id, _ := p.trailer["/ID"].([]any)
	if len(id) != 2 {
		t.Fatalf("trailer /ID %v", p.trailer["/ID"])
	}
	// qpdf shows a string as text ("u:") when its bytes happen to decode.
	a, ok := text(id[0])
	if n := utf8.RuneCountInString(a); !ok || id[0] != id[1] || n == 0 || n > 16 ||
		strings.HasPrefix(id[0].(string), "b:") && len(a) != 16 {
		t.Errorf("trailer /ID %v", id)
	}
	return a
}

// checkInfo returns the document information dictionary's strings and
// checks that no control character reached them.
func (p *pdfObjects) checkInfo(t *testing.T) map[string]string {
	info := map[string]string{}
	for k, v := range p.dict(p.trailer["/Info"]) {
		s, ok := text(v)
		if !ok {
			t.Errorf("Info %s: %v", k, v)
		}
		for _, r := range s {
			if r < 0x20 || r >= 0x7f && r < 0xa0 || r == 0xFFFD || r >= 0x202A && r <= 0x202E {
				t.Errorf("Info %s has %U: %q", k, r, s)
			}
		}
		info[k] = s
	}
	if info["/Producer"] == "" || info["/CreationDate"] == "" {
		t.Errorf("Info lacks entries: %v", info)
	}
	return info
}

// xmlNode is any XML element.
type xmlNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []xmlNode  `xml:",any"`
	Text    string     `xml:",chardata"`
}

// find returns the text of the first element space:local under n.
func (n *xmlNode) find(space, local string) (string, bool) {
	for i := range n.Nodes {
		c := &n.Nodes[i]
		if c.XMLName.Space == space && c.XMLName.Local == local {
			if li, ok := c.find("http://www.w3.org/1999/02/22-rdf-syntax-ns#", "li"); ok {
				return li, true // the first item of an rdf:Alt, Seq or Bag
			}
			return strings.TrimSpace(c.Text), true
		}
		if s, ok := c.find(space, local); ok {
			return s, true
		}
	}
	return "", false
}

// checkXMP: 6.6, a metadata stream in the catalog, unfiltered, with the
// PDF/A identification and the same title, author, producer and dates as
// the information dictionary.
func (p *pdfObjects) checkXMP(t *testing.T, info map[string]string) {
	root := p.dict(p.trailer["/Root"])
	meta := p.dict(root["/Metadata"])
	if meta["/Type"] != "/Metadata" || meta["/Subtype"] != "/XML" || meta["/Filter"] != nil {
		t.Errorf("metadata stream %v", meta)
	}
	x := p.data(t, root["/Metadata"])
	if !bytes.HasPrefix(x, []byte("<?xpacket begin=")) || bytes.Contains(x[:60], []byte("bytes=")) {
		t.Errorf("XMP packet header: %.60q", x)
	}
	var doc xmlNode
	if err := xml.Unmarshal(x, &doc); err != nil {
		t.Fatalf("XMP is not well-formed XML: %v\n%s", err, x)
	}
	const (
		pdfaid = "http://www.aiim.org/pdfa/ns/id/"
		dc     = "http://purl.org/dc/elements/1.1/"
		xmpNS  = "http://ns.adobe.com/xap/1.0/"
		pdfNS  = "http://ns.adobe.com/pdf/1.3/"
	)
	get := func(space, local string) string { s, _ := doc.find(space, local); return s }
	if get(pdfaid, "part") != "3" || get(pdfaid, "conformance") != "B" {
		t.Errorf("pdfaid part %q conformance %q", get(pdfaid, "part"), get(pdfaid, "conformance"))
	}
	for _, c := range []struct{ info, space, local string }{
		{"/Title", dc, "title"}, {"/Author", dc, "creator"}, {"/Producer", pdfNS, "Producer"},
	} {
		if x, ok := doc.find(c.space, c.local); x != info[c.info] || ok != (info[c.info] != "") {
			t.Errorf("XMP %s %q, Info %s %q", c.local, x, c.info, info[c.info])
		}
	}
	for _, c := range []struct{ info, local string }{{"/CreationDate", "CreateDate"}, {"/ModDate", "ModifyDate"}} {
		a, err1 := pdfTime(info[c.info])
		b, err2 := time.Parse(time.RFC3339, get(xmpNS, c.local))
		if err1 != nil || err2 != nil || !a.Equal(b) {
			t.Errorf("Info %s %q, XMP %s %q (%v, %v)", c.info, info[c.info], c.local, get(xmpNS, c.local), err1, err2)
		}
	}
}

// pdfTime parses a PDF date of the form D:YYYYMMDDHHmmSS+HH'mm'.
func pdfTime(s string) (time.Time, error) {
	return time.Parse("D:20060102150405-0700", strings.ReplaceAll(strings.ReplaceAll(s, "'", ""), "Z00", "+00"))
}

// checkOutputIntent: 6.2.3, a GTS_PDFA1 output intent whose profile is an
// RGB display or output ICC profile, version 2 or 4, as many components as
// /N says; with lcms, Little CMS must accept the profile and map colours
// to its own sRGB unchanged.
func (p *pdfObjects) checkOutputIntent(t *testing.T, withLCMS bool) {
	root := p.dict(p.trailer["/Root"])
	ois, _ := p.get(root["/OutputIntents"]).([]any)
	if len(ois) != 1 {
		t.Fatalf("output intents %v", root["/OutputIntents"])
	}
	oi := p.dict(ois[0])
	if oi["/S"] != "/GTS_PDFA1" || oi["/OutputConditionIdentifier"] == nil {
		t.Errorf("output intent %v", oi)
	}
	icc := p.data(t, oi["/DestOutputProfile"])
	n := p.dict(oi["/DestOutputProfile"])["/N"]
	if len(icc) < 132 || string(icc[36:40]) != "acsp" || int(icc[0])<<24|int(icc[1])<<16|int(icc[2])<<8|int(icc[3]) != len(icc) ||
		(icc[8] != 2 && icc[8] != 4) || (string(icc[12:16]) != "mntr" && string(icc[12:16]) != "prtr") ||
		string(icc[16:20]) != "RGB " || n != 3.0 {
		t.Errorf("output profile: %d bytes, /N %v, header %q", len(icc), n, icc[:min(len(icc), 40)])
	}
	if withLCMS {
		checkICC(t, icc)
	}
}

// checkObjects walks every object: no transparency (6.2.10: no soft masks,
// no transparency groups, no constant alpha, no blend modes), no
// encryption, only the actions PDF/A allows (6.5), images in RGB or grey
// (6.2.4), printable annotations with ASCII URIs (6.3, ISO 32000-1 12.6.4.7),
// strings of at most 32767 bytes and names of at most 127 (6.1.13).
func (p *pdfObjects) checkObjects(t *testing.T) {
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case []any:
			for i, e := range v {
				walk(path+"["+strconv.Itoa(i)+"]", e)
			}
		case map[string]any:
			if d, ok := v["dict"].(map[string]any); ok {
				walk(path, d) // a stream
				return
			}
			for k, e := range v {
				walk(path+k, e)
				if len(k) > 128 {
					t.Errorf("%s: name of %d bytes", path, len(k)-1)
				}
			}
			p.checkDict(t, path, v)
		case string:
			if s, ok := text(v); ok && len(s) > 32767 {
				t.Errorf("%s: string of %d bytes", path, len(s))
			}
			if strings.HasPrefix(v, "/") && len(v) > 128 {
				t.Errorf("%s: name of %d bytes", path, len(v)-1)
			}
		}
	}
	for k, v := range p.objs {
		walk(k, v)
	}
}

func (p *pdfObjects) checkDict(t *testing.T, path string, d map[string]any) {
	if g := p.dict(d["/Group"]); g != nil && g["/S"] == "/Transparency" {
		t.Errorf("%s: transparency group", path)
	}
	if m, ok := d["/SMask"]; ok && m != "/None" {
		t.Errorf("%s: soft mask", path)
	}
	for _, k := range []string{"/CA", "/ca"} {
		if a, ok := d[k]; ok && a != 1.0 {
			t.Errorf("%s: %s %v", path, k, a)
		}
	}
	if bm, ok := d["/BM"]; ok && bm != "/Normal" && bm != "/Compatible" {
		t.Errorf("%s: blend mode %v", path, bm)
	}
	if _, ok := d["/Encrypt"]; ok {
		t.Errorf("%s: /Encrypt", path)
	}
	for _, k := range []string{"/JavaScript", "/JS", "/AA", "/OpenAction"} {
		if _, ok := d[k]; ok {
			t.Errorf("%s: %s", path, k)
		}
	}
	for _, k := range []string{"/A", "/Next", "/PA"} { // the keys that hold actions
		a := p.dict(d[k])
		if a == nil {
			continue
		}
		switch a["/S"] {
		case "/GoTo", "/GoToR", "/GoToE", "/Thread", "/URI", "/Named", "/SubmitForm":
		default:
			t.Errorf("%s%s: action %v", path, k, a["/S"])
		}
		if u, _ := text(a["/URI"]); a["/S"] == "/URI" && !isASCII(u) {
			t.Errorf("%s%s: URI not ASCII: %q", path, k, u)
		}
	}
	if d["/Subtype"] == "/Image" {
		cs := p.get(d["/ColorSpace"])
		if a, ok := cs.([]any); ok && len(a) > 1 && a[0] == "/Indexed" {
			cs = p.get(a[1])
		}
		if cs != "/DeviceRGB" && cs != "/DeviceGray" {
			t.Errorf("%s: image colour space %v", path, cs)
		}
		if d["/Interpolate"] == true || d["/Alternates"] != nil || d["/OPI"] != nil {
			t.Errorf("%s: image entries PDF/A forbids: %v", path, d)
		}
	}
	if d["/Type"] == "/Annot" || d["/Subtype"] == "/Link" {
		f, _ := d["/F"].(float64)
		if int(f)&4 == 0 || int(f)&(1|2|32) != 0 {
			t.Errorf("%s: annotation flags %v", path, d["/F"])
		}
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

var subsetTag = regexp.MustCompile(`^[A-Z]{6}\+\S+$`)

// checkFonts: 6.2.11, every font embedded; each a subset named with a
// subset tag (ISO 32000-1 9.6.4), as pdffonts reports and as the font
// dictionaries and their descriptors say.
func (p *pdfObjects) checkFonts(t *testing.T, f string) {
	lines := strings.Split(strings.TrimSpace(run(t, "pdffonts", f)), "\n")
	if len(lines) < 3 {
		t.Fatalf("pdffonts lists no font:\n%s", strings.Join(lines, "\n"))
	}
	for _, l := range lines[2:] {
		fs := strings.Fields(l)
		if len(fs) < 7 || fs[len(fs)-5] != "yes" || fs[len(fs)-4] != "yes" || !subsetTag.MatchString(fs[0]) {
			t.Errorf("pdffonts: font not an embedded tagged subset: %s", l)
		}
	}
	for k, v := range p.objs {
		d := p.dict(v)
		if d["/Type"] != "/Font" {
			continue
		}
		font := d
		if d["/Subtype"] == "/Type0" {
			desc, _ := p.get(d["/DescendantFonts"]).([]any)
			if len(desc) != 1 {
				t.Errorf("%s: descendant fonts %v", k, d["/DescendantFonts"])
				continue
			}
			font = p.dict(desc[0])
			if font["/Subtype"] == "/CIDFontType2" && font["/CIDToGIDMap"] == nil {
				t.Errorf("%s: CIDFontType2 without CIDToGIDMap", k)
			}
		}
		fd := p.dict(font["/FontDescriptor"])
		name, _ := fd["/FontName"].(string)
		if fd["/FontFile"] == nil && fd["/FontFile2"] == nil && fd["/FontFile3"] == nil {
			t.Errorf("%s: font %v not embedded", k, d["/BaseFont"])
		}
		if !subsetTag.MatchString(strings.TrimPrefix(name, "/")) || d["/BaseFont"] != name && d["/Subtype"] != "/Type0" {
			t.Errorf("%s: font names %v, %v", k, d["/BaseFont"], name)
		}
	}
}

// checkFiles: 6.8, each embedded file a Filespec with /F and /UF, an
// /AFRelationship, and a stream with a MIME /Subtype and /Params /ModDate,
// all of them in the catalog's /AF array; the message itself the /Source.
// pdfdetach must list them under distinct names, and the first one must
// be the message byte for byte.
func (p *pdfObjects) checkFiles(t *testing.T, f string, raw []byte) {
	root := p.dict(p.trailer["/Root"])
	tree, _ := p.get(p.dict(p.dict(root["/Names"])["/EmbeddedFiles"])["/Names"]).([]any)
	af, _ := p.get(root["/AF"]).([]any)
	if len(tree) == 0 || len(tree)%2 != 0 || len(af) != len(tree)/2 {
		t.Fatalf("EmbeddedFiles names %v, /AF %v", tree, af)
	}
	inAF := map[any]bool{}
	for _, r := range af {
		inAF[r] = true
	}
	var keys, names []string
	for i := 0; i < len(tree); i += 2 {
		key, _ := text(tree[i])
		keys = append(keys, key)
		spec := p.dict(tree[i+1])
		if !inAF[tree[i+1]] {
			t.Errorf("file %v is not in the catalog's /AF", tree[i+1])
		}
		fname, okF := text(spec["/F"])
		uf, okUF := text(spec["/UF"])
		if spec["/Type"] != "/Filespec" || !okF || !okUF || fname == "" || uf == "" {
			t.Errorf("file spec %v", spec)
		}
		names = append(names, uf)
		rel := "/Data"
		if i == 0 {
			rel = "/Source"
			if uf != emlName {
				t.Errorf("first file %q, not %s", uf, emlName)
			}
		}
		if spec["/AFRelationship"] != rel {
			t.Errorf("%s: /AFRelationship %v, want %s", uf, spec["/AFRelationship"], rel)
		}
		ef := p.dict(spec["/EF"])
		st := p.dict(ef["/F"])
		mime, _ := st["/Subtype"].(string)
		mod, _ := text(p.dict(st["/Params"])["/ModDate"])
		if st["/Type"] != "/EmbeddedFile" || !strings.Contains(mime, "/") || ef["/UF"] != ef["/F"] {
			t.Errorf("%s: embedded file stream %v", uf, st)
		}
		if _, err := pdfTime(mod); err != nil {
			t.Errorf("%s: /Params /ModDate %q: %v", uf, mod, err)
		}
	}
	if !sort.StringsAreSorted(keys) {
		t.Errorf("name tree keys not sorted: %v", keys)
	}
	list := strings.Split(strings.TrimSpace(run(t, "pdfdetach", "-list", f)), "\n")
	seen := map[string]bool{}
	for i, l := range list[1:] {
		_, name, _ := strings.Cut(l, ": ")
		if i >= len(names) || name != names[i] || seen[strings.ToLower(name)] || !utf8.ValidString(name) {
			t.Errorf("pdfdetach -list line %q; /UF names %q", l, names)
		}
		seen[strings.ToLower(name)] = true
	}
	out := filepath.Join(t.TempDir(), "message.eml")
	run(t, "pdfdetach", "-save", "1", "-o", out, f)
	if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, raw) {
		t.Errorf("embedded %s is not the message (%d bytes, want %d)", emlName, len(got), len(raw))
	}
}

// TestPDFPagesCompressed: the archival pass deflates the page contents
// that fpdf leaves uncompressed.
func TestPDFPagesCompressed(t *testing.T) {
	f := renderFile(t, "plain.eml")
	p := readPDF(t, f)
	page := p.dict(p.get(p.dict(p.dict(p.trailer["/Root"])["/Pages"])["/Kids"]).([]any)[0])
	ref := strings.TrimSuffix(page["/Contents"].(string), " 0 R")
	if s := run(t, "qpdf", "--show-object="+ref, f); !strings.Contains(s, "/Filter /FlateDecode") {
		t.Errorf("page contents %s: %s", ref, s)
	}
}

// TestPDFLongHeader: a 135 KB To is shortened on the page, with a note,
// and stays whole in the embedded message.
func TestPDFLongHeader(t *testing.T) {
	raw := longToMessage()
	start := time.Now()
	out := render(t, "pdf", raw, Options{})
	t.Logf("%d KB message: PDF in %v", len(raw)>>10, time.Since(start))
	f := filepath.Join(t.TempDir(), "long.pdf")
	os.WriteFile(f, out, 0o644)
	text := norm1(run(t, "pdftotext", "-enc", "UTF-8", f, "-"))
	for _, want := range []string{"Person 0000 <p0000@example.org>", "The party is on Friday."} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %q:\n%.2000s", want, text)
		}
	}
	if !regexp.MustCompile(`<p0029@example.org>, \.\.\. \(To shortened here: it is 14\d\.\d KB long; the complete field is in the embedded message.eml\)`).MatchString(text) {
		t.Errorf("no note on the shortened To:\n%.2000s", text)
	}
	if strings.Contains(text, "p4499@example.org") {
		t.Error("the whole To field is on the page")
	}
	if s := run(t, "pdfinfo", f); !regexp.MustCompile(`Pages:\s+1\n`).MatchString(s) {
		t.Errorf("not one page:\n%s", s)
	}
	eml := filepath.Join(t.TempDir(), "m.eml")
	run(t, "pdfdetach", "-save", "1", "-o", eml, f)
	if got, _ := os.ReadFile(eml); !bytes.Equal(got, raw) || !bytes.Contains(got, []byte("p4499@example.org")) {
		t.Error("the embedded message is not whole")
	}
}

// TestPDFEmbeddedNames: attachments of the same name (also differing in
// case, also clashing with message.eml) get distinct names, and attached
// messages are embedded as .eml files of their own, byte for byte.
func TestPDFEmbeddedNames(t *testing.T) {
	raw := readCorpus(t)["same-names.eml"]
	dir := t.TempDir()
	f := filepath.Join(dir, "x.pdf")
	os.WriteFile(f, render(t, "pdf", raw, Options{}), 0o644)
	want := []string{"message.eml", "Minutes of the board meeting.eml", "minutes.eml", "report.pdf", "report (2).pdf", "Report (3).PDF", "message (2).eml"}
	got := strings.Split(strings.TrimSpace(run(t, "pdfdetach", "-list", f)), "\n")[1:]
	for i := range got {
		_, got[i], _ = strings.Cut(got[i], ": ")
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("embedded files %q, want %q", got, want)
	}
	run(t, "pdfdetach", "-saveall", "-o", dir, f)
	contents := map[string]string{
		"report.pdf": "%PDF-1.4 first report", "report (2).pdf": "%PDF-1.4 second report", "Report (3).PDF": "%PDF-1.4 third report",
		"message (2).eml": "not the original message",
	}
	for name, c := range contents {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != c {
			t.Errorf("%s holds %q, want %q", name, b, c)
		}
	}
	for name, subject := range map[string]string{"Minutes of the board meeting.eml": "Minutes of the board meeting", "minutes.eml": "Minutes: second session"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if m := parse(b); m.hdr.Subject != subject || !bytes.Contains(raw, b) {
			t.Errorf("%s: subject %q, want %q; part of the message: %v", name, m.hdr.Subject, subject, bytes.Contains(raw, b))
		}
	}
	text := norm1(run(t, "pdftotext", "-enc", "UTF-8", f, "-"))
	for _, s := range []string{"report (2).pdf", "Report (3).PDF", "embedded as minutes.eml", "embedded as Minutes of the board meeting.eml"} {
		if !strings.Contains(text, s) {
			t.Errorf("page does not show %q:\n%s", s, text)
		}
	}
}

// TestPDFMetadataText: the title and author keep every visible character
// (emoji as surrogate pairs, not U+FFFD) and lose control characters and
// bidi overrides, which could make "invoice<RLO>fdp.exe" read as
// "invoiceexe.pdf"; so do the names of embedded files.
func TestPDFMetadataText(t *testing.T) {
	corpus := readCorpus(t)
	corpus["bidi-override"] = []byte("From: =?utf-8?q?=E2=80=AEnimda?= <x@example.com>\r\nSubject: =?utf-8?q?Invoice_=E2=80=AEfdp.exe?=\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the invoice.\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=utf-8''invoice%E2%80%AEfdp.exe\r\n\r\nMZ\r\n--b--\r\n")
	for name, want := range map[string][3]string{
		"emoji.eml":         {"Party tonight 🎉🍕 at 8", "Eve 🌟 <eve@example.com>"},
		"control-chars.eml": {"Payroll update 📎", "Mallory [31mHR [0m <mallory@example.com>"},
		"bidi-override":     {"Invoice fdp.exe", "nimda <x@example.com>", "invoicefdp.exe"},
	} {
		f := filepath.Join(t.TempDir(), "x.pdf")
		os.WriteFile(f, render(t, "pdf", corpus[name], Options{}), 0o644)
		info := readPDF(t, f).checkInfo(t)
		if info["/Title"] != want[0] || info["/Author"] != want[1] {
			t.Errorf("%s: title %q, author %q; want %q", name, info["/Title"], info["/Author"], want)
		}
		if want[2] != "" && !strings.Contains(run(t, "pdfdetach", "-list", f), "2: "+want[2]+"\n") {
			t.Errorf("%s: embedded names:\n%s", name, run(t, "pdfdetach", "-list", f))
		}
	}
}

// BenchmarkPDFArchive times the archival pass alone on the typical
// message's fpdf output: copying the objects and adding PDF/A's ("pass"),
// and with deflating the embedded message and attachment too ("files").
func BenchmarkPDFArchive(b *testing.B) {
	raw := typicalMessage()
	m := parse(raw)
	d := newPDFDoc(m, raw, Options{})
	d.message(m)
	var out bytes.Buffer
	if err := d.f.Output(&out); err != nil {
		b.Fatal(err)
	}
	for name, files := range map[string][]pdfFile{"pass": nil, "files": d.files} {
		b.Run(name, func(b *testing.B) {
			a := &pdfArchive{title: "t", date: d.date, files: files, fonts: map[string]string{}}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := a.write(out.Bytes()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
