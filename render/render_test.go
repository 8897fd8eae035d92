package render

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/text/unicode/norm"
)

// corpusCase says what each message of testdata/ must show.
type corpusCase struct {
	subject string   // decoded subject
	snippet string   // a piece of the body every view must contain
	needs   rune     // a rune that needs an extra font in the PDF (0: bundled font suffices)
	atts    []string // names of the attachments listed and embedded
}

var corpus = map[string]corpusCase{
	"plain.eml":                 {"Quarterly report draft", "numbers for March are still missing", 0, nil},
	"alternative.eml":           {"Your order #10493 has shipped", "arrive within 2–3 days", 0, nil},
	"newsletter.eml":            {"Spring has arrived – 20% off", "spring collection is here", 0, nil},
	"german-latin1.eml":         {"Rechnung für März – Straßenbau", "Rechnung Nr. 2024-0815 über 1.234,56 EUR", 0, []string{"Rechnung März 2024.pdf"}},
	"russian-koi8.eml":          {"Собрание жильцов в четверг", "собрание жильцов состоится в четверг", 0, nil},
	"japanese-iso2022jp.eml":    {"打ち合わせの日程について", "三月十四日", '日', nil},
	"greek.eml":                 {"Πρόγραμμα συνεδρίου Θεσσαλονίκη", "συνέδριο στη Θεσσαλονίκη", 0, nil},
	"chinese-gb2312.eml":        {"北京展会日程安排", "北京展会的日程安排", '北', nil},
	"korean-euckr.eml":          {"회의 자료 송부", "회의 자료를", '회', nil},
	"shiftjis-big5.eml":         {"台北會議東京", "台北會議的資料", '會', nil},
	"hebrew-1255.eml":           {"Meeting update – הפגישה נדחתה", "הפגישה נדחתה ליום ראשון", 'ש', nil},
	"arabic.eml":                {"Booking confirmed – تأكيد الحجز", "تم تأكيد حجزك", 'ع', nil},
	"emoji.eml":                 {"Party tonight 🎉🍕 at 8", "bring snacks", 0, nil},
	"historic-scripts.eml":      {"Gothic 𐌰𐌱𐌲 and math 𝐀𝔸", "Runic: ᚠᚢᚦᚨ", '𐌰', nil},
	"malformed-boundary.eml":    {"Broken boundary test", "does not match this body marker", 0, nil},
	"malformed-missing-end.eml": {"Truncated multipart", "Second part was cut off", 0, nil},
	"malformed-base64.eml":      {"Broken base64 inside", "This text is readable", 0, []string{"data.bin"}},
	"bogus-charset.eml":         {"Café menu Hello", "Café au lait: 2,50 €", 0, nil},
	"nested-rfc822.eml":         {"Fwd: Project kickoff notes", "Milestone one is due in May", 0, []string{"milestones.csv"}},
	"calendar.eml":              {"Invitation: Budget review Q2 @ Tue 5 Mar 2024 10:00 - 11:00", "Room 4.12, Main building", 0, []string{"invite.ics"}},
	"smime-signed.eml":          {"Signed contract confirmation", "I confirm the contract terms", 0, []string{"smime.p7s"}},
	"smime-encrypted.eml":       {"Encrypted salary statement", "encrypted with S/MIME", 0, []string{"smime.p7m"}},
	"inline-images.eml":         {"Holiday pictures", "view from our hotel", 0, []string{"view.jpg", "chart.png"}},
	"flowed.eml":                {"Flowed text and a long URL", "soft line breaks, so it should be joined", 0, nil},
	"headers-only.eml":          {"No body at all", "", 0, nil},
	"not-a-message.eml":         {"", "just some text that someone saved", 0, nil},
	"bom.eml":                   {"Saved with a byte order mark", "starts with a UTF-8 byte order mark", 0, nil},
	"control-chars.eml":         {"Payroll update 📎", "carry control characters", 0, nil},
	"same-names.eml":            {"Three reports and the minutes", "the same file name", 0, []string{"report.pdf"}},
	"images-cmyk-alpha.eml":     {"Proofs in CMYK and with transparency", "two logos with transparency", 0, nil},
	"styles.eml":                {"Text styles in HTML", "bold italic words", 0, nil},
	"plain-table.eml":           {"April numbers in a plain text table", "here are the numbers for April", 0, nil},
	"newsletter-columns.eml":    {"Neighbourhood Letter, April", "community garden opens its gates", 0, nil},
	"newsletter-colours.eml":    {"Harbour Market weekly", "smoked mackerel from the Jensen boat", 0, nil},
	"bidi-mixed.eml":            {"Mixed directions: פגישה", "הפגישה נדחתה ליום ראשון", 'ש', nil},
	"image-attachments.eml":     {"Pictures from the excursion", "three pictures from the excursion", 0, []string{"red.png", "lake.jpg", "green.gif"}},
}

func readCorpus(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func TestCorpusIsDescribed(t *testing.T) {
	for name := range readCorpus(t) {
		if _, ok := corpus[name]; !ok {
			t.Errorf("testdata/%s has no entry in corpus", name)
		}
	}
}

// norm1 makes rendered text comparable: compatibility forms (Arabic
// presentation forms) folded, bidi controls, boxes and runes the PDF cannot
// show dropped, white space collapsed.
func norm1(s string) string {
	s = norm.NFKC.String(s)
	s = strings.Map(func(r rune) rune {
		switch {
		case r > 0xFFFF, r == tofu, r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F:
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func render(t *testing.T, format string, raw []byte, opt Options) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "html":
		err = HTML(raw, &b)
	case "txt":
		err = Text(raw, &b)
	case "pdf":
		err = PDF(raw, &b, opt)
	case "mht":
		err = MHT(raw, &b)
	}
	if err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	if b.Len() == 0 {
		t.Fatalf("%s: empty output", format)
	}
	return b.Bytes()
}

func TestText(t *testing.T) {
	for name, raw := range readCorpus(t) {
		t.Run(name, func(t *testing.T) {
			want := corpus[name]
			out := string(render(t, "txt", raw, Options{}))
			for _, s := range []string{want.subject, want.snippet} {
				if !strings.Contains(norm1(out), norm1(s)) {
					t.Errorf("text lacks %q:\n%s", s, out)
				}
			}
			for _, a := range want.atts {
				if !strings.Contains(out, a) {
					t.Errorf("text does not list attachment %q", a)
				}
			}
			if bytes.IndexByte([]byte(out), 0) >= 0 {
				t.Error("text contains NUL")
			}
		})
	}
}

func TestHTML(t *testing.T) {
	for name, raw := range readCorpus(t) {
		t.Run(name, func(t *testing.T) {
			want := corpus[name]
			out := string(render(t, "html", raw, Options{}))
			checkSafeHTML(t, out)
			checkPage(t, out, htmlCSP)
			text := norm1(htmlText(out))
			for _, s := range []string{want.subject, want.snippet} {
				if !strings.Contains(text, norm1(s)) {
					t.Errorf("html lacks %q in %s", s, text)
				}
			}
			for _, a := range want.atts {
				if !strings.Contains(text, a) {
					t.Errorf("html does not list attachment %q", a)
				}
			}
		})
	}
}

// htmlText returns the visible text of a page, its body frames' too.
func htmlText(page string) string {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "style" || n.Data == "title" || n.Data == "script") {
			return
		}
		if n.Type == html.ElementNode && n.Data == "iframe" {
			b.WriteString(htmlText(attrOf(n, "srcdoc")) + " ")
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data + " ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return b.String()
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

var (
	reScript   = regexp.MustCompile(`(?i)<\s*script`)
	reHandler  = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	reCSSFetch = regexp.MustCompile(`(?i)url\s*\(|@import|image-set\s*\(`)
	reActive   = regexp.MustCompile(`(?i)<\s*(frame|object|embed|form|input|base|link|applet|svg|meta[^>]+refresh)\b`)
	reFrame    = regexp.MustCompile(`(?i)<\s*iframe\b`)
)

// checkSafeHTML asserts that a page runs nothing and fetches nothing, and
// that its only frames are sandboxed body frames, themselves safe pages.
func checkSafeHTML(t *testing.T, page string) {
	t.Helper()
	checkSafeDoc(t, page, htmlCSP, 0)
}

func checkSafeDoc(t *testing.T, page, csp string, depth int) {
	t.Helper()
	for _, re := range []*regexp.Regexp{reScript, reHandler, reCSSFetch, reActive} {
		if m := re.FindString(page); m != "" {
			t.Errorf("unsafe html: %q", m)
		}
	}
	if !strings.Contains(page, `<meta http-equiv="Content-Security-Policy" content="`+csp+`">`) {
		t.Error("no Content-Security-Policy")
	}
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	frames := 0
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.Data == "iframe" {
				frames++
				if depth > 0 {
					t.Errorf("a frame inside a body frame")
				}
				if len(n.Attr) != 4 || attrOf(n, "sandbox") != frameSandbox || attrOf(n, "class") != "mailfs-frame" {
					t.Errorf("frame not sandboxed as it should: %v", n.Attr)
				}
				checkSafeDoc(t, attrOf(n, "srcdoc"), csp, depth+1)
			}
			for _, a := range n.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				switch {
				case strings.HasPrefix(a.Key, "on"):
					t.Errorf("event handler <%s %s>", n.Data, a.Key)
				case a.Key == "href" && n.Data == "a":
					if strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "data:") {
						t.Errorf("dangerous link %q", a.Val)
					}
				case a.Key == "src" || a.Key == "href" || a.Key == "srcset" || a.Key == "background" ||
					a.Key == "poster" || a.Key == "data" || a.Key == "action":
					if !strings.HasPrefix(v, "data:image/") && !(csp == mhtCSP && strings.HasPrefix(v, mhtBase)) {
						t.Errorf("resource <%s %s=%q>", n.Data, a.Key, a.Val)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if n := len(reFrame.FindAllString(page, -1)); n != frames {
		t.Errorf("%d <iframe in the source, %d frames parsed", n, frames)
	}
}

// tool finds an external program; tests that need it skip without it,
// except in CI, where it must be installed.
func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(tool(t, name), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

var systemFonts = sync.OnceValue(SystemFonts)

func TestPDF(t *testing.T) {
	tool(t, "qpdf")
	tool(t, "pdftotext")
	fonts := systemFonts()
	dir := t.TempDir()
	for name, raw := range readCorpus(t) {
		t.Run(name, func(t *testing.T) {
			want := corpus[name]
			out := render(t, "pdf", raw, Options{ExtraFonts: fonts})
			f := filepath.Join(dir, name+".pdf")
			if err := os.WriteFile(f, out, 0o644); err != nil {
				t.Fatal(err)
			}
			if s := run(t, "qpdf", "--check", f); !strings.Contains(s, "No syntax or stream encoding errors") {
				t.Errorf("qpdf --check:\n%s", s)
			}
			list := run(t, "qpdf", "--list-attachments", "--verbose", f)
			for _, a := range append([]string{"message.eml"}, want.atts...) {
				if !strings.Contains(list, "/UF -> "+a) {
					t.Errorf("attachment %q not embedded:\n%s", a, list)
				}
			}
			if want.needs != 0 && !fontFor(fonts, want.needs) {
				t.Logf("no system font for %q: text check skipped", want.needs)
				return
			}
			text := norm1(run(t, "pdftotext", "-enc", "UTF-8", f, "-"))
			for _, s := range []string{want.subject, want.snippet} {
				if !strings.Contains(text, norm1(s)) {
					t.Errorf("pdf text lacks %q:\n%s", norm1(s), text)
				}
			}
		})
	}
}

func fontFor(fonts [][]byte, r rune) bool {
	for _, b := range fonts {
		if f := newExtraFace("t", b); f != nil && f.covers(r) {
			return true
		}
	}
	return false
}

// TestPDFWithoutFonts checks that scripts without a font degrade to boxes
// and still give a valid PDF.
func TestPDFWithoutFonts(t *testing.T) {
	raws := readCorpus(t)
	for _, name := range []string{"japanese-iso2022jp.eml", "arabic.eml", "hebrew-1255.eml", "emoji.eml"} {
		out := render(t, "pdf", raws[name], Options{})
		f := filepath.Join(t.TempDir(), "x.pdf")
		os.WriteFile(f, out, 0o644)
		if s := run(t, "qpdf", "--check", f); !strings.Contains(s, "No syntax or stream encoding errors") {
			t.Errorf("%s: qpdf --check:\n%s", name, s)
		}
		if text := run(t, "pdftotext", "-enc", "UTF-8", f, "-"); !strings.ContainsRune(text, tofu) {
			t.Errorf("%s: no visible replacement box in:\n%s", name, text)
		}
	}
}

func TestDeterministic(t *testing.T) {
	opt := Options{ExtraFonts: systemFonts()}
	for name, raw := range readCorpus(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // renders run concurrently in mailfs too
			for _, format := range []string{"html", "txt", "pdf", "mht"} {
				a, b := render(t, format, raw, opt), render(t, format, raw, opt)
				if !bytes.Equal(a, b) {
					t.Errorf("%s differs between two renders", format)
				}
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorIsReturned(t *testing.T) {
	raw := readCorpus(t)["plain.eml"]
	for name, err := range map[string]error{
		"html": HTML(raw, failWriter{}), "txt": Text(raw, failWriter{}), "pdf": PDF(raw, failWriter{}, Options{}),
		"mht": MHT(raw, failWriter{}),
	} {
		if err == nil {
			t.Errorf("%s: write error not returned", name)
		}
	}
}
