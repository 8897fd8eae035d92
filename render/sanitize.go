package render

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The sanitiser is an allowlist over golang.org/x/net/html: known
// formatting elements and attributes are kept, active or fetching content is
// dropped, unknown elements are unwrapped. Links keep http(s), mailto, tel
// and ftp targets. Images keep only cid: and base64 data: sources of the
// types a browser shows (never SVG), written as data: URIs (parts of the
// .mht); remote images become a placeholder of their size (or vanish when
// they are 1×1 tracking pixels). CSS is kept with every url(), image-set(),
// @import and escape neutralised. The result is a document of its own,
// shown in a sandboxed frame (html.go), so its CSS cannot reach the page.

// allowedTags are written as they are (with filtered attributes).
var allowedTags = map[atom.Atom]bool{}

func init() {
	for _, t := range []atom.Atom{atom.A, atom.Abbr, atom.Acronym, atom.Address, atom.Article,
		atom.Aside, atom.B, atom.Bdi, atom.Bdo, atom.Big, atom.Blockquote, atom.Br, atom.Caption,
		atom.Center, atom.Cite, atom.Code, atom.Col, atom.Colgroup, atom.Dd, atom.Del,
		atom.Details, atom.Dfn, atom.Div, atom.Dl, atom.Dt, atom.Em, atom.Figcaption, atom.Figure,
		atom.Font, atom.Footer, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Header, atom.Hr, atom.I, atom.Ins, atom.Kbd, atom.Li, atom.Main, atom.Mark,
		atom.Nav, atom.Ol, atom.P, atom.Pre, atom.Q, atom.Rp, atom.Rt, atom.Ruby, atom.S,
		atom.Samp, atom.Section, atom.Small, atom.Span, atom.Strike, atom.Strong, atom.Sub,
		atom.Summary, atom.Sup, atom.Table, atom.Tbody, atom.Td, atom.Tfoot, atom.Th,
		atom.Thead, atom.Time, atom.Tr, atom.Tt, atom.U, atom.Ul, atom.Var, atom.Wbr, atom.Label} {
		allowedTags[t] = true
	}
}

// droppedTags go away with their content; the rest of skipped (head, style,
// …) is handled as in the text conversion.
var droppedTags = map[atom.Atom]bool{atom.Param: true, atom.Source: true, atom.Track: true,
	atom.Option: true, atom.Datalist: true, atom.Dialog: true, atom.Area: true}

var allowedAttrs = map[string]bool{"class": true, "id": true, "title": true, "dir": true,
	"lang": true, "align": true, "valign": true, "width": true, "height": true, "bgcolor": true,
	"color": true, "face": true, "size": true, "border": true, "cellpadding": true,
	"cellspacing": true, "colspan": true, "rowspan": true, "alt": true, "start": true,
	"type": true, "span": true, "nowrap": true, "hspace": true, "vspace": true, "abbr": true,
	"scope": true, "headers": true, "summary": true, "frame": true, "rules": true,
	"clear": true, "datetime": true, "reversed": true, "open": true, "name": true,
	"role": true, "style": true}

var voidTags = map[atom.Atom]bool{atom.Br: true, atom.Hr: true, atom.Img: true, atom.Wbr: true, atom.Col: true}

// sanitizeHTML writes an HTML body as the rest of a frame document after
// its <head> start: the message's style sheets, then a <body> with the
// message's body attributes and the sanitised content. image gives the URL
// an image part is shown from.
func sanitizeHTML(b *bytes.Buffer, src string, m *message, image func(*attachment) string) {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		b.WriteString("</head><body><div class=\"mailfs-text\">")
		writeTextHTML(b, src)
		b.WriteString("</div></body>")
		return
	}
	var styles []string
	var body, root *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Svg, atom.Math, atom.Template, atom.Noscript:
				return
			case atom.Style:
				styles = append(styles, cleanCSS(textContent(n)))
				return
			case atom.Body:
				if body == nil {
					body = n
				}
			case atom.Html:
				if root == nil {
					root = n
				}
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			find(ch)
		}
	}
	find(doc)
	for _, s := range styles {
		b.WriteString("<style>" + s + "</style>\n")
	}
	b.WriteString("</head>\n<body")
	if body != nil {
		st := cleanCSS(attr(body, "style"))
		if c := attr(body, "bgcolor"); c != "" {
			st = "background-color:" + cleanCSS(c) + ";" + st
		}
		if c := attr(body, "text"); c != "" {
			st = "color:" + cleanCSS(c) + ";" + st
		}
		if st != "" {
			b.WriteString(" style=\"" + html.EscapeString(st) + "\"")
		}
		dir := strings.ToLower(attr(body, "dir"))
		if dir == "" && root != nil {
			dir = strings.ToLower(attr(root, "dir"))
		}
		if dir == "rtl" || dir == "ltr" || dir == "auto" {
			b.WriteString(" dir=\"" + dir + "\"")
		}
	}
	b.WriteString(">\n")
	s := &sanitizer{b: b, m: m, image: image}
	if body != nil {
		s.children(body)
	}
	b.WriteString("\n</body>")
}

type sanitizer struct {
	b     *bytes.Buffer
	m     *message
	image func(*attachment) string
}

func (s *sanitizer) children(n *html.Node) {
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		s.node(ch)
	}
}

func (s *sanitizer) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		s.b.WriteString(html.EscapeString(n.Data))
		return
	case html.ElementNode:
	default:
		return // comments (conditional comments too), doctypes
	}
	if n.Namespace != "" || skipped[n.DataAtom] || droppedTags[n.DataAtom] {
		return
	}
	if n.DataAtom == atom.Img {
		s.img(n)
		return
	}
	if !allowedTags[n.DataAtom] {
		s.children(n) // unknown, form, button, o:p …: keep the content only
		return
	}
	s.b.WriteString("<" + n.Data)
	for _, a := range n.Attr {
		if a.Namespace != "" {
			continue
		}
		switch {
		case a.Key == "href" && n.DataAtom == atom.A:
			if h := safeHref(a.Val); h != "" {
				s.attr("href", h)
				s.b.WriteString(` rel="noopener noreferrer" target="_blank"`)
			} else if strings.HasPrefix(a.Val, "#") {
				s.attr("href", a.Val)
			}
		case a.Key == "style":
			if v := cleanCSS(a.Val); strings.TrimSpace(v) != "" {
				s.attr("style", v)
			}
		case allowedAttrs[a.Key]:
			s.attr(a.Key, a.Val)
		}
	}
	s.b.WriteString(">")
	if voidTags[n.DataAtom] {
		return
	}
	if n.DataAtom == atom.Pre {
		s.b.WriteByte('\n') // the parser drops a newline right after <pre>
	}
	s.children(n)
	s.b.WriteString("</" + n.Data + ">")
}

func (s *sanitizer) attr(k, v string) {
	s.b.WriteString(" " + k + "=\"" + html.EscapeString(v) + "\"")
}

// img keeps data: images and the message's own (cid: or Content-Location)
// and replaces remote ones.
func (s *sanitizer) img(n *html.Node) {
	src := strings.TrimSpace(attr(n, "src"))
	uri := ""
	if a := s.m.resource(src); a != nil {
		uri = s.image(a)
	} else if strings.HasPrefix(strings.ToLower(src), "data:image/") {
		if a := dataImage(src); a != nil {
			uri = s.image(a)
		}
	}
	w, h := pixels(attr(n, "width")), pixels(attr(n, "height"))
	if uri == "" {
		if w > 0 && w <= 2 || h > 0 && h <= 2 {
			return // a tracking pixel or spacer
		}
		st := ""
		if w > 0 {
			st += "width:" + strconv.Itoa(w) + "px;"
		}
		if h > 0 {
			st += "height:" + strconv.Itoa(h) + "px;"
		}
		s.b.WriteString("<span class=\"mailfs-blocked\" title=\"remote image not loaded\"")
		if st != "" {
			s.attr("style", st)
		}
		alt := strings.TrimSpace(attr(n, "alt"))
		if alt == "" {
			alt = "image"
		}
		s.b.WriteString(">" + html.EscapeString(alt) + "</span>")
		return
	}
	s.b.WriteString("<img")
	s.attr("src", uri)
	for _, a := range n.Attr {
		switch a.Key {
		case "src":
		case "style":
			if v := cleanCSS(a.Val); v != "" {
				s.attr("style", v)
			}
		default:
			if allowedAttrs[a.Key] && a.Namespace == "" {
				s.attr(a.Key, a.Val)
			}
		}
	}
	s.b.WriteString(">")
}

// dataImage decodes an image the message carries in a base64 data: URI,
// so that it is sniffed (and, in the .mht, stored as a part) like any
// other; nil when it is not one.
func dataImage(uri string) *attachment {
	meta, data, ok := strings.Cut(uri, ",")
	if !ok || !strings.HasSuffix(strings.ToLower(meta), ";base64") {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(data), ""))
	if err != nil || imageType(b) == "" {
		return nil
	}
	return &attachment{name: "image", ctype: strings.ToLower(strings.TrimSuffix(meta[5:], ";base64")), data: b}
}

func pixels(v string) int {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), "px"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

var (
	cssFetch  = regexp.MustCompile(`(?i)(url|image-set|image|cross-fade|element|expression|paint|src)\s*\(`)
	cssImport = regexp.MustCompile(`(?i)@import|behavior\s*:|-moz-binding`)
)

// cleanCSS neutralises everything in a style sheet or style attribute that
// could fetch or run something. Escapes are removed first so that no
// escaped "url(" survives, then "<" so that nothing closes the <style>.
func cleanCSS(s string) string {
	s = strings.NewReplacer(`\`, "", "<", "", "\x00", "").Replace(s)
	s = cssFetch.ReplaceAllString(s, "blocked(")
	return cssImport.ReplaceAllString(s, "blocked")
}
