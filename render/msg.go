package render

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/mail"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
)

// MSG writes the .msg view of raw: an Outlook message file (MS-OXMSG), a
// compound file (cfb.go) holding the message's MAPI properties: subject,
// sender, recipient table, dates, Message-ID, the original header as the
// transport headers, the plain text body, the sanitised HTML body, and
// every attachment with its name, type and Content-ID; attached messages
// are embedded messages. It fails only when w does.
func MSG(raw []byte, w io.Writer) error {
	out := func() (out []byte) {
		defer func() {
			if recover() != nil {
				out = nil
			}
		}()
		return buildMSG(parse(raw))
	}()
	if out == nil {
		out = buildMSG(&message{body: []node{{kind: nRaw, text: rawText(raw)}}, cids: map[string]*attachment{}})
	}
	_, err := w.Write(out)
	return err
}

// msgCLSID is the class of a message storage, {00020D0B-0000-0000-C000-000000000046}
// in the compound file's byte order, as Outlook writes it.
var msgCLSID = [16]byte{0x0B, 0x0D, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}

func buildMSG(m *message) []byte {
	root := &cfbEntry{storage: true, clsid: msgCLSID}
	msgObject(root, m, true)
	// The named property mapping: Outlook expects the storage and its
	// three streams; no named properties are used, so they are empty.
	root.kids = append(root.kids, &cfbEntry{name: "__nameid_version1.0", storage: true, kids: []*cfbEntry{
		{name: "__substg1.0_00020102"}, {name: "__substg1.0_00030102"}, {name: "__substg1.0_00040102"}}})
	return writeCFB(root)
}

// Property types (MS-OXCDATA 2.11.1).
const (
	ptLong    = 0x0003
	ptBoolean = 0x000B
	ptObject  = 0x000D
	ptUnicode = 0x001F
	ptSystime = 0x0040
	ptBinary  = 0x0102
)

// MAPI property ids (MS-OXPROPS).
const (
	prMessageClass        = 0x001A
	prSubject             = 0x0037
	prClientSubmitTime    = 0x0039
	prSentRepName         = 0x0042
	prSentRepAddrType     = 0x0064
	prSentRepEmail        = 0x0065
	prTransportHeaders    = 0x007D
	prRecipientType       = 0x0C15
	prSenderName          = 0x0C1A
	prSenderAddrType      = 0x0C1E
	prSenderEmail         = 0x0C1F
	prDisplayBcc          = 0x0E02
	prDisplayCc           = 0x0E03
	prDisplayTo           = 0x0E04
	prDeliveryTime        = 0x0E06
	prMessageFlags        = 0x0E07
	prHasAttach           = 0x0E1B
	prNormalizedSubject   = 0x0E1D
	prAttachSize          = 0x0E20
	prAttachNum           = 0x0E21
	prObjectType          = 0x0FFE
	prBody                = 0x1000
	prHTML                = 0x1013
	prInternetMessageID   = 0x1035
	prInternetReferences  = 0x1039
	prInReplyTo           = 0x1042
	prRowID               = 0x3000
	prDisplayName         = 0x3001
	prAddrType            = 0x3002
	prEmailAddress        = 0x3003
	prCreationTime        = 0x3007
	prLastModTime         = 0x3008
	prStoreSupportMask    = 0x340D
	prAttachData          = 0x3701 // binary, or an embedded message (object)
	prAttachExtension     = 0x3703
	prAttachMethod        = 0x3705
	prAttachLongFilename  = 0x3707
	prRenderingPosition   = 0x370B
	prAttachMimeTag       = 0x370E
	prAttachContentID     = 0x3712
	prAttachFlags         = 0x3714
	prDisplayType         = 0x3900
	prSMTPAddress         = 0x39FE
	prTransmitDisplayName = 0x3A20
	prInternetCPID        = 0x3FDE
	prMessageCodepage     = 0x3FFD
	prSenderSMTP          = 0x5D01
	prSentRepSMTP         = 0x5D02
	prRecipientFlags      = 0x5FFD
	prAttachmentHidden    = 0x7FFE
)

const (
	storeUnicodeOK   = 0x00040000 // PR_STORE_SUPPORT_MASK: strings are Unicode
	msgFlagRead      = 0x01
	msgFlagHasAttach = 0x10
	attachByValue    = 1
	attachEmbedded   = 5
	attMHTMLRef      = 4 // PR_ATTACH_FLAGS: referenced by the HTML body
	cpUTF8           = 65001
	objMailUser      = 6
	objAttach        = 7
	objectSize       = 0xFFFFFFFF // the size field of an embedded message's entry
)

// mapiProp is one property: fixed-size types keep their value in the
// property stream, the others in a stream of their own.
type mapiProp struct {
	tag   uint32 // id<<16 | type
	fixed uint64
	data  []byte
	sub   *cfbEntry // ptObject: the embedded message's storage
}

type mapiProps []mapiProp

func (p *mapiProps) str(id uint16, s string) {
	*p = append(*p, mapiProp{tag: uint32(id)<<16 | ptUnicode, data: utf16le(s)})
}

// strIf sets a string property only when it is not empty.
func (p *mapiProps) strIf(id uint16, s string) {
	if s != "" {
		p.str(id, s)
	}
}

func (p *mapiProps) bin(id uint16, b []byte) {
	*p = append(*p, mapiProp{tag: uint32(id)<<16 | ptBinary, data: b})
}

func (p *mapiProps) long(id uint16, v uint32) {
	*p = append(*p, mapiProp{tag: uint32(id)<<16 | ptLong, fixed: uint64(v)})
}

func (p *mapiProps) boolean(id uint16, v bool) {
	var x uint64
	if v {
		x = 1
	}
	*p = append(*p, mapiProp{tag: uint32(id)<<16 | ptBoolean, fixed: x})
}

// systime sets a time (FILETIME: 100 ns since 1601) unless it is zero.
func (p *mapiProps) systime(id uint16, t time.Time) {
	if t.IsZero() {
		return
	}
	if t.Year() < 1601 || t.Year() > 9999 {
		return
	}
	const epochDiff = 11644473600 // seconds from 1601 to 1970
	ft := (t.Unix()+epochDiff)*10_000_000 + int64(t.Nanosecond()/100)
	*p = append(*p, mapiProp{tag: uint32(id)<<16 | ptSystime, fixed: uint64(ft)})
}

// write adds the property stream, with header hdr, and a stream per
// variable-length property (or the embedded message's storage) to st.
func (p mapiProps) write(st *cfbEntry, hdr []byte) {
	slices.SortStableFunc(p, func(a, b mapiProp) int { return int(a.tag>>16) - int(b.tag>>16) })
	s := make([]byte, len(hdr), len(hdr)+16*len(p))
	copy(s, hdr)
	le := binary.LittleEndian
	for _, pr := range p {
		var e [16]byte
		le.PutUint32(e[0:], pr.tag)
		le.PutUint32(e[4:], 6) // readable, writable
		name := fmt.Sprintf("__substg1.0_%08X", pr.tag)
		switch pr.tag & 0xFFFF {
		case ptUnicode:
			le.PutUint32(e[8:], uint32(len(pr.data)+2)) // with the terminating NUL the stream lacks
			st.kids = append(st.kids, &cfbEntry{name: name, data: pr.data})
		case ptBinary:
			le.PutUint32(e[8:], uint32(len(pr.data)))
			st.kids = append(st.kids, &cfbEntry{name: name, data: pr.data})
		case ptObject:
			le.PutUint32(e[8:], objectSize)
			pr.sub.name = name
			st.kids = append(st.kids, pr.sub)
		default:
			le.PutUint64(e[8:], pr.fixed)
		}
		s = append(s, e[:]...)
	}
	st.kids = append(st.kids, &cfbEntry{name: "__properties_version1.0", data: s})
}

type msgRecipient struct {
	kind uint32 // 1 To, 2 Cc, 3 Bcc
	addr *mail.Address
}

// msgObject writes the properties, recipients and attachments of m into
// the message storage st (the root, or an embedded message's storage).
func msgObject(st *cfbEntry, m *message, top bool) {
	h := m.hdr
	var p mapiProps
	p.str(prMessageClass, "IPM.Note")
	p.str(prSubject, h.Subject)
	p.str(prNormalizedSubject, h.Subject)
	if len(h.from) > 0 {
		a := h.from[0]
		name := firstOf(a.Name, a.Address)
		for _, id := range []uint16{prSenderName, prSentRepName} {
			p.str(id, name)
		}
		for _, id := range []uint16{prSenderEmail, prSenderSMTP, prSentRepEmail, prSentRepSMTP} {
			p.str(id, a.Address)
		}
		for _, id := range []uint16{prSenderAddrType, prSentRepAddrType} {
			p.str(id, "SMTP")
		}
	} else if h.From != "" {
		p.str(prSenderName, h.From)
		p.str(prSentRepName, h.From)
	}
	p.str(prDisplayTo, displayList(h.to, h.To))
	p.str(prDisplayCc, displayList(h.cc, h.Cc))
	p.str(prDisplayBcc, displayList(h.bcc, ""))
	for _, id := range []uint16{prClientSubmitTime, prDeliveryTime, prCreationTime, prLastModTime} {
		p.systime(id, h.date)
	}
	p.strIf(prInternetMessageID, h.messageID)
	p.strIf(prInReplyTo, h.inReplyTo)
	p.strIf(prInternetReferences, h.references)
	if len(h.raw) > 0 {
		p.str(prTransportHeaders, crlf(strings.TrimRight(guessText(h.raw), "\r\n")+"\n"))
	}
	p.str(prBody, crlf(msgText(m)))
	if html := msgHTML(m); html != nil {
		p.bin(prHTML, html)
	}
	p.long(prInternetCPID, cpUTF8)
	p.long(prMessageCodepage, cpUTF8)
	flags := uint32(msgFlagRead)
	if len(m.atts) > 0 {
		flags |= msgFlagHasAttach
	}
	p.long(prMessageFlags, flags)
	p.boolean(prHasAttach, len(m.atts) > 0)
	if top {
		p.long(prStoreSupportMask, storeUnicodeOK)
	}

	var recips []msgRecipient
	for i, list := range [][]*mail.Address{h.to, h.cc, h.bcc} {
		for _, a := range list {
			recips = append(recips, msgRecipient{uint32(i + 1), a})
		}
	}
	for i, r := range recips {
		var rp mapiProps
		name := firstOf(r.addr.Name, r.addr.Address)
		rp.long(prRecipientType, r.kind)
		rp.long(prRowID, uint32(i))
		rp.str(prDisplayName, name)
		rp.str(prTransmitDisplayName, name)
		rp.str(prAddrType, "SMTP")
		rp.str(prEmailAddress, r.addr.Address)
		rp.str(prSMTPAddress, r.addr.Address)
		rp.long(prDisplayType, 0) // DT_MAILUSER
		rp.long(prObjectType, objMailUser)
		rp.long(prRecipientFlags, 1) // sendable
		sub := &cfbEntry{name: fmt.Sprintf("__recip_version1.0_#%08X", i), storage: true}
		rp.write(sub, make([]byte, 8))
		st.kids = append(st.kids, sub)
	}

	listed := map[*attachment]bool{}
	for _, a := range m.atts {
		listed[a] = true
	}
	for i, a := range m.parts {
		var ap mapiProps
		ap.long(prAttachNum, uint32(i))
		ap.long(prObjectType, objAttach)
		ap.long(prRenderingPosition, 0xFFFFFFFF) // not rendered in a rich text body
		ap.str(prAttachMimeTag, a.ctype)
		ap.long(prAttachSize, uint32(min(len(a.data), 1<<31)))
		if a.msg != nil {
			ap.long(prAttachMethod, attachEmbedded)
			ap.str(prDisplayName, firstOf(a.name, a.msg.hdr.Subject, "Attached message"))
			sub := &cfbEntry{storage: true, clsid: msgCLSID}
			msgObject(sub, a.msg, false)
			ap = append(ap, mapiProp{tag: prAttachData<<16 | ptObject, sub: sub})
		} else {
			ap.long(prAttachMethod, attachByValue)
			ap.str(prDisplayName, a.name)
			ap.str(prAttachLongFilename, a.name)
			ap.strIf(prAttachExtension, path.Ext(a.name))
			ap.bin(prAttachData, a.data)
			ap.strIf(prAttachContentID, a.cid)
			if !listed[a] { // an image the HTML body shows
				ap.long(prAttachFlags, attMHTMLRef)
				ap.boolean(prAttachmentHidden, true)
			}
		}
		sub := &cfbEntry{name: fmt.Sprintf("__attach_version1.0_#%08X", i), storage: true}
		ap.write(sub, make([]byte, 8))
		st.kids = append(st.kids, sub)
	}

	// The property stream's header: reserved, next recipient and
	// attachment ids, their counts, and (top level only) 8 more reserved.
	hdr := make([]byte, 24, 32)
	le := binary.LittleEndian
	le.PutUint32(hdr[8:], uint32(len(recips)))
	le.PutUint32(hdr[12:], uint32(len(m.parts)))
	le.PutUint32(hdr[16:], uint32(len(recips)))
	le.PutUint32(hdr[20:], uint32(len(m.parts)))
	if top {
		hdr = hdr[:32]
	}
	p.write(st, hdr)
}

// msgText is the plain text body: the text the .txt view shows below its
// header block, without the attachment list (the .msg has the attachments).
func msgText(m *message) string {
	var b bytes.Buffer
	for _, n := range chooseBody(m.body, false) {
		writeTextNode(&b, n, m)
	}
	s := strings.TrimRight(string(stripControls(b.Bytes())), "\n")
	if s == "" {
		return "" // no body
	}
	return s + "\n"
}

// msgHTML is the HTML body, sanitised as in the .html view, with cid:
// images pointing at the attachments that carry them; nil when the
// message has no HTML body. When the body has parts beside the HTML
// (further HTML parts, plain text, images, notes), they follow in order
// within the same document; the style sheets of all HTML parts go in its
// head, the <body> attributes of the first.
func msgHTML(m *message) []byte {
	nodes := chooseBody(m.body, true)
	if !slices.ContainsFunc(nodes, func(n node) bool { return n.kind == nHTML }) {
		return nil
	}
	image := func(a *attachment) string {
		switch {
		case imageType(a.data) == "":
			return ""
		case a.cid != "" && m.cids[a.cid] == a:
			return "cid:" + a.cid
		}
		return dataURI(a)
	}
	var head, body bytes.Buffer
	bodyTag := "<body>"
	var part bytes.Buffer
	for _, n := range nodes {
		switch n.kind {
		case nHTML:
			// sanitizeHTML writes "<style>…</head>\n<body …>\n…\n</body>".
			part.Reset()
			sanitizeHTML(&part, n.text, m, image)
			s := part.Bytes()
			i := bytes.Index(s, []byte("</head>"))
			j := i + bytes.IndexByte(s[i:], '>') + 1
			j += bytes.IndexByte(s[j:], '>') + 1 // end of the <body …> tag
			head.Write(s[:i])
			if bodyTag == "<body>" {
				bodyTag = strings.TrimSpace(string(s[i+len("</head>") : j]))
			}
			body.Write(bytes.TrimSuffix(s[j:], []byte("</body>")))
		case nText, nRaw:
			body.WriteString("<div class=\"mailfs-text\">")
			writeTextHTML(&body, n.text)
			body.WriteString("</div>\n")
		case nNote:
			body.WriteString("<p><i>")
			writeTextHTML(&body, n.text)
			body.WriteString("</i></p>\n")
		case nImage:
			if uri := image(n.att); uri != "" {
				body.WriteString("<p><img src=\"")
				writeEscaped(&body, []byte(uri))
				body.WriteString("\"></p>\n")
			}
		}
	}
	var b bytes.Buffer
	b.Grow(head.Len() + body.Len() + 1024)
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<style>" + frameCSS + "</style>\n")
	b.Write(head.Bytes())
	b.WriteString("</head>\n" + bodyTag + "\n")
	b.Write(body.Bytes())
	b.WriteString("\n</body>\n</html>\n")
	return stripControls(b.Bytes())
}

// displayList is PR_DISPLAY_TO and the like: the names, separated by
// "; ", or the field's text when it does not parse.
func displayList(list []*mail.Address, text string) string {
	if list == nil {
		return text
	}
	names := make([]string, len(list))
	for i, a := range list {
		names[i] = firstOf(a.Name, a.Address)
	}
	return strings.Join(names, "; ")
}

// firstOf returns the first of its arguments that is not empty.
func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// crlf gives text Outlook's line ends.
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// utf16le encodes a string property: invalid UTF-8 as U+FFFD, control
// characters but tab, CR and LF dropped, as in the other views (a NUL
// would end the string for a reader).
func utf16le(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r >= 0x7f && r < 0xa0 {
			continue
		}
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			b = append(b, byte(r1), byte(r1>>8), byte(r2), byte(r2>>8))
			continue
		}
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}
