package render

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"testing"
)

type mhtFile struct {
	boundary string
	root     string
	parts    map[string][]byte // Content-Location -> decoded bytes, images only
	types    map[string]string
}

// readMHT reads an .mht with Go's own MIME readers, checking its shape:
// multipart/related, the root first (text/html, quoted-printable, with its
// Content-Location), then base64 image parts with distinct locations.
func readMHT(t *testing.T, b []byte) mhtFile {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("mht: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/related" || params["type"] != "text/html" || params["boundary"] == "" {
		t.Fatalf("mht Content-Type %q (%v)", msg.Header.Get("Content-Type"), err)
	}
	f := mhtFile{boundary: params["boundary"], parts: map[string][]byte{}, types: map[string]string{}}
	r := multipart.NewReader(msg.Body, f.boundary)
	for i := 0; ; i++ {
		p, err := r.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("mht part %d: %v", i, err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("mht part %d: %v", i, err)
		}
		loc, cte, ct := p.Header.Get("Content-Location"), p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Type")
		if i == 0 {
			if ct != `text/html; charset="utf-8"` || cte != "quoted-printable" || loc != mhtBase+"message.html" {
				t.Fatalf("mht root: %v", p.Header)
			}
			root, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(data)))
			if err != nil {
				t.Fatalf("mht root: %v", err)
			}
			f.root = string(root)
			continue
		}
		dec, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(data)), ""))
		if cte != "base64" || err != nil || !strings.HasPrefix(loc, mhtBase) || !strings.HasPrefix(ct, "image/") {
			t.Fatalf("mht part %d: %v", i, p.Header)
		}
		if _, dup := f.parts[loc]; dup {
			t.Errorf("mht: two parts at %s", loc)
		}
		f.parts[loc], f.types[loc] = dec, ct
	}
	if f.root == "" {
		t.Fatal("mht has no root")
	}
	for _, line := range bytes.Split(b, []byte("\r\n")) {
		if len(line) > 998 {
			t.Fatalf("mht line of %d bytes", len(line))
		}
	}
	return f
}

func mhtRoot(t *testing.T, b []byte) string { return readMHT(t, b).root }

var reMHTRef = regexp.MustCompile(`src="(` + regexp.QuoteMeta(mhtBase) + `[^"]*)"`)

func TestMHT(t *testing.T) {
	for name, raw := range readCorpus(t) {
		t.Run(name, func(t *testing.T) {
			want := corpus[name]
			out := render(t, "mht", raw, Options{})
			f := readMHT(t, out)
			checkSafeDoc(t, f.root, mhtCSP, 0)
			frames := checkPage(t, f.root, mhtCSP)
			text := norm1(htmlText(f.root))
			for _, s := range append([]string{want.subject, want.snippet}, want.atts...) {
				if !strings.Contains(text, norm1(s)) {
					t.Errorf("mht lacks %q in %s", s, text)
				}
			}
			// Every image is a part the root names; none is a data: URI.
			refs := map[string]bool{}
			for _, doc := range append(frames, f.root) {
				if strings.Contains(doc, "data:image/") {
					t.Error("a data: URI in the mht root")
				}
				for _, m := range reMHTRef.FindAllStringSubmatch(doc, -1) {
					refs[m[1]] = true
					if f.parts[m[1]] == nil {
						t.Errorf("image %s has no part", m[1])
					}
				}
			}
			for loc, data := range f.parts {
				if !refs[loc] {
					t.Errorf("part %s is not shown", loc)
				}
				if f.types[loc] != "image/"+imageType(data) {
					t.Errorf("part %s: %s of %s", loc, f.types[loc], imageType(data))
				}
			}
			if html := string(render(t, "html", raw, Options{})); strings.Count(html, "data:image/") != len(refs) {
				t.Errorf("the mht has %d images, the html %d", len(refs), strings.Count(html, "data:image/"))
			}
		})
	}
}

// TestMHTBoundary: the boundary is derived from the content, so two
// messages differing in one image byte get different ones, and it never
// occurs in the parts.
func TestMHTBoundary(t *testing.T) {
	raw := readCorpus(t)["inline-images.eml"]
	a := readMHT(t, render(t, "mht", raw, Options{}))
	changed := bytes.Replace(raw, []byte("/9j/2wCEAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYn"),
		[]byte("/9j/2wCEAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYm"), 1)
	b := readMHT(t, render(t, "mht", changed, Options{}))
	if a.boundary == b.boundary || len(a.boundary) < 30 {
		t.Errorf("boundaries %q and %q", a.boundary, b.boundary)
	}
	if bytes.Equal(a.parts[mhtBase+"1-view.jpg"], b.parts[mhtBase+"1-view.jpg"]) {
		t.Error("the image did not change")
	}
}
