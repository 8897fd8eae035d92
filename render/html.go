package render

import (
	"bytes"
	"encoding/base64"
	"io"
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// csp forbids every fetch but data: images and inline styles, in case
// something slipped through the sanitiser.
const csp = `default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'`

const pageCSS = `:where(body.mailfs){margin:0;padding:0;background:#fff;color:#202124;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif}
.mailfs-head{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;background:#f3f4f6;border-bottom:1px solid #d9dce1;padding:14px 24px;color:#202124;text-align:left}
.mailfs-subject{font-size:20px;font-weight:600;line-height:1.3;margin:0 0 8px;color:#111}
.mailfs-row{display:flex;margin:1px 0}
.mailfs-k{flex:0 0 5em;color:#5f6368;font-weight:600}
.mailfs-v{flex:1;min-width:0;overflow-wrap:anywhere}
.mailfs-note{margin:12px 24px;padding:8px 12px;border-left:4px solid #e0a800;background:#fff8e1;color:#202124;font:14px/1.45 system-ui,sans-serif;white-space:pre-line}
.mailfs-body{padding:16px 24px;overflow-x:auto}
.mailfs-text{white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:plaintext;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif}
.mailfs-quote{color:#4b6a8a}
.mailfs-raw{white-space:pre-wrap;overflow-wrap:anywhere;font:12px/1.4 ui-monospace,monospace;margin:0}
.mailfs-img{max-width:100%;height:auto}
.mailfs-blocked{display:inline-block;box-sizing:border-box;max-width:100%;overflow:hidden;vertical-align:middle;border:1px dashed #b0b4ba;background:#f6f7f8;color:#80868b;font:11px/1.3 system-ui,sans-serif;padding:2px 4px;text-align:center}
.mailfs-nested{margin:16px 24px;border:1px solid #d9dce1;border-radius:6px;overflow:hidden}
.mailfs-label{font:600 12px/1.4 system-ui,sans-serif;text-transform:uppercase;letter-spacing:.04em;color:#5f6368;padding:8px 24px 0;background:#f3f4f6}
.mailfs-att{margin:8px 24px 24px;padding:10px 14px;border:1px solid #d9dce1;border-radius:6px;font:14px/1.5 system-ui,sans-serif;color:#202124}
.mailfs-att ul{margin:4px 0 0;padding-left:20px}
.mailfs-meta{color:#5f6368}
`

// HTML writes the .html view of raw: one self-contained, sanitised page
// that fetches nothing when opened. It fails only when w does.
func HTML(raw []byte, w io.Writer) error {
	var b bytes.Buffer
	func() {
		defer func() {
			if recover() != nil {
				b.Reset()
				b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"" + csp + "\">\n")
				b.WriteString("<style>" + pageCSS + "</style></head>\n<body class=\"mailfs\"><pre class=\"mailfs-raw\">")
				b.WriteString(html.EscapeString(rawText(raw)))
				b.WriteString("</pre></body></html>\n")
			}
		}()
		m := parse(raw)
		b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n")
		b.WriteString("<meta http-equiv=\"Content-Security-Policy\" content=\"" + csp + "\">\n")
		b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
		b.WriteString("<meta name=\"referrer\" content=\"no-referrer\">\n")
		b.WriteString("<title>" + html.EscapeString(m.hdr.Subject) + "</title>\n")
		b.WriteString("<style>" + pageCSS + "</style>\n</head>\n<body class=\"mailfs\">\n")
		writeMessageHTML(&b, m)
		b.WriteString("</body>\n</html>\n")
	}()
	_, err := w.Write(stripControls(b.Bytes()))
	return err
}

func writeMessageHTML(b *bytes.Buffer, m *message) {
	esc := html.EscapeString
	subject := m.hdr.Subject
	if subject == "" {
		subject = "(no subject)"
	}
	b.WriteString("<div class=\"mailfs-head\">\n<div class=\"mailfs-subject\">" + esc(subject) + "</div>\n")
	for _, f := range headerFields(m.hdr) {
		if f.label == "Subject" {
			continue
		}
		b.WriteString("<div class=\"mailfs-row\"><span class=\"mailfs-k\">" + f.label +
			"</span><span class=\"mailfs-v\">" + esc(f.value) + "</span></div>\n")
	}
	b.WriteString("</div>\n")
	for _, n := range chooseBody(m.body, true) {
		switch n.kind {
		case nHTML:
			sanitizeHTML(b, n.text, m)
		case nText:
			b.WriteString("<div class=\"mailfs-body\"><div class=\"mailfs-text\">")
			writeTextHTML(b, n.text)
			b.WriteString("</div></div>\n")
		case nRaw:
			b.WriteString("<div class=\"mailfs-body\"><pre class=\"mailfs-raw\">" + esc(n.text) + "</pre></div>\n")
		case nNote:
			b.WriteString("<div class=\"mailfs-note\">" + esc(n.text) + "</div>\n")
		case nImage:
			b.WriteString("<div class=\"mailfs-body\">")
			if uri := dataURI(n.att); uri != "" {
				b.WriteString("<img class=\"mailfs-img\" src=\"" + uri + "\" alt=\"" + esc(n.att.name) + "\">")
			} else {
				b.WriteString("<span class=\"mailfs-blocked\">[image: " + esc(n.att.name) + "]</span>")
			}
			b.WriteString("</div>\n")
		case nMessage:
			b.WriteString("<div class=\"mailfs-nested\"><div class=\"mailfs-label\">Attached message</div>\n")
			writeMessageHTML(b, n.msg)
			b.WriteString("</div>\n")
		}
	}
	if len(m.atts) > 0 {
		b.WriteString("<div class=\"mailfs-att\"><b>Attachments (" + strconv.Itoa(len(m.atts)) + ")</b><ul>\n")
		for _, a := range m.atts {
			b.WriteString("<li>" + esc(a.name) + " <span class=\"mailfs-meta\">(" + esc(a.ctype) + ", " +
				formatSize(len(a.data)) + ")</span></li>\n")
		}
		b.WriteString("</ul></div>\n")
	}
}

// writeTextHTML escapes a plain text body, keeping line breaks (the
// container is pre-wrap), linking URLs and tinting quoted lines.
func writeTextHTML(b *bytes.Buffer, s string) {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		quoted := strings.HasPrefix(strings.TrimLeft(l, " "), ">")
		if quoted {
			b.WriteString("<span class=\"mailfs-quote\">")
		}
		for _, sp := range linkify(l) {
			if sp.href != "" {
				b.WriteString("<a href=\"" + html.EscapeString(sp.href) + "\" rel=\"noopener noreferrer\" target=\"_blank\">" +
					html.EscapeString(sp.text) + "</a>")
			} else {
				b.WriteString(html.EscapeString(sp.text))
			}
		}
		if quoted {
			b.WriteString("</span>")
		}
		if i+1 < len(lines) {
			b.WriteByte('\n')
		}
	}
}

// dataURI embeds an image part, or returns "" for types a browser may not
// show or that could carry script (SVG).
func dataURI(a *attachment) string {
	t := imageType(a.data)
	if t == "" {
		return ""
	}
	return "data:image/" + t + ";base64," + base64.StdEncoding.EncodeToString(a.data)
}
