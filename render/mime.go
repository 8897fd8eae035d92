package render

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/charset" // registers ISO-8859-*, Windows-125*, KOI8, CJK charsets
	"github.com/emersion/go-message/textproto"
	"golang.org/x/text/encoding/charmap"
)

// This file holds the lenient decoders: header splitting, media-type
// parameters, transfer encodings and charsets. Each of them returns as much as
// it could decode and never fails outright, because a broken message must
// still render.

// splitHeader separates the header from the body. Lines in the header block
// that are neither "Key: value" fields nor continuations (an mbox "From "
// line, garbage) are dropped. If the message starts with something that is
// not a header at all, the whole input is the body.
func splitHeader(raw []byte) (gomessage.Header, []byte) {
	var clean bytes.Buffer
	rest := raw
	fields := 0
	kept := false // whether the previous line was kept (for continuations)
	for len(rest) > 0 {
		line := rest
		next := []byte(nil)
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, next = rest[:i+1], rest[i+1:]
		}
		trimmed := bytes.TrimRight(line, "\r\n")
		if len(trimmed) == 0 {
			rest = next
			break
		}
		switch {
		case trimmed[0] == ' ' || trimmed[0] == '\t':
			if kept {
				clean.Write(trimmed)
				clean.WriteString("\r\n")
			}
		case isHeaderLine(trimmed):
			clean.Write(trimmed)
			clean.WriteString("\r\n")
			kept = true
			fields++
		default:
			if fields == 0 && !bytes.HasPrefix(trimmed, []byte("From ")) {
				// Not a message header: everything is body.
				return gomessage.Header{}, raw
			}
			kept = false
		}
		rest = next
	}
	clean.WriteString("\r\n")
	h, err := textproto.ReadHeader(bufio.NewReader(&clean))
	if err != nil && h.Len() == 0 {
		return gomessage.Header{}, raw
	}
	return gomessage.Header{Header: h}, rest
}

// isHeaderLine reports whether line looks like "Key: value".
func isHeaderLine(line []byte) bool {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	for _, c := range line[:i] {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// mediaType parses a Content-Type or Content-Disposition value. The type is
// lower case; parameter values have RFC 2047 words decoded. Malformed
// parameter lists (unquoted spaces, duplicates) are parsed leniently instead
// of being dropped, so a bad boundary or filename still comes through.
func mediaType(v string) (string, map[string]string) {
	t, params, err := mime.ParseMediaType(v)
	if err != nil || params == nil {
		t, params = parseParamsLenient(v)
	}
	for k, p := range params {
		params[k] = decodeWords(p)
	}
	return strings.ToLower(strings.TrimSpace(t)), params
}

func parseParamsLenient(v string) (string, map[string]string) {
	params := map[string]string{}
	fields := strings.Split(v, ";")
	for _, f := range fields[1:] {
		k, val, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.Trim(strings.TrimSpace(val), `"`)
		if strings.HasSuffix(k, "*") { // RFC 2231: charset'lang'percent-encoded
			k = strings.TrimSuffix(k, "*")
			if parts := strings.SplitN(val, "'", 3); len(parts) == 3 {
				val = parts[2]
				if u, err := url.PathUnescape(val); err == nil {
					val = decodeCharset(parts[0], []byte(u))
				}
			}
		}
		if _, dup := params[k]; !dup && k != "" {
			params[k] = val
		}
	}
	return strings.TrimSpace(fields[0]), params
}

// headerText returns the decoded value of a header field: raw 8-bit bytes are
// taken as UTF-8 (or Windows-1252 when not valid UTF-8), then RFC 2047 words
// are decoded with any known charset.
func headerText(h gomessage.Header, key string) string {
	return decodeWords(h.Get(key))
}

var wordDecoder = mime.WordDecoder{CharsetReader: func(label string, r io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(decodeCharset(label, b)), nil
}}

var latin1Word = regexp.MustCompile(`(?i)=\?(iso-8859-1|latin1)(\*[a-z-]+)?\?`)

func decodeWords(s string) string {
	if !utf8.ValidString(s) {
		s = decodeCharset("", []byte(s))
	}
	if !strings.Contains(s, "=?") {
		return s
	}
	// The standard decoder reads ISO-8859-1 itself; read it as Windows-1252
	// like everything else does (senders put 0x80–0x9F quotes in it).
	s = latin1Word.ReplaceAllString(s, "=?windows-1252?")
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return strings.ToValidUTF8(d, "\uFFFD")
	}
	return s
}

// decodeCharset converts b from the named charset to UTF-8. Unlabelled or
// unknown text is taken as UTF-8 when valid and as Windows-1252 otherwise;
// ISO-8859-1 is read as its superset Windows-1252, as browsers do.
func decodeCharset(label string, b []byte) string {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	switch label {
	case "utf-8", "utf8":
		return strings.ToValidUTF8(string(b), "\uFFFD")
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "l1", "windows-1252", "cp1252":
		return latin1(b)
	case "", "us-ascii", "ascii", "unknown-8bit", "x-unknown", "default":
		return guessText(b)
	}
	r, err := charset.Reader(label, bytes.NewReader(b))
	if err != nil || r == nil {
		return guessText(b)
	}
	out, err := io.ReadAll(r)
	if err != nil && len(out) == 0 {
		return guessText(b)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

func guessText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return latin1(b)
}

func latin1(b []byte) string {
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(out)
}

// decodeTransfer undoes the Content-Transfer-Encoding. ok is false when the
// data was damaged; the result then holds what could be decoded.
func decodeTransfer(enc string, b []byte) (out []byte, ok bool) {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64":
		return decodeBase64(b)
	case "quoted-printable":
		return decodeQP(b), true
	}
	return b, true
}

// decodeBase64 skips white space and copes with padding in the middle (some
// mailers encode each line separately). A line with characters outside the
// alphabet is decoded up to the first of them; the rest of it is lost.
func decodeBase64(b []byte) ([]byte, bool) {
	out := make([]byte, 0, len(b)*3/4+8)
	seg := make([]byte, 0, 4096)
	ok := true
	flush := func() {
		if len(seg)%4 == 1 {
			seg = seg[:len(seg)-1]
			ok = false
		}
		n, err := base64.RawStdEncoding.Decode(out[len(out):cap(out)], seg)
		if err != nil {
			ok = false
		}
		out = out[:len(out)+n]
		seg = seg[:0]
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		for _, c := range line {
			switch {
			case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
				seg = append(seg, c)
				if len(seg) == cap(seg) {
					flush()
				}
				continue
			case c == '=':
				if len(seg)%4 != 0 {
					flush()
				}
				continue
			case c == ' ', c == '\t', c == '\r':
				continue
			}
			// Damage: keep the whole quanta before it, drop the rest of the line.
			ok = false
			seg = seg[:len(seg)-len(seg)%4]
			break
		}
	}
	flush()
	return out, ok
}

// decodeQP decodes quoted-printable; an "=" not followed by two hex digits
// or a line break is kept literally.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		if i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
			continue
		}
		// Soft line break: "=" followed by optional blanks and a newline.
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		if j < len(b) && b[j] == '\r' {
			j++
		}
		if j < len(b) && b[j] == '\n' {
			i = j
			continue
		}
		if j == len(b) {
			break
		}
		out = append(out, c)
	}
	return out
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// unflow joins the soft line breaks of format=flowed text (RFC 3676):
// a line ending in a space continues on the next line of the same quote
// depth.
func unflow(s string, delsp bool) string {
	var b, para strings.Builder
	b.Grow(len(s))
	depth, open := 0, false
	emit := func() {
		if depth > 0 {
			b.WriteString(strings.Repeat(">", depth))
			b.WriteByte(' ')
		}
		b.WriteString(para.String())
		b.WriteByte('\n')
		para.Reset()
		open = false
	}
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		d := len(l) - len(strings.TrimLeft(l, ">"))
		l = strings.TrimPrefix(l[d:], " ") // space stuffing
		if open && d != depth {
			emit()
		}
		depth = d
		soft := strings.HasSuffix(l, " ") && l != "-- "
		if soft && delsp {
			l = l[:len(l)-1]
		}
		para.WriteString(l)
		open = true
		if !soft {
			emit()
		}
	}
	if open {
		emit()
	}
	return strings.TrimSuffix(b.String(), "\n")
}
