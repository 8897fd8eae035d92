package render

import (
	"archive/zip"
	"bytes"
	"io"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// This file writes the Office Open XML package of a .docx view: the fixed
// parts (content types, relationships, styles, settings, numbering, the
// document properties) around the document body that docx.go lays out.

const (
	nsW   = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	nsR   = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	relNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
	xmlHd = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
)

// zipTime is every zip entry's time, so the bytes depend on the message only.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

type docxPart struct {
	name string // path in the package, without the leading slash
	data []byte
}

type docxRel struct {
	id, typ, target string
	external        bool
}

// writeXML appends s to b as XML character data or attribute text:
// markup characters escaped, characters XML 1.0 forbids (most C0
// controls, U+FFFE, U+FFFF) dropped, invalid UTF-8 replaced.
func writeXML(b *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x80 && c != '&' && c != '<' && c != '>' && c != '"' {
			i++
			continue
		}
		r, n := rune(c), 1
		if c >= 0x80 {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		var rep string
		switch {
		case r == '&':
			rep = "&amp;"
		case r == '<':
			rep = "&lt;"
		case r == '>':
			rep = "&gt;"
		case r == '"':
			rep = "&quot;"
		case r == '\t' || r == '\n':
			i += n
			continue
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF || (r >= 0x80 && r < 0xA0):
			rep = ""
		case r == utf8.RuneError && n == 1:
			rep = "\uFFFD"
		default:
			i += n
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(rep)
		i += n
		last = i
	}
	b.WriteString(s[last:])
}

func xmlString(s string) string {
	var b bytes.Buffer
	writeXML(&b, s)
	return b.String()
}

// contentTypes lists the media type of every part: by extension for the
// relationship, XML and image parts, by name for the others.
func contentTypes(parts []docxPart) []byte {
	var b bytes.Buffer
	b.WriteString(xmlHd + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Default Extension="png" ContentType="image/png"/>` +
		`<Default Extension="jpeg" ContentType="image/jpeg"/>` +
		`<Default Extension="gif" ContentType="image/gif"/>`)
	overrides := map[string]string{
		"word/document.xml":  "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
		"word/styles.xml":    "application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml",
		"word/settings.xml":  "application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml",
		"word/numbering.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml",
		"docProps/core.xml":  "application/vnd.openxmlformats-package.core-properties+xml",
		"docProps/app.xml":   "application/vnd.openxmlformats-officedocument.extended-properties+xml",
	}
	for _, p := range parts {
		if t, ok := overrides[p.name]; ok {
			b.WriteString(`<Override PartName="/` + p.name + `" ContentType="` + t + `"/>`)
		}
	}
	b.WriteString(`</Types>`)
	return b.Bytes()
}

func relationships(rels []docxRel) []byte {
	var b bytes.Buffer
	b.WriteString(xmlHd + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for _, r := range rels {
		b.WriteString(`<Relationship Id="` + r.id + `" Type="` + r.typ + `" Target="`)
		writeXML(&b, r.target)
		if r.external {
			b.WriteString(`" TargetMode="External`)
		}
		b.WriteString(`"/>`)
	}
	b.WriteString(`</Relationships>`)
	return b.Bytes()
}

var packageRels = relationships([]docxRel{
	{"rId1", relNS + "officeDocument", "word/document.xml", false},
	{"rId2", "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties", "docProps/core.xml", false},
	{"rId3", relNS + "extended-properties", "docProps/app.xml", false},
})

// coreProps holds the title, author and date, as the PDF's Info dictionary.
func coreProps(h header) []byte {
	t := h.date.UTC()
	if h.date.IsZero() {
		t = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	date := t.Format("2006-01-02T15:04:05Z")
	var b bytes.Buffer
	b.WriteString(xmlHd + `<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" ` +
		`xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" ` +
		`xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>`)
	writeXML(&b, h.Subject)
	b.WriteString(`</dc:title><dc:creator>`)
	writeXML(&b, h.From)
	b.WriteString(`</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">` + date + `</dcterms:created>` +
		`<dcterms:modified xsi:type="dcterms:W3CDTF">` + date + `</dcterms:modified></cp:coreProperties>`)
	return b.Bytes()
}

var appProps = []byte(xmlHd + `<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">` +
	`<Application>mailfs render ` + strconv.Itoa(Version) + `</Application></Properties>`)

// settingsXML asks Word for its current layout rules, not compatibility
// mode.
var settingsXML = []byte(xmlHd + `<w:settings xmlns:w="` + nsW + `"><w:defaultTabStop w:val="720"/>` +
	`<w:characterSpacingControl w:val="doNotCompress"/><w:compat>` +
	`<w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/>` +
	`</w:compat></w:settings>`)

// docxFont is the document's face; LibreOffice substitutes its metric twin
// (Liberation Sans), and both fall back per character for other scripts.
const docxFont = `<w:rFonts w:ascii="Arial" w:hAnsi="Arial" w:cs="Arial"/>`

var stylesXML = func() []byte {
	var b bytes.Buffer
	b.WriteString(xmlHd + `<w:styles xmlns:w="` + nsW + `"><w:docDefaults><w:rPrDefault><w:rPr>` + docxFont +
		`<w:color w:val="202124"/><w:sz w:val="21"/><w:szCs w:val="21"/><w:lang w:val="en-US"/></w:rPr></w:rPrDefault>` +
		`<w:pPrDefault><w:pPr><w:spacing w:after="0" w:line="264" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>` +
		`<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>` +
		`<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont"><w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/></w:style>` +
		`<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/><w:semiHidden/>` +
		`<w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/>` +
		`<w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>` +
		`<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/>` +
		`<w:pPr><w:spacing w:after="80"/></w:pPr><w:rPr><w:b/><w:bCs/><w:color w:val="111111"/><w:sz w:val="30"/><w:szCs w:val="30"/></w:rPr></w:style>`)
	sizes := [6]int{32, 28, 25, 23, 22, 22} // half-points, as the PDF's headings
	for i, sz := range sizes {
		n := strconv.Itoa(i + 1)
		s := strconv.Itoa(sz)
		b.WriteString(`<w:style w:type="paragraph" w:styleId="Heading` + n + `"><w:name w:val="heading ` + n + `"/>` +
			`<w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="120" w:after="60"/>` +
			`<w:outlineLvl w:val="` + strconv.Itoa(i) + `"/></w:pPr><w:rPr><w:b/><w:bCs/><w:sz w:val="` + s + `"/><w:szCs w:val="` + s + `"/></w:rPr></w:style>`)
	}
	b.WriteString(`<w:style w:type="character" w:styleId="Hyperlink"><w:name w:val="Hyperlink"/><w:basedOn w:val="DefaultParagraphFont"/>` +
		`<w:rPr><w:color w:val="1A55B4"/><w:u w:val="single"/></w:rPr></w:style>` +
		`<w:style w:type="paragraph" w:styleId="Preformatted"><w:name w:val="HTML Preformatted"/><w:basedOn w:val="Normal"/>` +
		`<w:rPr><w:rFonts w:ascii="Courier New" w:hAnsi="Courier New" w:cs="Courier New"/><w:sz w:val="19"/><w:szCs w:val="19"/></w:rPr></w:style>` +
		`</w:styles>`)
	return b.Bytes()
}()

// numberingXML defines two lists: abstract list 0 with bullets, 1 numbered.
// Each numbered list of the document is its own instance (docxDoc.listItem),
// so that it starts at its own number.
func numberingXML(starts []int) []byte {
	var b bytes.Buffer
	b.WriteString(xmlHd + `<w:numbering xmlns:w="` + nsW + `">`)
	bullets := [3]string{"•", "◦", "▪"}
	for a := 0; a < 2; a++ {
		b.WriteString(`<w:abstractNum w:abstractNumId="` + strconv.Itoa(a) + `"><w:multiLevelType w:val="hybridMultilevel"/>`)
		for l := 0; l < 9; l++ {
			fmtv, text := "bullet", bullets[l%3]
			if a == 1 {
				fmtv, text = "decimal", "%"+strconv.Itoa(l+1)+"."
			}
			b.WriteString(`<w:lvl w:ilvl="` + strconv.Itoa(l) + `"><w:start w:val="1"/><w:numFmt w:val="` + fmtv + `"/>` +
				`<w:lvlText w:val="` + text + `"/><w:lvlJc w:val="left"/><w:pPr><w:ind w:left="` +
				strconv.Itoa(listIndent*(l+1)) + `" w:hanging="` + strconv.Itoa(listIndent) + `"/></w:pPr></w:lvl>`)
		}
		b.WriteString(`</w:abstractNum>`)
	}
	b.WriteString(`<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>`)
	for i, s := range starts {
		b.WriteString(`<w:num w:numId="` + strconv.Itoa(i+2) + `"><w:abstractNumId w:val="1"/>`)
		for l := 0; l < 9; l++ {
			b.WriteString(`<w:lvlOverride w:ilvl="` + strconv.Itoa(l) + `"><w:startOverride w:val="` + strconv.Itoa(s) + `"/></w:lvlOverride>`)
		}
		b.WriteString(`</w:num>`)
	}
	b.WriteString(`</w:numbering>`)
	return b.Bytes()
}

// writeZip writes the package: [Content_Types].xml first, as readers
// expect, then the other parts sorted by name, all with the same time.
// Images are stored, being compressed already; XML is deflated.
func writeZip(w io.Writer, parts []docxPart) error {
	sort.Slice(parts, func(i, j int) bool { return parts[i].name < parts[j].name })
	parts = append([]docxPart{{"[Content_Types].xml", contentTypes(parts)}}, parts...)
	z := zip.NewWriter(w)
	for _, p := range parts {
		method := zip.Deflate
		if len(p.name) > 11 && p.name[:11] == "word/media/" {
			method = zip.Store
		}
		f, err := z.CreateHeader(&zip.FileHeader{Name: p.name, Method: method, Modified: zipTime})
		if err != nil {
			return err
		}
		if _, err := f.Write(p.data); err != nil {
			return err
		}
	}
	return z.Close()
}
