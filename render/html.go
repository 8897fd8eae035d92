package render

import (
	"bytes"
	"encoding/base64"
	"io"
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// htmlCSP forbids every fetch but data: images and inline styles, in case
// something slipped through the sanitiser. Frames inherit it and repeat it.
const htmlCSP = `default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'`

// frameSandbox lets a body frame run nothing and reach nothing; its links
// (all target=_blank) open in a new, ordinary tab when clicked.
const frameSandbox = "allow-popups allow-popups-to-escape-sandbox"

const fontStack = `system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif`

// pageCSS styles mailfs's own markup. The page is a column as tall as the
// window: the header block on top (never taller than half of it), then a
// pane that scrolls; a body frame is as tall as that pane (100cqh).
const pageCSS = `html{height:100%}
body.mailfs{height:100%;margin:0;display:flex;flex-direction:column;background:#fff;color:#202124;font:14px/1.45 ` + fontStack + `}
.mailfs-head{flex:none;max-height:50vh;overflow:auto;background:#f3f4f6;border-bottom:1px solid #d9dce1;padding:14px 24px;text-align:left}
.mailfs-subject{font-size:20px;font-weight:600;line-height:1.3;margin:0 0 8px;color:#111}
.mailfs-row{display:flex;margin:1px 0}
.mailfs-k{flex:0 0 5em;color:#5f6368;font-weight:600}
.mailfs-v{flex:1;min-width:0;max-height:4.35em;overflow:auto;overflow-wrap:anywhere}
.mailfs-att{margin-top:6px}
.mailfs-att ul{margin:2px 0 0;padding-left:20px}
.mailfs-meta{color:#5f6368}
.mailfs-main{flex:1 1 0;min-height:0;overflow:auto;container-type:size}
.mailfs-frame{display:block;width:100%;height:100cqh;border:0}
.mailfs-note{margin:12px 24px;padding:8px 12px;border-left:4px solid #e0a800;background:#fff8e1;white-space:pre-line}
.mailfs-body{padding:16px 24px}
.mailfs-text{white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:plaintext;line-height:1.5}
.mailfs-quote{color:#4b6a8a}
.mailfs-raw{white-space:pre-wrap;overflow-wrap:anywhere;font:12px/1.4 ui-monospace,monospace;margin:0}
.mailfs-img{max-width:100%;height:auto}
.mailfs-nested{margin:16px 24px;border:1px solid #d9dce1;border-radius:6px;overflow:hidden}
.mailfs-label{font:600 12px/1.4 ` + fontStack + `;text-transform:uppercase;letter-spacing:.04em;color:#5f6368;padding:8px 24px 0;background:#f3f4f6}
@media print{html,body.mailfs{height:auto}body.mailfs{display:block}.mailfs-head,.mailfs-v,.mailfs-main{max-height:none;overflow:visible;container-type:normal}.mailfs-frame{height:100vh}}
`

// frameCSS is the starting style of a body frame; the message's own style
// sheets come after it and may change anything in the frame.
const frameCSS = `body{margin:0;padding:16px 24px;background:#fff;color:#202124;font:14px/1.45 ` + fontStack + `;overflow-wrap:break-word}
.mailfs-text{white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:plaintext}
.mailfs-blocked{display:inline-block;box-sizing:border-box;max-width:100%;overflow:hidden;vertical-align:middle;border:1px dashed #b0b4ba;background:#f6f7f8;color:#80868b;font:11px/1.3 ` + fontStack + `;padding:2px 4px;text-align:center}
`

// HTML writes the .html view of raw: one self-contained, sanitised page
// that fetches nothing when opened. It fails only when w does.
func HTML(raw []byte, w io.Writer) error {
	out, _ := writePage(raw, htmlCSP, dataURI)
	_, err := w.Write(out)
	return err
}

// page writes one HTML view. The header block, notices and attachment
// lists are mailfs's own markup in the page; each HTML body is a document
// of its own in a sandboxed frame, so that nothing of the message can
// hide, move, cover or restyle them.
type page struct {
	b   *bytes.Buffer
	csp string
	// image returns the URL an image part is shown from, "" when it is not
	// shown: a data: URI in the .html, a part's Content-Location in the .mht.
	image func(*attachment) string
	frame bytes.Buffer // scratch space for a frame's document
}

// writePage renders the page of raw and returns it with the message. The
// message is nil when rendering failed and the page shows the raw text
// instead (image was perhaps called for parts the page does not show).
func writePage(raw []byte, csp string, image func(*attachment) string) (out []byte, msg *message) {
	var b bytes.Buffer
	p := &page{b: &b, csp: csp, image: image}
	func() {
		defer func() {
			if recover() != nil {
				b.Reset()
				msg = nil
				p.start("")
				b.WriteString("<div class=\"mailfs-main\"><div class=\"mailfs-body\"><pre class=\"mailfs-raw\">")
				b.WriteString(html.EscapeString(rawText(raw)))
				b.WriteString("</pre></div></div>\n</body>\n</html>\n")
			}
		}()
		m := parse(raw)
		p.start(m.hdr.Subject)
		p.head(m)
		b.WriteString("<div class=\"mailfs-main\">\n")
		p.body(m)
		b.WriteString("</div>\n</body>\n</html>\n")
		msg = m
	}()
	return stripControls(b.Bytes()), msg
}

// start writes the page up to the opening of its body.
func (p *page) start(title string) {
	p.b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n")
	p.b.WriteString("<meta http-equiv=\"Content-Security-Policy\" content=\"" + p.csp + "\">\n")
	p.b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	p.b.WriteString("<meta name=\"referrer\" content=\"no-referrer\">\n")
	p.b.WriteString("<title>" + html.EscapeString(title) + "</title>\n")
	p.b.WriteString("<style>" + pageCSS + "</style>\n</head>\n<body class=\"mailfs\">\n")
}

// head writes the header block of m with its attachment list.
func (p *page) head(m *message) {
	b, esc := p.b, html.EscapeString
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
	if len(m.atts) > 0 {
		b.WriteString("<div class=\"mailfs-att\"><span class=\"mailfs-k\">Attachments (" + strconv.Itoa(len(m.atts)) + ")</span><ul>\n")
		for _, a := range m.atts {
			b.WriteString("<li>" + esc(a.name) + " <span class=\"mailfs-meta\">(" + esc(a.ctype) + ", " +
				formatSize(len(a.data)) + ")</span></li>\n")
		}
		b.WriteString("</ul></div>\n")
	}
	b.WriteString("</div>\n")
}

// body writes the body nodes of m into the scrolling pane.
func (p *page) body(m *message) {
	b, esc := p.b, html.EscapeString
	for _, n := range chooseBody(m.body, true) {
		switch n.kind {
		case nHTML:
			p.htmlFrame(n.text, m)
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
			if uri := p.image(n.att); uri != "" {
				b.WriteString("<img class=\"mailfs-img\" src=\"" + esc(uri) + "\" alt=\"" + esc(n.att.name) + "\">")
			} else {
				b.WriteString("[image: " + esc(n.att.name) + "]")
			}
			b.WriteString("</div>\n")
		case nMessage:
			b.WriteString("<div class=\"mailfs-nested\"><div class=\"mailfs-label\">Attached message</div>\n")
			p.head(n.msg)
			p.body(n.msg)
			b.WriteString("</div>\n")
		}
	}
}

// htmlFrame writes an HTML body as a sandboxed frame whose srcdoc is the
// sanitised body, a complete document with the page's CSP of its own.
// Escaped as an attribute value, nothing in it can end the attribute.
func (p *page) htmlFrame(src string, m *message) {
	f := &p.frame
	f.Reset()
	f.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n")
	f.WriteString("<meta http-equiv=\"Content-Security-Policy\" content=\"" + p.csp + "\">\n")
	f.WriteString("<meta name=\"referrer\" content=\"no-referrer\">\n")
	f.WriteString("<style>" + frameCSS + "</style>\n")
	sanitizeHTML(f, src, m, p.image)
	f.WriteString("\n</html>\n")
	p.b.WriteString("<iframe class=\"mailfs-frame\" title=\"message body\" sandbox=\"" + frameSandbox + "\" srcdoc=\"")
	writeEscaped(p.b, f.Bytes())
	p.b.WriteString("\"></iframe>\n")
}

// writeEscaped writes s escaped as HTML text or a quoted attribute value.
func writeEscaped(b *bytes.Buffer, s []byte) {
	last := 0
	for i, c := range s {
		var e string
		switch c {
		case '&':
			e = "&amp;"
		case '"':
			e = "&#34;"
		case '\'':
			e = "&#39;"
		case '<':
			e = "&lt;"
		case '>':
			e = "&gt;"
		default:
			continue
		}
		b.Write(s[last:i])
		b.WriteString(e)
		last = i + 1
	}
	b.Write(s[last:])
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
