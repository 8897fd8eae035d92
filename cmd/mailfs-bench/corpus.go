package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"math/rand/v2"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"
	"unicode/utf8"
)

// The corpus is a pure function of (seed, index): message i is generated
// from its own PRNG, so a rerun with the same -seed and -n gives the same
// bytes, and nothing needs to be kept in memory.

// folderShare is a folder of the corpus and its share of the messages.
type folderShare struct {
	name  string  // UTF-8, "/" separates levels
	share float64 // fraction of messages
	year  int     // if non-zero, all dates fall in this year
}

// folders are where the corpus lives. "Listen" itself holds nothing (a
// parent the server lists as \NoSelect or \NonExistent).
var folders = []folderShare{
	{"INBOX", 0.34, 0},
	{"Archiv", 0.08, 0},
	{"Archiv/2024", 0.20, 2024},
	{"Sent", 0.14, 0},
	{"Entwürfe", 0.03, 0},
	{"Listen/golang-nuts", 0.14, 0},
	{"Rechnungen & Belege", 0.07, 0},
}

// message is one generated message.
type message struct {
	folder string
	date   time.Time // INTERNALDATE and Date:
	flags  string    // maildir flags, sorted: "F", "RS", ...
	raw    []byte    // CRLF line endings
}

// corpus generates messages.
type corpus struct {
	seed uint64
	n    int
	word string // planted in some text parts, for the grep workload
}

// huge reports whether message i is one of the few ≥10 MB messages: one
// per 1,000 messages, at least 3 (5 at the default size).
func (c *corpus) huge(i int) bool {
	k := max(3, c.n/1000)
	step := c.n / k
	return step > 0 && i%step == step/2 && i/step < k
}

func (c *corpus) rng(i int, salt uint64) *rand.Rand {
	return rand.New(rand.NewPCG(c.seed, uint64(i)<<8|salt))
}

// folderOf picks the folder of message i.
func (c *corpus) folderOf(r *rand.Rand, kind string) folderShare {
	if kind == "attach" && r.IntN(3) == 0 {
		return folders[6] // invoices come with PDFs
	}
	x := r.Float64()
	for _, f := range folders {
		if x < f.share {
			return f
		}
		x -= f.share
	}
	return folders[0]
}

var epoch = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)

// Message returns message i of the corpus (0 ≤ i < n; larger i give more
// messages of the same mix, for the incremental workload).
func (c *corpus) Message(i int) message {
	r := c.rng(i, 0)
	kind := "plain"
	switch x := r.Float64(); {
	case c.huge(i):
		kind = "huge"
	case x < 0.50:
		kind = "plain"
	case x < 0.92:
		kind = "alternative"
	default:
		kind = "attach"
	}
	f := c.folderOf(r, kind)
	var date time.Time
	if f.year != 0 {
		start := time.Date(f.year, 1, 1, 0, 0, 0, 0, time.UTC)
		date = start.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour))))
	} else {
		date = epoch.Add(time.Duration(r.Int64N(int64(6 * 365 * 24 * time.Hour))))
	}
	date = date.Truncate(time.Second)
	flags := ""
	if r.IntN(10) == 0 {
		flags += "F"
	}
	if r.IntN(12) == 0 {
		flags += "R"
	}
	if f.name != "INBOX" || r.IntN(10) < 7 {
		flags += "S"
	}
	m := message{folder: f.name, date: date, flags: flags}
	m.raw = c.build(i, r, kind, date)
	return m
}

// Small returns a small plain message (1–3 KB) for the big folder of the
// ls workloads.
func (c *corpus) Small(i int) message {
	r := c.rng(i, 1)
	date := epoch.Add(time.Duration(r.Int64N(int64(6 * 365 * 24 * time.Hour)))).Truncate(time.Second)
	var b bytes.Buffer
	c.headers(&b, r, i, date, "Big")
	hdr(&b, "Content-Type", "text/plain; charset=utf-8")
	hdr(&b, "Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	writeQP(&b, text(r, 800+r.IntN(1800), ""))
	return message{folder: "Big", date: date, flags: "S", raw: b.Bytes()}
}

// Huge returns one message of about size bytes, mostly one attachment, for
// the memory workload.
func (c *corpus) Huge(size int) message {
	r := c.rng(0, 2)
	date := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	c.headers(&b, r, 999_999, date, "Huge")
	boundary := "=_bench_huge"
	hdr(&b, "Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
	b.WriteString("\r\n--" + boundary + "\r\n")
	hdr(&b, "Content-Type", "text/plain; charset=utf-8")
	b.WriteString("\r\n" + "Anbei das Video.\r\n")
	b.WriteString("--" + boundary + "\r\n")
	attachment(&b, r, "video/mp4", "Betriebsfeier.mp4", size-b.Len()-400)
	b.WriteString("--" + boundary + "--\r\n")
	return message{folder: "Huge", date: date, raw: b.Bytes()}
}

// build writes the message.
func (c *corpus) build(i int, r *rand.Rand, kind string, date time.Time) []byte {
	var b bytes.Buffer
	c.headers(&b, r, i, date, kind)
	word := ""
	if r.IntN(25) == 0 {
		word = c.word
	}
	body := text(r, textSize(r, kind), word)
	switch kind {
	case "plain":
		hdr(&b, "Content-Type", "text/plain; charset=utf-8")
		if r.IntN(3) == 0 {
			hdr(&b, "Content-Transfer-Encoding", "8bit")
			b.WriteString("\r\n")
			b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
		} else {
			hdr(&b, "Content-Transfer-Encoding", "quoted-printable")
			b.WriteString("\r\n")
			writeQP(&b, body)
		}
	case "alternative":
		alternative(&b, i, body)
	case "attach", "huge":
		boundary := fmt.Sprintf("=_bench_mixed_%d", i)
		hdr(&b, "Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
		b.WriteString("\r\nThis is a multi-part message in MIME format.\r\n")
		b.WriteString("--" + boundary + "\r\n")
		if r.IntN(2) == 0 {
			alternative(&b, i, body)
		} else {
			hdr(&b, "Content-Type", "text/plain; charset=utf-8")
			hdr(&b, "Content-Transfer-Encoding", "quoted-printable")
			b.WriteString("\r\n")
			writeQP(&b, body)
		}
		n := 1 + r.IntN(2)
		for k := 0; k < n; k++ {
			b.WriteString("--" + boundary + "\r\n")
			typ, name := attachmentKind(r)
			var size int
			if kind == "huge" {
				size = (10 << 20) + r.IntN(4<<20)
				if k > 0 {
					size = 20 << 10
				}
			} else {
				// log-uniform 10 KB – 3 MB (encoded)
				size = int(10e3 * math.Exp(r.Float64()*math.Log(300)))
				if k > 0 {
					size /= 4
				}
			}
			attachment(&b, r, typ, name, size)
		}
		b.WriteString("--" + boundary + "--\r\n")
	}
	return b.Bytes()
}

func textSize(r *rand.Rand, kind string) int {
	switch kind {
	case "plain":
		return 300 + int(math.Exp(r.Float64()*math.Log(40))*150) // 0.45–6.3 KB
	case "alternative":
		return 500 + int(math.Exp(r.Float64()*math.Log(30))*250) // 0.75–8 KB
	}
	return 200 + r.IntN(2000)
}

func alternative(b *bytes.Buffer, i int, body string) {
	boundary := fmt.Sprintf("=_bench_alt_%d", i)
	hdr(b, "Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n--" + boundary + "\r\n")
	hdr(b, "Content-Type", "text/plain; charset=utf-8")
	hdr(b, "Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	writeQP(b, body)
	b.WriteString("\r\n--" + boundary + "\r\n")
	hdr(b, "Content-Type", "text/html; charset=utf-8")
	hdr(b, "Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	var h strings.Builder
	h.WriteString(`<!DOCTYPE html><html><head><meta charset="utf-8"><style>p{font-family:Arial,sans-serif;font-size:14px;color:#333}td{padding:4px}</style></head><body>` + "\n")
	for _, para := range strings.Split(body, "\n\n") {
		h.WriteString(`<p style="margin:0 0 12px 0">` + mimeEscape(para) + "</p>\n")
	}
	h.WriteString(`<table border="0" cellpadding="0" cellspacing="0" width="100%"><tr><td><a href="https://example.org/unsubscribe">Abmelden</a></td></tr></table>` + "\n</body></html>\n")
	writeQP(b, h.String())
	b.WriteString("\r\n--" + boundary + "--\r\n")
}

func mimeEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\n", "<br>\n").Replace(s)
}

func attachmentKind(r *rand.Rand) (typ, name string) {
	kinds := [][2]string{
		{"application/pdf", "Rechnung-%d.pdf"},
		{"image/jpeg", "IMG_%04d.jpg"},
		{"application/zip", "Unterlagen-%d.zip"},
		{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Übersicht %d.xlsx"},
		{"image/png", "Screenshot %d.png"},
	}
	k := kinds[r.IntN(len(kinds))]
	return k[0], fmt.Sprintf(k[1], r.IntN(10000))
}

// attachment writes a base64 part of about size encoded bytes of
// incompressible data (like JPEG, PDF or ZIP content).
func attachment(b *bytes.Buffer, r *rand.Rand, typ, name string, size int) {
	if utf8.ValidString(name) && strings.IndexFunc(name, func(c rune) bool { return c > 127 }) >= 0 {
		hdr(b, "Content-Type", typ+"; name=\""+mime.QEncoding.Encode("utf-8", name)+"\"")
		hdr(b, "Content-Disposition", "attachment; filename*=utf-8''"+pctEncode(name))
	} else {
		hdr(b, "Content-Type", typ+"; name=\""+name+"\"")
		hdr(b, "Content-Disposition", "attachment; filename=\""+name+"\"")
	}
	hdr(b, "Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	raw := make([]byte, max(size, 100)/78*57+57) // 57 bytes a line of 76+2
	var seed [32]byte
	for k := range seed {
		seed[k] = byte(r.Uint32())
	}
	rand.NewChaCha8(seed).Read(raw)
	line := make([]byte, 76)
	for off := 0; off < len(raw); off += 57 {
		end := min(off+57, len(raw))
		n := base64.StdEncoding.EncodedLen(end - off)
		base64.StdEncoding.Encode(line, raw[off:end])
		b.Write(line[:n])
		b.WriteString("\r\n")
	}
}

func pctEncode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c < 128 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// headers writes the common header fields, up to (not including)
// Content-Type.
func (c *corpus) headers(b *bytes.Buffer, r *rand.Rand, i int, date time.Time, kind string) {
	from := people[r.IntN(len(people))]
	hdr(b, "Return-Path", "<"+from[1]+">")
	hdr(b, "Received", fmt.Sprintf("from mx%d.example.org (mx%d.example.org [192.0.2.%d])\r\n\tby mail.example.com (Postfix) with ESMTPS id %08X\r\n\tfor <alice@example.com>; %s",
		r.IntN(9), r.IntN(9), 1+r.IntN(250), r.Uint32(), date.Format(time.RFC1123Z)))
	hdr(b, "Date", date.Add(-time.Duration(r.IntN(300))*time.Second).In(time.FixedZone("", 3600)).Format(time.RFC1123Z))
	hdr(b, "From", encodeAddr(from[0], from[1]))
	hdr(b, "To", "Alice Example <alice@example.com>")
	if r.IntN(4) == 0 {
		to := people[r.IntN(len(people))]
		hdr(b, "Cc", encodeAddr(to[0], to[1]))
	}
	hdr(b, "Subject", encodeSubject(r, subject(r)))
	hdr(b, "Message-ID", fmt.Sprintf("<%d.%d.%s@bench.example.org>", c.seed, i, kind))
	if r.IntN(3) == 0 {
		hdr(b, "In-Reply-To", fmt.Sprintf("<%d.%d.plain@bench.example.org>", c.seed, r.IntN(i+1)))
	}
	hdr(b, "MIME-Version", "1.0")
}

func hdr(b *bytes.Buffer, k, v string) {
	b.WriteString(k)
	b.WriteString(": ")
	b.WriteString(v)
	b.WriteString("\r\n")
}

var people = [][2]string{
	{"Bob Builder", "bob@example.org"},
	{"Jürgen Müller", "juergen.mueller@example.de"},
	{"Zoë Faßbender", "zoe@example.de"},
	{"Иван Петров", "ivan@example.ru"},
	{"田中 太郎", "tanaka@example.jp"},
	{"Carol O'Neil", "carol@example.com"},
	{"Deutsche Bahn", "noreply@bahn.example"},
	{"golang-nuts", "golang-nuts@googlegroups.example"},
	{"Finanzamt", "poststelle@finanzamt.example"},
	{"Marie-Claire Lefèvre", "mc.lefevre@example.fr"},
}

func encodeAddr(name, addr string) string {
	if isASCII(name) {
		if strings.ContainsAny(name, "'.,") {
			return `"` + name + `" <` + addr + ">"
		}
		return name + " <" + addr + ">"
	}
	return mime.QEncoding.Encode("utf-8", name) + " <" + addr + ">"
}

var subjects = []string{
	"Rechnung für %s [%d]",
	"Invoice for %s #%d",
	"Re: Treffen am %s",
	"Fwd: Unterlagen %s (Teil %d)",
	"Grüße aus München – %s",
	"Отчёт за %s, версия %d",
	"会議の議事録 %s 第%d回",
	"Bestellbestätigung Nr. %d vom %s",
	"[golang-nuts] Re: generics and %s",
	"Ihre Buchung %d: Reise nach Köln, %s",
	"Umsatz %s/Q%d – Übersicht",
	"Réunion du %s à 14h",
	"Wichtig!!! Passwort läuft ab: %s",
	"Photos from %s 🎉",
	"Mietvertrag Wohnung %d, Änderungen zum %s, bitte bis Ende der Woche prüfen und unterschreiben",
	"%s",
}

var months = []string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}

func subject(r *rand.Rand) string {
	f := subjects[r.IntN(len(subjects))]
	m := months[r.IntN(12)]
	n := 1000 + r.IntN(9000)
	is, id := strings.Index(f, "%s"), strings.Index(f, "%d")
	switch {
	case id < 0:
		return fmt.Sprintf(f, m)
	case is < id:
		return fmt.Sprintf(f, m, n)
	default:
		return fmt.Sprintf(f, n, m)
	}
}

// encodeSubject encodes a non-ASCII subject as RFC 2047 words: UTF-8 Q or
// B, or ISO-8859-1 Q when it fits.
func encodeSubject(r *rand.Rand, s string) string {
	if isASCII(s) {
		return s
	}
	latin1 := true
	for _, c := range s {
		if c > 255 {
			latin1 = false
		}
	}
	var enc string
	switch {
	case latin1 && r.IntN(3) == 0:
		var b strings.Builder
		b.WriteString("=?ISO-8859-1?Q?")
		for _, c := range s {
			switch {
			case c == ' ':
				b.WriteByte('_')
			case c < 128 && c > 32 && c != '=' && c != '?' && c != '_':
				b.WriteRune(c)
			default:
				fmt.Fprintf(&b, "=%02X", byte(c))
			}
		}
		b.WriteString("?=")
		enc = b.String()
	case r.IntN(2) == 0:
		enc = mime.BEncoding.Encode("utf-8", s)
	default:
		enc = mime.QEncoding.Encode("utf-8", s)
	}
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?") // fold between words
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 128 {
			return false
		}
	}
	return true
}

var words = strings.Fields(`der die das und ist nicht ein eine zu mit für auf
	Rechnung Termin Projekt Änderung Übersicht Grüße bitte danke morgen heute
	Woche Angebot Vertrag Lieferung Straße Größe schön Prüfung Bestätigung
	the and of to in is that for it as with was on be at by this have from
	meeting invoice schedule report deadline review update please thanks
	attached document budget quarter release server backup mailbox folder
	привет спасибо встреча отчёт 会議 資料 確認 café naïve façade über weiß`)

// text returns about n bytes of paragraphs ("\n"-separated lines), with
// word planted once if it is not empty.
func text(r *rand.Rand, n int, word string) string {
	var b strings.Builder
	plant := -1
	if word != "" {
		plant = r.IntN(max(n, 1))
	}
	line := 0
	for b.Len() < n {
		if plant >= 0 && b.Len() >= plant {
			b.WriteString(word + " ")
			plant = -1
		}
		w := words[r.IntN(len(words))]
		b.WriteString(w)
		line += len(w) + 1
		switch {
		case r.IntN(60) == 0:
			b.WriteString(".\n\n")
			line = 0
		case line > 66:
			b.WriteString("\n")
			line = 0
		case r.IntN(12) == 0:
			b.WriteString(". ")
		default:
			b.WriteString(" ")
		}
	}
	if plant >= 0 {
		b.WriteString(" " + word)
	}
	b.WriteString("\n")
	return b.String()
}

// writeQP writes s ("\n" line ends) quoted-printable with CRLF line ends.
func writeQP(b *bytes.Buffer, s string) {
	w := quotedprintable.NewWriter(b)
	w.Write([]byte(s))
	w.Close()
}
