package render

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Text writes the .txt view of raw: the header block, the plain text body
// (or the HTML body converted to text, links as "text <url>"), attached
// messages inline, and the attachment list. It fails only when w does.
func Text(raw []byte, w io.Writer) error {
	var b bytes.Buffer
	func() {
		defer func() {
			if recover() != nil {
				b.Reset()
				b.WriteString(rawText(raw))
			}
		}()
		writeText(&b, parse(raw))
	}()
	_, err := w.Write(stripControls(b.Bytes()))
	return err
}

func writeText(b *bytes.Buffer, m *message) {
	fields := headerFields(m.hdr)
	for _, f := range fields {
		fmt.Fprintf(b, "%-9s%s\n", f.label+":", f.value)
	}
	if len(fields) > 0 {
		b.WriteByte('\n')
	}
	for _, n := range chooseBody(m.body, false) {
		if n.kind == nMessage {
			b.WriteString("---------- Attached message ----------\n")
			writeText(b, n.msg)
			b.WriteString("---------- End of attached message ----------\n\n")
			continue
		}
		writeTextNode(b, n, m)
	}
	if len(m.atts) > 0 {
		fmt.Fprintf(b, "Attachments (%d):\n", len(m.atts))
		for _, a := range m.atts {
			fmt.Fprintf(b, "  - %s (%s, %s)\n", a.name, a.ctype, formatSize(len(a.data)))
		}
		b.WriteByte('\n')
	}
}

// writeTextNode writes one body node of m as plain text (attached
// messages are the caller's: the .txt shows them inline, the .msg as
// embedded messages).
func writeTextNode(b *bytes.Buffer, n node, m *message) {
	switch n.kind {
	case nText:
		b.WriteString(strings.TrimRight(n.text, "\n \t"))
		b.WriteString("\n\n")
	case nHTML:
		writeBlocksText(b, htmlBlocks(n.text, m))
		b.WriteByte('\n')
	case nRaw:
		b.WriteString(n.text)
		b.WriteString("\n\n")
	case nNote:
		for _, l := range strings.Split(n.text, "\n") {
			b.WriteString("| " + l + "\n")
		}
		b.WriteByte('\n')
	case nImage:
		fmt.Fprintf(b, "[image: %s]\n\n", n.att.name)
	}
}

type field struct{ label, value string }

// headerFields lists the header block's lines that have a value.
func headerFields(h header) []field {
	fs := []field{{"From", h.From}, {"To", h.To}, {"Cc", h.Cc}, {"Date", h.Date}, {"Subject", h.Subject}}
	out := fs[:0]
	for _, f := range fs {
		if f.value != "" {
			out = append(out, f)
		}
	}
	return out
}

// maxHeaderShow caps each header field in the PDF and the DOCX (some ten
// lines): a To of thousands of addresses is no use there, and the .eml
// keeps it all.
const maxHeaderShow = 1000

// shortenField cuts a header value longer than maxHeaderShow bytes after
// the last whole address (or word) that fits, and adds an ellipsis.
func shortenField(v string) (string, bool) {
	if len(v) <= maxHeaderShow {
		return v, false
	}
	cut := strings.ToValidUTF8(v[:maxHeaderShow], "")
	if i := strings.LastIndex(cut, ", "); i > maxHeaderShow/2 {
		cut = cut[:i+1]
	} else if i := strings.LastIndexByte(cut, ' '); i > maxHeaderShow/2 {
		cut = cut[:i]
	}
	return cut + " …", true
}

// shortenedNote says under a shortened field where the whole one is.
func shortenedNote(label, full, where string) string {
	return "(" + label + " shortened here: it is " + formatSize(len(full)) + " long; the complete field is in " + where + ")"
}

// stripControls removes control characters but tab and newline (a NUL
// would make grep call the file binary).
func stripControls(b []byte) []byte {
	return bytes.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' || r >= 0x7f && r < 0xa0 {
			return -1
		}
		return r
	}, b)
}

// writeBlocksText lays blocks out as plain text without wrapping: one line
// per paragraph is what grep wants.
func writeBlocksText(b *bytes.Buffer, blocks []block) {
	for _, bl := range blocks {
		prefix := strings.Repeat("> ", bl.quote) + strings.Repeat("  ", max(bl.indent-1, 0))
		switch bl.kind {
		case bRule:
			b.WriteString(prefix + strings.Repeat("-", 40) + "\n")
		case bImage:
			b.WriteString(prefix + "[image: " + bl.img.name + "]\n")
		default:
			first := prefix
			if bl.bullet != "" {
				first += bl.bullet + " "
				prefix += strings.Repeat(" ", utf8.RuneCountInString(bl.bullet)+1)
			}
			text := spansText(bl.spans)
			lines := strings.Split(text, "\n")
			for i, l := range lines {
				p := prefix
				if i == 0 {
					p = first
				}
				b.WriteString(strings.TrimRight(p+l, " ") + "\n")
			}
			if bl.kind == bHeading && bl.level <= 2 && len(lines) == 1 {
				u := "="
				if bl.level == 2 {
					u = "-"
				}
				b.WriteString(first + strings.Repeat(u, utf8.RuneCountInString(lines[0])) + "\n")
			}
		}
		if bl.space || bl.kind == bHeading {
			b.WriteByte('\n')
		}
	}
}

// spansText joins spans, writing each link as "text <url>" (or just the URL
// when the text already is the URL).
func spansText(spans []span) string {
	var b strings.Builder
	for i, s := range spans {
		b.WriteString(s.text)
		if s.href == "" || i+1 < len(spans) && spans[i+1].href == s.href {
			continue
		}
		// The link's text is the run of spans with the same target.
		j := i
		for j > 0 && spans[j-1].href == s.href {
			j--
		}
		var lt strings.Builder
		for _, t := range spans[j : i+1] {
			lt.WriteString(t.text)
		}
		label := strings.TrimSpace(lt.String())
		target := strings.TrimPrefix(strings.TrimPrefix(s.href, "mailto:"), "tel:")
		if label != target && label != s.href && strings.TrimSuffix(label, "/") != strings.TrimSuffix(s.href, "/") {
			b.WriteString(" <" + s.href + ">")
		}
	}
	return b.String()
}
