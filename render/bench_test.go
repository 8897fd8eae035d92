package render

import (
	"bytes"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// bigMessage builds a message with a text body and an attachment of n
// pseudo-random bytes.
func bigMessage(n int) ([]byte, []byte) {
	data := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	var b bytes.Buffer
	b.WriteString("From: Archive <archive@example.com>\r\nTo: you@example.org\r\nSubject: Big scan attached\r\n" +
		"Date: Mon, 8 Apr 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BIG\r\n\r\n" +
		"--BIG\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe scan is attached.\r\n" +
		"--BIG\r\nContent-Type: application/octet-stream; name=scan.bin\r\nContent-Disposition: attachment; filename=scan.bin\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--BIG--\r\n")
	return b.Bytes(), data
}

func TestLargeAttachment(t *testing.T) {
	raw, data := bigMessage(3 << 20)
	start := time.Now()
	pdf := render(t, "pdf", raw, Options{})
	t.Logf("3 MB attachment: PDF %d bytes in %v", len(pdf), time.Since(start))
	for _, f := range []string{"txt", "html"} {
		if out := render(t, f, raw, Options{}); !bytes.Contains(out, []byte("scan.bin")) || !bytes.Contains(out, []byte("3.0 MB")) {
			t.Errorf("%s does not list scan.bin (3.0 MB)", f)
		}
	}
	tool(t, "pdfdetach")
	dir := t.TempDir()
	f := filepath.Join(dir, "big.pdf")
	os.WriteFile(f, pdf, 0o644)
	run(t, "pdfdetach", "-saveall", "-o", dir, f)
	for name, want := range map[string][]byte{"message.eml": raw, "scan.bin": data} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("embedded %s: %d bytes, want %d identical bytes (%v)", name, len(got), len(want), err)
		}
	}
}

// FuzzRender feeds arbitrary bytes to the renderers' inner functions (no
// recover) and the PDF builder: nothing may panic.
func FuzzRender(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: message/rfc822\r\n\r\n--x--"))
	f.Add([]byte("Subject: =?utf-8?B?8J+YgA==?=\r\nContent-Type: text/html\r\n\r\n<p dir=rtl>שלום 😀<img src=cid:a>"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := parse(raw)
		var b bytes.Buffer
		writeText(&b, m)
		b.Reset()
		p := &page{b: &b, csp: htmlCSP, image: dataURI}
		p.head(m)
		p.body(m)
		if _, err := buildPDF(parse, raw, Options{}); err != nil {
			t.Fatalf("pdf: %v", err)
		}
		if err := buildDOCX(io.Discard, parse, raw); err != nil {
			t.Fatalf("docx: %v", err)
		}
	})
}

// benchCorpus renders every corpus message per iteration and reports the
// time per message; typical messages are all well under 100 KB.
func benchCorpus(b *testing.B, fn func([]byte) error) {
	msgs := readCorpus(b)
	names := make([]string, 0, len(msgs))
	var total int64
	for n, m := range msgs {
		names = append(names, n)
		total += int64(len(m))
	}
	sort.Strings(names)
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, n := range names {
			if err := fn(msgs[n]); err != nil {
				b.Fatal(err)
			}
		}
	}
	perMsg := float64(b.Elapsed().Nanoseconds()) / float64(b.N*len(names))
	b.ReportMetric(perMsg/1e6, "ms/msg")
	b.ReportMetric(1e9/perMsg, "msgs/s")
}

func BenchmarkPDF(b *testing.B) {
	benchCorpus(b, func(raw []byte) error { return PDF(raw, io.Discard, Options{}) })
}

func BenchmarkPDFExtraFonts(b *testing.B) {
	opt := Options{ExtraFonts: SystemFonts()}
	benchCorpus(b, func(raw []byte) error { return PDF(raw, io.Discard, opt) })
}

func BenchmarkHTML(b *testing.B) {
	benchCorpus(b, func(raw []byte) error { return HTML(raw, io.Discard) })
}

func BenchmarkMHT(b *testing.B) {
	benchCorpus(b, func(raw []byte) error { return MHT(raw, io.Discard) })
}

func BenchmarkText(b *testing.B) {
	benchCorpus(b, func(raw []byte) error { return Text(raw, io.Discard) })
}

// typicalMessage is an ordinary business mail of about 80 KB: a two-page
// HTML body with links and a 50 KB attachment.
func typicalMessage() []byte {
	body := strings.Repeat("<p>Lorem ipsum dolor sit amet, <a href=\"https://example.com/x\">consectetur</a> adipiscing elit, "+
		"sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud.</p>\n", 30)
	att := make([]byte, 50<<10)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range att {
		att[i] = "abcdefghij klmnopqrstuvwxyz\n"[r.IntN(28)] // compressible, like a document
	}
	return []byte("From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: Contract draft\r\n" +
		"Date: Mon, 8 Apr 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=T\r\n\r\n" +
		"--T\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>" + body + "</body></html>\r\n" +
		"--T\r\nContent-Type: application/pdf; name=draft.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString(att) + "\r\n--T--\r\n")
}

func benchOne(b *testing.B, raw []byte, fn func([]byte) error) {
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := fn(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDOCX(b *testing.B) {
	benchCorpus(b, func(raw []byte) error { return DOCX(raw, io.Discard) })
}

func BenchmarkTypicalDOCX(b *testing.B) {
	benchOne(b, typicalMessage(), func(raw []byte) error { return DOCX(raw, io.Discard) })
}

// BenchmarkRichDOCX is the newsletter of docx_test.go: tables, lists and
// three images.
func BenchmarkRichDOCX(b *testing.B) {
	benchOne(b, richMessage(), func(raw []byte) error { return DOCX(raw, io.Discard) })
}

func BenchmarkTypicalPDF(b *testing.B) {
	benchOne(b, typicalMessage(), func(raw []byte) error { return PDF(raw, io.Discard, Options{}) })
}

func BenchmarkTypicalHTML(b *testing.B) {
	benchOne(b, typicalMessage(), func(raw []byte) error { return HTML(raw, io.Discard) })
}

func BenchmarkTypicalMHT(b *testing.B) {
	benchOne(b, typicalMessage(), func(raw []byte) error { return MHT(raw, io.Discard) })
}

func BenchmarkTypicalText(b *testing.B) {
	benchOne(b, typicalMessage(), func(raw []byte) error { return Text(raw, io.Discard) })
}

// BenchmarkLongPDF is a 70 KB HTML body that fills 20 pages.
func BenchmarkLongPDF(b *testing.B) {
	raw := readCorpus(b)["newsletter.eml"]
	body := strings.Repeat("<p>Lorem ipsum dolor sit amet, <a href=\"https://example.com/x\">consectetur</a> adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.</p>\n", 400)
	raw = bytes.Replace(raw, []byte("--==rel==\r\nContent-Type: image/png"), []byte("--==rel==\r\nContent-Type: text/html; charset=utf-8\r\nContent-Disposition: inline\r\n\r\n"+body+"\r\n--==rel==\r\nContent-Type: image/png"), 1)
	benchOne(b, raw, func(raw []byte) error { return PDF(raw, io.Discard, Options{}) })
}

func BenchmarkMSG(b *testing.B) {
	benchCorpus(b, func(raw []byte) error { return MSG(raw, io.Discard) })
}

func BenchmarkTypicalMSG(b *testing.B) {
	benchOne(b, typicalMessage(), func(raw []byte) error { return MSG(raw, io.Discard) })
}

// BenchmarkBigMSG is a message with a 20 MB attachment.
func BenchmarkBigMSG(b *testing.B) {
	raw, _ := bigMessage(20 << 20)
	benchOne(b, raw, func(raw []byte) error { return MSG(raw, io.Discard) })
}

// BenchmarkEmojiPDF is the emoji message with the system fonts: the
// emoji font (Symbola, 3 MB) is parsed and subset by fpdf per document.
func BenchmarkEmojiPDF(b *testing.B) {
	opt := Options{ExtraFonts: SystemFonts()}
	benchOne(b, readCorpus(b)["emoji.eml"], func(raw []byte) error { return PDF(raw, io.Discard, opt) })
}

// BenchmarkColumnsPDF is the two-column newsletter with a bordered table.
func BenchmarkColumnsPDF(b *testing.B) {
	benchOne(b, readCorpus(b)["newsletter-columns.eml"], func(raw []byte) error { return PDF(raw, io.Discard, Options{}) })
}
