package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

func renderMSG(t testing.TB, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := MSG(raw, &b); err != nil {
		t.Fatalf("msg: %v", err)
	}
	return b.Bytes()
}

// oleDump has olefile read a .msg: every stream by path, string
// properties (…001F) decoded, other streams as their bytes in hex, and
// each property stream's entries (the header is 32 bytes at the top, 24
// in an embedded message, 8 in recipients and attachments).
const oleDump = `
import json, struct, sys, olefile
ole = olefile.OleFileIO(sys.argv[1], raise_defects=olefile.DEFECT_INCORRECT)
out = {"streams": {}, "storages": [], "props": {}, "root_clsid": ole.root.clsid}
for path in ole.listdir(streams=True, storages=True):
    name = "/".join(path)
    if ole.get_type(path) == olefile.STGTY_STORAGE:
        out["storages"].append(name)
        continue
    data = ole.openstream(path).read()
    if path[-1] == "__properties_version1.0":
        parent = path[:-1]
        hdr = 32 if not parent else 24 if parent[-1] == "__substg1.0_3701000D" else 8
        props = {}
        for i in range(hdr, len(data) - 15, 16):
            tag, flags, value = struct.unpack("<IIQ", data[i:i+16])
            props["%08X" % tag] = value
        out["props"]["/".join(parent)] = {"header": data[:hdr].hex(), "entries": props}
    elif path[-1].endswith("001F"):
        out["streams"][name] = data.decode("utf-16-le")
    else:
        out["streams"][name] = data.hex()
json.dump(out, sys.stdout)
`

type oleMSG struct {
	Streams  map[string]string
	Storages []string
	Props    map[string]struct {
		Header  string
		Entries map[string]uint64
	}
	RootCLSID string `json:"root_clsid"`
}

func dumpOLE(t *testing.T, file []byte) oleMSG {
	t.Helper()
	py := olePython(t)
	f := filepath.Join(t.TempDir(), "x.msg")
	if err := os.WriteFile(f, file, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", oleDump, f).Output()
	if err != nil {
		t.Fatalf("olefile rejects the .msg: %v\n%s", err, errText(err))
	}
	var d oleMSG
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("olefile output: %v", err)
	}
	return d
}

func hexOf(b []byte) string { return fmt.Sprintf("%x", b) }

// msgTestMessage has what a .msg must carry: non-ASCII names and subject,
// To and Cc, an HTML body with an inline cid: image beside a plain text
// one, an attachment, and a forwarded message with an attachment of its own.
func msgTestMessage() ([]byte, []byte, []byte) {
	png := testPNG(4, 3, color.RGBA{200, 0, 0, 255})
	pdf := []byte("%PDF-1.4\n% not really a PDF, but bytes to compare\n")
	return []byte("From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>\r\n" +
		"To: Anna <anna@example.org>, bob@example.org\r\nCc: \"Zoë K.\" <zoe@example.net>\r\n" +
		"Subject: =?utf-8?b?UHLDvGZ1bmcg4oCTIOaXpeacrOiqniDwn46J?=\r\n" +
		"Date: Tue, 9 Apr 2024 14:05:06 +0200\r\nMessage-ID: <abc.123@example.de>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=M\r\n\r\n" +
		"--M\r\nContent-Type: multipart/alternative; boundary=A\r\n\r\n" +
		"--A\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHallo Anna,\r\nsiehe Anhang. Grüße\r\n" +
		"--A\r\nContent-Type: multipart/related; boundary=R\r\n\r\n" +
		"--R\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hallo <b>Anna</b>,</p><img src=\"cid:Logo@x\"><script>alert(1)</script></body></html>\r\n" +
		"--R\r\nContent-Type: image/png\r\nContent-ID: <Logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(png) + "\r\n" +
		"--R--\r\n--A--\r\n" +
		"--M\r\nContent-Type: application/pdf; name=\"Bericht März.pdf\"\r\nContent-Disposition: attachment; filename*=utf-8''Bericht%20M%C3%A4rz.pdf\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + b64(pdf) + "\r\n" +
		"--M\r\nContent-Type: message/rfc822\r\n\r\n" +
		"From: Original <orig@example.com>\r\nTo: juergen@example.de\r\nSubject: Das Original\r\nDate: Mon, 8 Apr 2024 08:00:00 +0000\r\n" +
		"Content-Type: multipart/mixed; boundary=N\r\n\r\n--N\r\nContent-Type: text/plain\r\n\r\nInner text.\r\n" +
		"--N\r\nContent-Type: text/csv; name=data.csv\r\n\r\na,b\r\n1,2\r\n--N--\r\n" +
		"--M--\r\n"), png, pdf
}

func utf16hex(s string) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return hexOf(b)
}

// TestMSGStructure reads a .msg with olefile and checks that each property
// is where MS-OXMSG puts it.
func TestMSGStructure(t *testing.T) {
	raw, png, pdf := msgTestMessage()
	d := dumpOLE(t, renderMSG(t, raw))
	if d.RootCLSID != "00020D0B-0000-0000-C000-000000000046" {
		t.Errorf("root CLSID %s, want the IMessage class", d.RootCLSID)
	}
	const a0, a1, a2 = "__attach_version1.0_#00000000/", "__attach_version1.0_#00000001/", "__attach_version1.0_#00000002/"
	const emb = a2 + "__substg1.0_3701000D/"
	subject := "Prüfung – 日本語 🎉"
	strs := map[string]string{
		"__substg1.0_001A001F":                                     "IPM.Note",
		"__substg1.0_0037001F":                                     subject,
		"__substg1.0_0C1A001F":                                     "Jürgen Müller",
		"__substg1.0_0C1F001F":                                     "juergen@example.de",
		"__substg1.0_0C1E001F":                                     "SMTP",
		"__substg1.0_0042001F":                                     "Jürgen Müller",
		"__substg1.0_0E04001F":                                     "Anna; bob@example.org",
		"__substg1.0_0E03001F":                                     "Zoë K.",
		"__substg1.0_1035001F":                                     "<abc.123@example.de>",
		"__recip_version1.0_#00000000/__substg1.0_3001001F":        "Anna",
		"__recip_version1.0_#00000000/__substg1.0_39FE001F":        "anna@example.org",
		"__recip_version1.0_#00000000/__substg1.0_3003001F":        "anna@example.org",
		"__recip_version1.0_#00000001/__substg1.0_3001001F":        "bob@example.org",
		"__recip_version1.0_#00000002/__substg1.0_3001001F":        "Zoë K.",
		"__recip_version1.0_#00000002/__substg1.0_39FE001F":        "zoe@example.net",
		a0 + "__substg1.0_370E001F":                                "image/png",
		a0 + "__substg1.0_3712001F":                                "logo@x",
		a1 + "__substg1.0_3707001F":                                "Bericht März.pdf",
		a1 + "__substg1.0_3703001F":                                ".pdf",
		a1 + "__substg1.0_370E001F":                                "application/pdf",
		a2 + "__substg1.0_370E001F":                                "message/rfc822",
		a2 + "__substg1.0_3001001F":                                "Das Original",
		emb + "__substg1.0_0037001F":                               "Das Original",
		emb + "__substg1.0_0C1F001F":                               "orig@example.com",
		emb + "__attach_version1.0_#00000000/__substg1.0_3707001F": "data.csv",
	}
	for k, v := range strs {
		if got, ok := d.Streams[k]; !ok || got != v {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	if got := d.Streams[a0+"__substg1.0_37010102"]; got != hexOf(png) {
		t.Errorf("inline image data %.40s…, want the PNG", got)
	}
	if got := d.Streams[a1+"__substg1.0_37010102"]; got != hexOf(pdf) {
		t.Errorf("attachment data %.40s…, want the PDF's bytes", got)
	}
	if got := d.Streams[emb+"__attach_version1.0_#00000000/__substg1.0_37010102"]; got != hexOf([]byte("a,b\r\n1,2")) {
		t.Errorf("embedded message's attachment %q", got)
	}
	body := d.Streams["__substg1.0_1000001F"]
	if !strings.Contains(body, "Hallo Anna,\r\nsiehe Anhang. Grüße") {
		t.Errorf("PR_BODY %q lacks the plain text", body)
	}
	html := d.Streams["__substg1.0_10130102"]
	for _, want := range []string{`src="cid:logo@x"`, "Hallo <b>Anna</b>"} {
		if !strings.Contains(html, hexOf([]byte(want))) {
			t.Errorf("PR_HTML lacks %s", want)
		}
	}
	if strings.Contains(html, hexOf([]byte("<script"))) {
		t.Error("PR_HTML keeps a script")
	}
	if !strings.HasPrefix(d.Streams["__substg1.0_007D001F"], "From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>\r\nTo: ") {
		t.Errorf("PR_TRANSPORT_MESSAGE_HEADERS %.60q", d.Streams["__substg1.0_007D001F"])
	}
	for _, s := range []string{"__nameid_version1.0/__substg1.0_00020102", "__nameid_version1.0/__substg1.0_00030102", "__nameid_version1.0/__substg1.0_00040102"} {
		if _, ok := d.Streams[s]; !ok {
			t.Errorf("no %s", s)
		}
	}

	top := d.Props[""]
	// Reserved, next recipient id, next attachment id, counts, reserved.
	if want := "0000000000000000" + "03000000" + "03000000" + "03000000" + "03000000" + "0000000000000000"; top.Header != want {
		t.Errorf("top-level property header %s, want %s", top.Header, want)
	}
	if h := d.Props[strings.TrimSuffix(emb, "/")].Header; h != "0000000000000000"+"01000000"+"01000000"+"01000000"+"01000000" {
		t.Errorf("embedded message's property header %s", h)
	}
	// A string's entry gives the stream's size plus the terminating NUL.
	if got, want := top.Entries["0037001F"]&0xFFFFFFFF, uint64(len(utf16hex(subject))/2+2); got != want {
		t.Errorf("PR_SUBJECT size %d, want %d", got, want)
	}
	date := time.Date(2024, 4, 9, 12, 5, 6, 0, time.UTC)
	filetime := uint64(date.Unix()+11644473600) * 10_000_000
	for _, tag := range []string{"00390040", "0E060040"} {
		if got := top.Entries[tag]; got != filetime {
			t.Errorf("%s = %d, want %d (the Date)", tag, got, filetime)
		}
	}
	if top.Entries["340D0003"]&0x00040000 == 0 {
		t.Error("PR_STORE_SUPPORT_MASK lacks STORE_UNICODE_OK")
	}
	if top.Entries["3FDE0003"] != 65001 {
		t.Error("PR_INTERNET_CPID is not UTF-8")
	}
	if got := d.Props[strings.TrimSuffix(a2, "/")].Entries; got["3701000D"]&0xFFFFFFFF != 0xFFFFFFFF || got["37050003"] != 5 {
		t.Errorf("embedded message attachment: data object size %x, method %d", got["3701000D"], got["37050003"])
	}
	inline := d.Props[strings.TrimSuffix(a0, "/")].Entries
	if inline["37140003"] != 4 || inline["7FFE000B"] != 1 || inline["37050003"] != 1 {
		t.Errorf("inline image: flags %d hidden %d method %d, want 4 1 1", inline["37140003"], inline["7FFE000B"], inline["37050003"])
	}
	if _, ok := d.Props[strings.TrimSuffix(a1, "/")].Entries["7FFE000B"]; ok {
		t.Error("the listed attachment is hidden")
	}
	if rt := d.Props["__recip_version1.0_#00000002"].Entries["0C150003"]; rt != 2 {
		t.Errorf("Cc recipient type %d, want 2", rt)
	}
}

func TestMSGDeterministic(t *testing.T) {
	raw, _, _ := msgTestMessage()
	msgs := readCorpus(t)
	msgs["test"] = raw
	for name, raw := range msgs {
		if a, b := renderMSG(t, raw), renderMSG(t, raw); !bytes.Equal(a, b) {
			t.Errorf("%s: two renders differ", name)
		}
	}
}

func FuzzMSG(f *testing.F) {
	for _, b := range readCorpus(f) {
		if len(b) < 64<<10 {
			f.Add(b)
		}
	}
	raw, _, _ := msgTestMessage()
	f.Add(raw)
	f.Add([]byte("Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		out := buildMSG(parse(raw)) // no recover: nothing may panic
		if len(out) < 1024 || len(out)%512 != 0 || !bytes.HasPrefix(out, []byte("\xD0\xCF\x11\xE0")) {
			t.Fatalf("not a compound file: %d bytes", len(out))
		}
	})
}

// outlookProps has Email::Outlook::Message (libemail-outlook-message-perl,
// the library behind msgconvert) read the properties of each .msg
// itself, before msgconvert lays the transport headers over them.
const outlookProps = `
use Email::Outlook::Message; use JSON::PP;
my %out;
for my $f (@ARGV) {
  my $m = Email::Outlook::Message->new($f);
  my %p = map { $_ => $m->{$_} } qw(SUBJECT FROM FROM_ADDR TO CC MESSAGEID BODY_PLAIN DATE1ST);
  $p{ATTACHMENTS} = [map { $_->{LONGNAME} // "" } @{$m->{ATTACHMENTS}}];
  $p{RECIPIENTS} = [map { $_->display_address } @{$m->{ADDRESSES}}];
  $out{$f} = \%p;
}
print JSON::PP->new->utf8->canonical->encode(\%out);
`

type outlookMsg struct {
	SUBJECT, FROM, FROM_ADDR, TO, CC, MESSAGEID, BODY_PLAIN, DATE1ST string
	ATTACHMENTS, RECIPIENTS                                          []string
}

func words(s string) string { return strings.Join(strings.Fields(s), " ") }

// plainText is a model's plain text body as msgconvert's output carries it.
func plainText(m *message) string {
	var b strings.Builder
	for _, n := range chooseBody(m.body, false) {
		if n.kind == nText {
			b.WriteString(n.text + "\n")
		}
	}
	return b.String()
}

func addrList(l []*mail.Address) []string {
	var out []string
	for _, a := range l {
		out = append(out, strings.ToLower(a.Address))
	}
	return out
}

// compareRoundTrip checks that msgconvert's .eml (rt) has the original's
// (orig) subject, addresses, plain text, attachments and attached
// messages.
func compareRoundTrip(t *testing.T, name string, orig, rt *message) {
	t.Helper()
	if rt.hdr.Subject != orig.hdr.Subject {
		t.Errorf("%s: subject %q, want %q", name, rt.hdr.Subject, orig.hdr.Subject)
	}
	for _, f := range []struct {
		field     string
		got, want []*mail.Address
	}{{"From", rt.hdr.from, orig.hdr.from}, {"To", rt.hdr.to, orig.hdr.to}, {"Cc", rt.hdr.cc, orig.hdr.cc}} {
		if g, w := addrList(f.got), addrList(f.want); !slices.Equal(g, w) {
			t.Errorf("%s: %s %v, want %v", name, f.field, g, w)
		}
	}
	if got, want := words(plainText(rt)), words(msgText(orig)); got != want {
		t.Errorf("%s: plain text\n%.300q\nwant\n%.300q", name, got, want)
	}
	for _, n := range chooseBody(orig.body, false) {
		if n.kind == nText && !strings.Contains(words(plainText(rt)), words(string(stripControls([]byte(n.text))))) {
			t.Errorf("%s: plain text lacks the original's %.80q", name, words(n.text))
		}
	}
	type file struct{ name, data string }
	var want, got []file
	var wantMsgs, gotMsgs []*message
	for _, a := range orig.parts {
		if a.msg != nil {
			wantMsgs = append(wantMsgs, a.msg)
		} else {
			want = append(want, file{a.name, string(a.data)})
		}
	}
	for _, a := range rt.parts {
		if a.msg != nil {
			gotMsgs = append(gotMsgs, a.msg)
		} else {
			got = append(got, file{a.name, string(a.data)})
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d attachments, want %d", name, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i].name != want[i].name || got[i].data != want[i].data {
			t.Errorf("%s: attachment %d is %q (%d bytes), want %q (%d bytes, same bytes: %v)", name, i,
				got[i].name, len(got[i].data), want[i].name, len(want[i].data), got[i].data == want[i].data)
		}
	}
	if len(gotMsgs) != len(wantMsgs) {
		t.Fatalf("%s: %d attached messages, want %d", name, len(gotMsgs), len(wantMsgs))
	}
	for i := range wantMsgs {
		compareRoundTrip(t, fmt.Sprintf("%s/attached message %d", name, i+1), wantMsgs[i], gotMsgs[i])
	}
}

// latin1Header undoes what msgconvert does to header text that is not
// ASCII: it writes the header fields it copies from
// PR_TRANSPORT_MESSAGE_HEADERS in Latin-1, so a raw UTF-8 header (RFC 6532)
// comes back as Latin-1 bytes. (The properties themselves are checked
// through the library directly.)
func latin1Header(b []byte) []byte {
	i := bytes.Index(b, []byte("\n\r\n")) // msgconvert writes CRLF
	if i < 0 || utf8.Valid(b[:i]) {
		return b
	}
	return append([]byte(latin1(b[:i])), b[i:]...)
}

// TestMSGConvert turns the corpus into .msg files, has msgconvert turn them
// back into .eml, and compares subject, addresses, plain text,
// attachments (names and bytes) and attached messages with the original;
// and has the same library read the .msg properties directly.
func TestMSGConvert(t *testing.T) {
	tool(t, "msgconvert")
	tool(t, "perl")
	msgs := readCorpus(t)
	raw, _, _ := msgTestMessage()
	msgs["msgtest.eml"] = raw
	msgs["rich.eml"] = richMessage()
	dir := t.TempDir()
	if d := os.Getenv("MSG_DIR"); d != "" {
		dir = d // to look at the files
	}
	var files []string
	for name, raw := range msgs {
		f := filepath.Join(dir, strings.TrimSuffix(name, ".eml")+".msg")
		if err := os.WriteFile(f, renderMSG(t, raw), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	slices.Sort(files)
	// msgconvert writes NAME.eml beside each NAME.msg.
	cmd := exec.Command("msgconvert", files...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("msgconvert: %v\n%s", err, out)
	}
	perl := exec.Command("perl", append([]string{"-e", outlookProps}, files...)...)
	perl.Env = append(os.Environ(), "TZ=UTC")
	out, err := perl.Output()
	if err != nil {
		t.Fatalf("Email::Outlook::Message: %v\n%s", err, errText(err))
	}
	var props map[string]outlookMsg
	if err := json.Unmarshal(out, &props); err != nil {
		t.Fatal(err)
	}
	for name, raw := range msgs {
		stem := filepath.Join(dir, strings.TrimSuffix(name, ".eml"))
		rtRaw, err := os.ReadFile(stem + ".eml")
		if err != nil {
			t.Errorf("%s: msgconvert wrote nothing: %v", name, err)
			continue
		}
		orig := parse(raw)
		compareRoundTrip(t, name, orig, parse(latin1Header(rtRaw)))

		p := props[stem+".msg"]
		h := orig.hdr
		if p.SUBJECT != string(stripControls([]byte(h.Subject))) {
			t.Errorf("%s: PR_SUBJECT read as %q, want %q", name, p.SUBJECT, h.Subject)
		}
		if len(h.from) > 0 && (p.FROM_ADDR != h.from[0].Address || p.FROM != firstOf(h.from[0].Name, h.from[0].Address)) {
			t.Errorf("%s: sender read as %q <%s>", name, p.FROM, p.FROM_ADDR)
		}
		if words(p.BODY_PLAIN) != words(msgText(orig)) {
			t.Errorf("%s: PR_BODY read as %.200q", name, p.BODY_PLAIN)
		}
		if want := h.date.UTC().Format("Mon, 02 Jan 2006 15:04:05 +0000"); !h.date.IsZero() && p.DATE1ST != want {
			t.Errorf("%s: PR_CLIENT_SUBMIT_TIME read as %q, want %q", name, p.DATE1ST, want)
		}
		var rcpts []string
		for _, l := range [][]*mail.Address{h.to, h.cc, h.bcc} {
			for _, a := range l {
				rcpts = append(rcpts, firstOf(a.Name, a.Address)+" <"+a.Address+">")
			}
		}
		if !slices.Equal(p.RECIPIENTS, rcpts) {
			t.Errorf("%s: recipients read as %q, want %q", name, p.RECIPIENTS, rcpts)
		}
		if p.TO != displayList(h.to, h.To) {
			t.Errorf("%s: PR_DISPLAY_TO read as %q", name, p.TO)
		}
	}
	if p := props[filepath.Join(dir, "msgtest.msg")]; !slices.Equal(p.ATTACHMENTS, []string{"part-1.png", "Bericht März.pdf", ""}) || p.MESSAGEID != "<abc.123@example.de>" {
		t.Errorf("msgtest: attachments read as %q, Message-ID %q", p.ATTACHMENTS, p.MESSAGEID)
	}
}
