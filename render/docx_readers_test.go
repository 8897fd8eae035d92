package render

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/bidi"
)

// TestDOCXReaders opens the .docx of every corpus message and of the rich
// newsletter with readers we did not write: LibreOffice converts them to
// PDF (all in one soffice run, as it takes seconds to start) and pandoc to
// plain text. Both must show the message's words, the attachment names
// and its images.
func TestDOCXReaders(t *testing.T) {
	soffice := tool(t, "soffice")
	for _, name := range []string{"pandoc", "pdftotext", "pdfimages", "fc-list"} {
		tool(t, name)
	}
	msgs := readCorpus(t)
	msgs["rich.eml"] = richMessage()
	msgs["long-to.eml"] = longToMessage()
	dir := t.TempDir()
	var files []string
	for name, raw := range msgs {
		f := filepath.Join(dir, strings.TrimSuffix(name, ".eml")+".docx")
		if err := os.WriteFile(f, renderDOCX(t, raw), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	sort.Strings(files)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// A profile of its own, so that a LibreOffice running elsewhere on the
	// machine does not take the job over (and return before it is done).
	args := append([]string{"-env:UserInstallation=file://" + filepath.Join(dir, "profile"),
		"--headless", "--norestore", "--convert-to", "pdf", "--outdir", filepath.Join(dir, "pdf")}, files...)
	cmd := exec.CommandContext(ctx, soffice, args...)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
	t.Logf("LibreOffice converted %d documents in %v", len(files), time.Since(start).Round(time.Millisecond))

	fonts := systemFonts()
	emojiFont := strings.TrimSpace(run(t, "fc-list", ":charset=1f389", "family")) != ""
	images := map[string]int{"rich.eml": 3, "inline-images.eml": 2, "newsletter.eml": 1}
	for name := range msgs {
		t.Run(name, func(t *testing.T) {
			stem := strings.TrimSuffix(name, ".eml")
			docx := filepath.Join(dir, stem+".docx")
			pdf := filepath.Join(dir, "pdf", stem+".pdf")
			if _, err := os.Stat(pdf); err != nil {
				t.Fatalf("LibreOffice wrote no PDF: %v\n%s", err, out)
			}
			words := richWords
			if c, ok := corpus[name]; ok {
				words = append([]string{c.subject, c.snippet}, c.atts...)
			}
			if name == "long-to.eml" {
				words = []string{"Person 0000 <p0000@example.org>", "The party is on Friday."}
			}
			loRaw := run(t, "pdftotext", "-enc", "UTF-8", pdf, "-")
			pdRaw := run(t, "pandoc", "-s", "-t", "plain", "--wrap=none", docx)
			lo, pd := norm1(loRaw), norm1(pdRaw)
			checkLO := true
			if c := corpus[name]; c.needs != 0 && !fontFor(fonts, c.needs) {
				t.Logf("no system font for %q: LibreOffice text check skipped", c.needs)
				checkLO = false
			}
			for _, w := range words {
				if checkLO && !containsPhrase(lo, norm1(w)) {
					t.Errorf("LibreOffice's PDF lacks %q:\n%s", norm1(w), lo)
				}
				if !strings.Contains(pd, norm1(w)) {
					t.Errorf("pandoc's text lacks %q:\n%s", norm1(w), pd)
				}
			}
			if name == "long-to.eml" {
				// The 135 KB To is shortened with a note, as in the PDF:
				// one page, not dozens.
				note := regexp.MustCompile(`<p0029@example.org>, \.\.\. \(To shortened here: it is 14\d\.\d KB long; the complete field is in the message's \.eml file\)`)
				for reader, text := range map[string]string{"LibreOffice": lo, "pandoc": pd} {
					if !note.MatchString(text) || strings.Contains(text, "p4499@example.org") {
						t.Errorf("%s: the To is not shortened with its note:\n%.1500s", reader, text)
					}
				}
				if info := run(t, "pdfinfo", pdf); !regexp.MustCompile(`Pages:\s+1\n`).MatchString(info) {
					t.Errorf("LibreOffice's PDF is not one page:\n%s", info)
				}
			}
			if name == "emoji.eml" {
				for _, e := range []string{"🎉", "🍕", "😄"} {
					if !strings.Contains(pdRaw, e) {
						t.Errorf("pandoc's text lacks %s", e)
					}
					if emojiFont && !strings.Contains(loRaw, e) {
						t.Errorf("LibreOffice's PDF lacks %s", e)
					}
				}
			}
			if want := images[name]; want > 0 {
				list := strings.Split(strings.TrimSpace(run(t, "pdfimages", "-list", pdf)), "\n")
				if got := len(list) - 2; got != want {
					t.Errorf("LibreOffice's PDF has %d images, want %d:\n%s", got, want, strings.Join(list, "\n"))
				}
				media := filepath.Join(dir, "media-"+stem)
				run(t, "pandoc", "--extract-media="+media, "-t", "plain", "-o", os.DevNull, docx)
				got, _ := filepath.Glob(filepath.Join(media, "media", "*"))
				if len(got) != want {
					t.Errorf("pandoc extracted %d images, want %d: %v", len(got), want, got)
				}
			}
		})
	}
}

// containsPhrase reports whether text holds phrase; for a phrase that
// mixes left-to-right and right-to-left words, each word anywhere, since a
// PDF text extractor orders such runs by its own guess of the direction.
func containsPhrase(text, phrase string) bool {
	if strings.Contains(text, phrase) {
		return true
	}
	ltr, rtl := false, false
	for _, r := range phrase {
		p, _ := bidi.LookupRune(r)
		ltr = ltr || p.Class() == bidi.L
		rtl = rtl || p.Class() == bidi.R || p.Class() == bidi.AL
	}
	if !ltr || !rtl {
		return false
	}
	for _, w := range strings.Fields(phrase) {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}
