package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
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
