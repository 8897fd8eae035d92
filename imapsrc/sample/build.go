package sample

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"
)

// Flag sets. Each message gets its own copy (see msg), so callers may modify
// the slices they receive.
var (
	seen     = []string{`\Seen`}
	answered = []string{`\Seen`, `\Answered`}
	flagged  = []string{`\Flagged`}
	draft    = []string{`\Seen`, `\Draft`}
)

// msg builds a Message. The text is written with "\n" line endings and may
// contain bytes in any charset; msg converts every line ending to CRLF.
// internalDate is in the layout of at.
func msg(folder, internalDate string, flags []string, text ...string) Message {
	return Message{
		Folder: folder,
		Raw:    crlf(strings.Join(text, "")),
		Date:   at(internalDate),
		Flags:  append([]string(nil), flags...),
	}
}

// crlf returns s with every line ending, "\n" or "\r\n", as "\r\n".
func crlf(s string) []byte {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// at parses "2006-01-02 15:04:05 -0700" and panics on a malformed constant.
func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05 -0700", s)
	if err != nil {
		panic(fmt.Sprintf("sample: bad date %q: %v", s, err))
	}
	return t
}

// b64 encodes data as base64 in lines of 76 characters, each ending in "\n".
func b64(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteByte('\n')
		enc = enc[76:]
	}
	if enc != "" {
		b.WriteString(enc)
		b.WriteByte('\n')
	}
	return b.String()
}

// qp encodes text (in any charset, "\n" line endings) as quoted-printable.
func qp(text []byte) string {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	if _, err := w.Write(text); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return b.String()
}

// qWords and bWords encode a header value as RFC 2047 encoded words, folded
// one word per line so that no header line exceeds 78 characters. text must
// already be in charset.
func qWords(charset, text string) string { return fold(mime.QEncoding.Encode(charset, text)) }
func bWords(charset, text string) string { return fold(mime.BEncoding.Encode(charset, text)) }

func fold(words string) string { return strings.ReplaceAll(words, "?= =?", "?=\n =?") }

// pdf returns a small but valid one-page PDF showing lines in Helvetica.
// Only printable ASCII is supported in lines.
func pdf(lines ...string) []byte {
	var content strings.Builder
	content.WriteString("BT /F1 12 Tf 72 770 Td 16 TL")
	for _, l := range lines {
		r := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`)
		fmt.Fprintf(&content, " (%s) Tj T*", r.Replace(l))
	}
	content.WriteString(" ET")

	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " +
		"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>")
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", content.Len(), content.String()))
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// logoPNG is a 24×24 paletted PNG (a yellow dot in a blue ring), used as an
// inline newsletter image and as a photo attachment.
var logoPNG = mustB64("iVBORw0KGgoAAAANSUhEUgAAABgAAAAYAgMAAACdGdVrAAAACVBMVEX///8fb7XyqQB0muc5" +
	"AAAAUklEQVR42mJAB6GhDgwMDKyhoSEMDAyioaGhILGsVaEODIxhq1YtDWBgjFq1amUAAyuICmFg" +
	"zVq1ahVJFEQf1BSomVAbYPZBbYe6BQwAAQAA//8lSS02Vwiu2wAAAABJRU5ErkJggg==")

func mustB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// b64word is base64 without line breaks, for a single encoded word.
func b64word(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
