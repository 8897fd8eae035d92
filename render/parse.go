package render

import (
	"bytes"
	"html"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// message is the renderer-independent model of one message: decoded header
// fields, the body as a sequence of nodes, and the attachments.
type message struct {
	hdr  header
	body []node
	// atts are the attachments to list: every part that is not shown as body
	// text, except images that an HTML body of this message references by
	// cid: (those are shown in place).
	atts []*attachment
	// cids maps a Content-ID (without <>) to its part, for cid: URLs.
	cids map[string]*attachment
	// locs maps a part's Content-Location (RFC 2557), as written and as
	// resolved against base, to the part, for the URLs of multipart/related
	// HTML that refers to its images by location instead of cid:.
	locs map[string]*attachment
	base string // Content-Location (or Content-Base) of the first HTML part
	// all holds every attachment of this message in MIME order.
	all []*attachment
	// parts holds all and the attached messages (with msg set), in MIME
	// order: the attachment table of the .msg.
	parts []*attachment
	// raw is the message's source; name the file name of the MIME part
	// that holds an attached message ("" if none, and for the top level).
	raw  []byte
	name string
}

type header struct {
	From, To, Cc, Date, Subject string
	date                        time.Time // zero when missing or unparseable
	// The address lists, when they parse (for the .msg recipient table).
	from, to, cc, bcc []*mail.Address
	// Message-ID, In-Reply-To and References as they are.
	messageID, inReplyTo, references string
	raw                              []byte // the header block as it came
}

type nodeKind uint8

const (
	nText    nodeKind = iota // text: a plain text body
	nHTML                    // text: an HTML body (unsanitised source)
	nAlt                     // alts: multipart/alternative choices, richest last
	nImage                   // att: an inline image shown in place
	nMessage                 // msg: an attached message, shown inline
	nNote                    // text: a notice (signed, encrypted, invitation, damage)
	nRaw                     // text: undecodable source shown as is
)

type node struct {
	kind nodeKind
	text string
	alts [][]node
	att  *attachment
	msg  *message
}

type attachment struct {
	name  string   // decoded file name, never empty
	ctype string   // lower-case media type
	cid   string   // Content-ID without <>, or ""
	data  []byte   // decoded content
	msg   *message // an attached message (in message.parts only), parsed
}

const (
	maxDepth   = 12      // nesting of multiparts and messages
	maxParts   = 2000    // parts per message, against pathological input
	maxRawShow = 200_000 // bytes of raw source shown for damaged structure
)

// parse builds the model of a message. It never fails: what cannot be
// decoded ends up as a note or raw text.
func parse(raw []byte) *message {
	return parseDepth(raw, 0)
}

func parseDepth(raw []byte, depth int) *message {
	// A byte order mark, as some Windows tools write, is not part of the
	// first header field.
	src := bytes.TrimPrefix(raw, []byte("\ufeff"))
	h, body := splitHeader(src)
	m := &message{cids: map[string]*attachment{}, locs: map[string]*attachment{}, raw: raw}
	m.hdr = readHeader(h)
	m.hdr.raw = src[:len(src)-len(body)]
	p := &parser{m: m, depth: depth}
	m.body = p.entity(h, body, "text/plain")
	m.finish()
	return m
}

func readHeader(h gomessage.Header) header {
	var hd header
	hd.From, hd.from = addresses(h, "From")
	hd.To, hd.to = addresses(h, "To")
	hd.Cc, hd.cc = addresses(h, "Cc")
	_, hd.bcc = addresses(h, "Bcc")
	hd.messageID = strings.TrimSpace(h.Get("Message-Id"))
	hd.inReplyTo = strings.TrimSpace(h.Get("In-Reply-To"))
	hd.references = strings.Join(strings.Fields(h.Get("References")), " ")
	hd.Subject = strings.Join(strings.Fields(headerText(h, "Subject")), " ")
	if v := h.Get("Date"); v != "" {
		mh := mail.Header{Header: h}
		if t, err := mh.Date(); err == nil {
			hd.date = t
			hd.Date = t.Format("Mon, 2 Jan 2006 15:04 -0700")
		} else {
			hd.Date = decodeWords(v)
		}
	}
	return hd
}

// addresses returns an address field for display, and its addresses
// when it parses.
func addresses(h gomessage.Header, key string) (string, []*mail.Address) {
	mh := mail.Header{Header: h}
	list, err := mh.AddressList(key)
	if err != nil || len(list) == 0 {
		return strings.Join(strings.Fields(headerText(h, key)), " "), nil
	}
	out := make([]string, len(list))
	for i, a := range list {
		if a.Name != "" && a.Name != a.Address {
			out[i] = a.Name + " <" + a.Address + ">"
		} else {
			out[i] = a.Address
		}
	}
	return strings.Join(out, ", "), list
}

type parser struct {
	m     *message
	depth int
	parts int
}

// entity turns one MIME entity into body nodes, registering attachments on
// the way. def is the media type to assume without Content-Type.
func (p *parser) entity(h gomessage.Header, body []byte, def string) []node {
	p.parts++
	if p.depth > maxDepth || p.parts > maxParts {
		return []node{{kind: nNote, text: "[mailfs: part nested too deeply; see the original message]"}}
	}
	mt, params := def, map[string]string{}
	if v := h.Get("Content-Type"); v != "" {
		mt, params = mediaType(v)
		if !strings.Contains(mt, "/") {
			mt = def
		}
	}
	disp, dparams := mediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	isAttachment := disp == "attachment" || (name != "" && disp != "inline")

	if strings.HasPrefix(mt, "multipart/") {
		return p.multipart(mt, params, body)
	}
	data, ok := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
	var nodes []node
	if !ok {
		what := "The following part of this message"
		if name != "" {
			what = "The attachment " + cleanName(name)
		}
		nodes = append(nodes, node{kind: nNote, text: what + " is damaged and could only be partly decoded."})
	}
	switch {
	case (mt == "message/rfc822" || mt == "message/global") && p.depth < maxDepth:
		msg := parseDepth(data, p.depth+1)
		msg.name = cleanName(name)
		p.m.parts = append(p.m.parts, &attachment{name: msg.name, ctype: mt, data: data, msg: msg})
		return append(nodes, node{kind: nMessage, msg: msg})
	case mt == "application/pkcs7-mime" || mt == "application/x-pkcs7-mime":
		a := p.attach(h, mt, name, data)
		switch st := strings.ToLower(params["smime-type"]); {
		case st == "signed-data":
			return append(nodes, node{kind: nNote, text: "This message is signed with S/MIME in opaque form; its content is inside " + a.name + " and is not shown. The signature was not verified."})
		case st == "certs-only":
			return nodes
		}
		return append(nodes, node{kind: nNote, text: "This message is encrypted with S/MIME. Its content cannot be shown; the encrypted data is kept as the attachment " + a.name + "."})
	case mt == "text/calendar":
		a := p.attach(h, mt, name, data)
		return append(nodes, node{kind: nNote, text: calendarSummary(decodeCharset(params["charset"], a.data))})
	case (mt == "text/plain" || mt == "text/html" || mt == "text/enriched" || mt == "message/delivery-status" ||
		mt == "text/rfc822-headers" || (strings.HasPrefix(mt, "text/") && name == "")) && !isAttachment:
		text := p.text(mt, params, data)
		if mt == "text/html" {
			if p.m.base == "" {
				p.m.base = partLocation(h)
			}
			return append(nodes, node{kind: nHTML, text: text})
		}
		return append(nodes, node{kind: nText, text: text})
	case strings.HasPrefix(mt, "image/") && disp == "inline" || strings.HasPrefix(mt, "image/") && disp == "" && name == "":
		return append(nodes, node{kind: nImage, att: p.attach(h, mt, name, data)})
	}
	p.attach(h, mt, name, data)
	return nodes
}

func (p *parser) text(mt string, params map[string]string, data []byte) string {
	label := params["charset"]
	if mt == "text/html" && label == "" {
		label = sniffHTMLCharset(data)
	}
	s := decodeCharset(label, data)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if mt == "text/plain" && strings.EqualFold(params["format"], "flowed") {
		s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
	}
	return s
}

var metaCharset = regexp.MustCompile(`(?i)<meta[^>]+charset\s*=\s*["']?\s*([a-z0-9_:.-]+)`)

// sniffHTMLCharset finds a <meta charset> in the first kilobytes of an HTML
// part that has no charset parameter.
func sniffHTMLCharset(b []byte) string {
	if len(b) > 4096 {
		b = b[:4096]
	}
	if m := metaCharset.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return ""
}

func (p *parser) attach(h gomessage.Header, mt, name string, data []byte) *attachment {
	a := &attachment{name: cleanName(name), ctype: mt, data: data}
	if a.name == "" {
		a.name = defaultName(mt, len(p.m.all)+1)
	}
	if id := strings.TrimSpace(h.Get("Content-Id")); id != "" {
		a.cid = strings.ToLower(strings.Trim(id, "<> "))
		if _, dup := p.m.cids[a.cid]; !dup {
			p.m.cids[a.cid] = a
		}
	}
	if loc := partLocation(h); loc != "" {
		for _, k := range []string{loc, resolveURL(p.m.base, loc)} {
			if _, dup := p.m.locs[k]; !dup && k != "" {
				p.m.locs[k] = a
			}
		}
	}
	p.m.all = append(p.m.all, a)
	p.m.parts = append(p.m.parts, a)
	return a
}

// partLocation is a part's Content-Location, else its Content-Base (an
// older form of the same), without the white space long values fold in.
func partLocation(h gomessage.Header) string {
	v := h.Get("Content-Location")
	if v == "" {
		v = h.Get("Content-Base")
	}
	return strings.Join(strings.Fields(v), "")
}

// resolveURL resolves ref against base, or returns "" when either is not
// a URL.
func resolveURL(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil || base == "" {
		return ""
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	return b.ResolveReference(r).String()
}

// resource finds the part an HTML body refers to by src: a cid: URL or a
// Content-Location, as written or resolved against the HTML's location.
func (m *message) resource(src string) *attachment {
	src = strings.TrimSpace(src)
	if len(src) > 4 && strings.EqualFold(src[:4], "cid:") {
		return m.cids[cidKey(src[4:])]
	}
	if src == "" || len(m.locs) == 0 {
		return nil
	}
	if a := m.locs[src]; a != nil {
		return a
	}
	return m.locs[resolveURL(m.base, src)]
}

func (p *parser) multipart(mt string, params map[string]string, body []byte) []node {
	parts, err := splitMultipart(body, params["boundary"])
	if len(parts) == 0 {
		// The structure is unreadable: show the raw body.
		note := "The MIME structure of this message is damaged; its raw text follows."
		if err == nil {
			note = "This multipart message has no parts; its raw text follows."
		}
		return []node{{kind: nNote, text: note}, {kind: nRaw, text: rawText(body)}}
	}
	p.depth++
	defer func() { p.depth-- }()
	var nodes []node
	switch mt {
	case "multipart/alternative":
		var alts [][]node
		for _, pt := range parts {
			ns := p.entity(pt.h, pt.body, "text/plain")
			if len(ns) == 1 && ns[0].kind == nNote && isCalendar(pt.h) {
				nodes = append(nodes, ns...) // an invitation beside its text
				continue
			}
			alts = append(alts, ns)
		}
		return append(nodes, node{kind: nAlt, alts: alts})
	case "multipart/signed":
		nodes = p.entity(parts[0].h, parts[0].body, "text/plain")
		kind := "S/MIME"
		if strings.Contains(strings.ToLower(params["protocol"]), "pgp") {
			kind = "OpenPGP"
		}
		var sigs []string
		for _, pt := range parts[1:] {
			before := len(p.m.all)
			nodes = append(nodes, p.entity(pt.h, pt.body, "application/octet-stream")...)
			for _, a := range p.m.all[before:] {
				sigs = append(sigs, a.name)
			}
		}
		note := "This message is signed (" + kind + "). The signature was not verified"
		if len(sigs) > 0 {
			note += "; it is kept as the attachment " + strings.Join(sigs, ", ")
		}
		return append([]node{{kind: nNote, text: note + "."}}, nodes...)
	case "multipart/encrypted":
		for _, pt := range parts {
			p.entity(pt.h, pt.body, "application/octet-stream")
		}
		return []node{{kind: nNote, text: "This message is encrypted (OpenPGP). Its content cannot be shown; the encrypted data is kept as an attachment."}}
	case "multipart/digest":
		for _, pt := range parts {
			nodes = append(nodes, p.entity(pt.h, pt.body, "message/rfc822")...)
		}
		return nodes
	}
	for _, pt := range parts {
		nodes = append(nodes, p.entity(pt.h, pt.body, "text/plain")...)
	}
	return nodes
}

func isCalendar(h gomessage.Header) bool {
	mt, _ := mediaType(h.Get("Content-Type"))
	return mt == "text/calendar"
}

type rawPart struct {
	h    gomessage.Header
	body []byte
}

// splitMultipart returns the parts it could read. A missing closing boundary
// is not an error; a boundary that never occurs yields no parts.
func splitMultipart(body []byte, boundary string) ([]rawPart, error) {
	if boundary == "" {
		return nil, io.ErrUnexpectedEOF
	}
	r := textproto.NewMultipartReader(bytes.NewReader(body), boundary)
	var parts []rawPart
	for len(parts) < maxParts {
		pt, err := r.NextPart()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return parts, err
		}
		b, _ := io.ReadAll(pt) // a truncated last part keeps what was read
		parts = append(parts, rawPart{h: gomessage.Header{Header: pt.Header}, body: b})
	}
	return parts, nil
}

// rawText shows undecodable source: charset guessed, size capped.
func rawText(b []byte) string {
	cut := len(b) > maxRawShow
	if cut {
		b = b[:maxRawShow]
	}
	s := strings.ReplaceAll(guessText(b), "\r\n", "\n")
	if cut {
		s += "\n[… truncated; the complete original is in the .eml file]"
	}
	return s
}

var (
	cidRef = regexp.MustCompile(`(?i)cid:([^"'\s>)]+)`)
	srcRef = regexp.MustCompile(`(?i)\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)
)

// finish decides which attachments are listed: images that an HTML body
// refers to by cid: or Content-Location are shown in place instead.
func (m *message) finish() {
	used := map[*attachment]bool{}
	var walk func([]node)
	walk = func(ns []node) {
		for _, n := range ns {
			switch n.kind {
			case nHTML:
				for _, c := range cidRef.FindAllStringSubmatch(n.text, -1) {
					if a := m.cids[cidKey(c[1])]; a != nil {
						used[a] = true
					}
				}
				if len(m.locs) > 0 {
					for _, c := range srcRef.FindAllStringSubmatch(n.text, -1) {
						if a := m.resource(html.UnescapeString(c[1] + c[2] + c[3])); a != nil {
							used[a] = true
						}
					}
				}
			case nAlt:
				for _, a := range n.alts {
					walk(a)
				}
			}
		}
	}
	walk(m.body)
	m.body = dropShown(m.body, used)
	for _, a := range m.all {
		if used[a] && strings.HasPrefix(a.ctype, "image/") {
			continue
		}
		m.atts = append(m.atts, a)
	}
}

// dropShown removes image nodes that an HTML body shows in place already.
func dropShown(ns []node, used map[*attachment]bool) []node {
	out := ns[:0]
	for _, n := range ns {
		switch {
		case n.kind == nImage && used[n.att]:
			continue
		case n.kind == nAlt:
			for i := range n.alts {
				n.alts[i] = dropShown(n.alts[i], used)
			}
		}
		out = append(out, n)
	}
	return out
}

// cidKey turns the part of a cid: URL after the scheme into the key of
// message.cids (RFC 2392: URL-escaped; compared case-insensitively here).
func cidKey(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	return strings.ToLower(strings.Trim(s, "<> "))
}
