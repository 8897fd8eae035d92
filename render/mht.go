package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"mime"
	"mime/quotedprintable"
	"strconv"
	"strings"
	"time"
)

// mhtBase names the parts of an .mht: the .invalid domain never resolves
// (RFC 2606), so a reader that looked outside the archive fetches nothing.
const mhtBase = "http://mailfs.invalid/"

// mhtCSP is htmlCSP with the archive's own images allowed.
const mhtCSP = `default-src 'none'; img-src data: http://mailfs.invalid; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'`

type mhtPart struct {
	loc, ctype string
	data       []byte
}

// MHT writes the .mht view of raw (RFC 2557 MHTML): one multipart/related
// whose root is the HTML view and whose other parts are the images it
// shows, each named by its Content-Location, which the page uses as the
// image's URL. The boundary is derived from the content, so the same input
// gives the same bytes. It fails only when w does.
func MHT(raw []byte, w io.Writer) error {
	var parts []mhtPart
	seen := map[string]string{} // image bytes -> Content-Location
	image := func(a *attachment) string {
		if loc, ok := seen[string(a.data)]; ok {
			return loc
		}
		t := imageType(a.data)
		if t == "" {
			return ""
		}
		loc := mhtBase + strconv.Itoa(len(parts)+1) + "-" + urlName(a.name)
		parts = append(parts, mhtPart{loc, "image/" + t, a.data})
		seen[string(a.data)] = loc
		return loc
	}
	root, m := writePage(raw, mhtCSP, image)
	var hdr header
	if m != nil {
		hdr = m.hdr
	} else {
		parts = nil
	}
	parts = append([]mhtPart{{mhtBase + "message.html", `text/html; charset="utf-8"`, root}}, parts...)

	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p.loc + "\x00" + strconv.Itoa(len(p.data)) + "\x00"))
		h.Write(p.data)
	}
	boundary := "----=_mailfs_" + hex.EncodeToString(h.Sum(nil)[:16])

	var b bytes.Buffer
	b.Grow(len(root) + len(root)/8 + 4<<10)
	if hdr.Subject != "" {
		b.WriteString("Subject: " + mime.QEncoding.Encode("utf-8", string(stripControls([]byte(hdr.Subject)))) + "\r\n")
	}
	if !hdr.date.IsZero() {
		b.WriteString("Date: " + hdr.date.Format(time.RFC1123Z) + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/related; type=\"text/html\"; boundary=\"" + boundary + "\"\r\n\r\n")
	for i, p := range parts {
		b.WriteString("--" + boundary + "\r\nContent-Type: " + p.ctype + "\r\n")
		if i == 0 {
			b.WriteString("Content-Transfer-Encoding: quoted-printable\r\nContent-Location: " + p.loc + "\r\n\r\n")
			q := quotedprintable.NewWriter(&b)
			q.Write(p.data)
			q.Close()
		} else {
			b.WriteString("Content-Transfer-Encoding: base64\r\nContent-Location: " + p.loc + "\r\n\r\n")
			writeBase64Lines(&b, p.data)
		}
		b.WriteString("\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	_, err := w.Write(b.Bytes())
	return err
}

// urlName makes a file name safe as the last segment of a URL.
func urlName(name string) string {
	s := []byte(name)
	if len(s) > 60 {
		s = s[len(s)-60:]
	}
	for i, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			s[i] = '_'
		}
	}
	return strings.TrimLeft(string(s), ".")
}

// writeBase64Lines writes data in base64 lines of 76 characters.
func writeBase64Lines(b *bytes.Buffer, data []byte) {
	const lineBytes = 57 // 76 characters
	line := make([]byte, 76)
	for len(data) > 0 {
		n := min(len(data), lineBytes)
		base64.StdEncoding.Encode(line, data[:n])
		b.Write(line[:base64.StdEncoding.EncodedLen(n)])
		b.WriteString("\r\n")
		data = data[n:]
	}
}
