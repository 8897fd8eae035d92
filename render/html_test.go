package render

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// pageClasses are the class names of mailfs's own markup: those pageCSS
// styles.
var pageClasses = func() map[string]bool {
	out := map[string]bool{"mailfs": true}
	for _, m := range regexp.MustCompile(`\.(mailfs-[a-z]+)`).FindAllStringSubmatch(pageCSS, -1) {
		out[m[1]] = true
	}
	return out
}()

// pageAttrs are the attributes mailfs writes, per element ("*": any).
var pageAttrs = map[string]map[string]bool{
	"*":      {"class": true},
	"meta":   {"charset": true, "http-equiv": true, "content": true, "name": true},
	"a":      {"href": true, "rel": true, "target": true},
	"img":    {"class": true, "src": true, "alt": true},
	"iframe": {"class": true, "title": true, "sandbox": true, "srcdoc": true},
}

var pageElems = map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true,
	"body": true, "div": true, "span": true, "pre": true, "a": true, "img": true, "iframe": true, "ul": true, "li": true}

// checkPage asserts what makes the header block trustworthy: the page
// holds only mailfs's own markup (elements, attributes, classes, one style
// sheet: pageCSS), its body starts with the header block, which is there
// once outside attached messages, and every HTML body of the message is a
// sandboxed frame whose document passes checkFrame. It returns the frames'
// documents.
func checkPage(t *testing.T, page, csp string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("page does not parse: %v", err)
	}
	var frames []string
	styles, csps, heads := 0, 0, 0
	var body *html.Node
	var walk func(n *html.Node, nested bool)
	walk = func(n *html.Node, nested bool) {
		switch n.Type {
		case html.ElementNode:
		case html.TextNode, html.DocumentNode, html.DoctypeNode:
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c, nested)
			}
			return
		default:
			t.Errorf("node of type %d in the page", n.Type)
			return
		}
		if !pageElems[n.Data] || n.Namespace != "" {
			t.Errorf("<%s> in the page, outside any frame", n.Data)
		}
		for _, a := range n.Attr {
			if !pageAttrs["*"][a.Key] && !pageAttrs[n.Data][a.Key] || a.Namespace != "" {
				t.Errorf("<%s %s=%q> in the page", n.Data, a.Key, a.Val)
			}
			switch a.Key {
			case "class":
				if !pageClasses[a.Val] {
					t.Errorf("<%s class=%q> in the page", n.Data, a.Val)
				}
			case "href":
				if safeHref(a.Val) != a.Val {
					t.Errorf("link %q in the page", a.Val)
				}
			case "src":
				if !strings.HasPrefix(a.Val, "data:image/") && !(csp == mhtCSP && strings.HasPrefix(a.Val, mhtBase)) {
					t.Errorf("image %q in the page", a.Val)
				}
			case "http-equiv":
				csps++
				if a.Val != "Content-Security-Policy" || attrOf(n, "content") != csp {
					t.Errorf("meta %v", n.Attr)
				}
			}
		}
		switch class := attrOf(n, "class"); {
		case n.Data == "style":
			styles++
			if n.FirstChild == nil || n.FirstChild.Data != pageCSS {
				t.Error("a style sheet that is not pageCSS")
			}
		case n.Data == "body":
			body = n
		case n.Data == "iframe":
			if attrOf(n, "sandbox") != frameSandbox {
				t.Errorf("frame sandbox %q", attrOf(n, "sandbox"))
			}
			frames = append(frames, attrOf(n, "srcdoc"))
			checkFrame(t, attrOf(n, "srcdoc"), csp)
		case class == "mailfs-head" && !nested:
			heads++
		case class == "mailfs-nested":
			nested = true
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, nested)
		}
	}
	walk(doc, false)
	if styles != 1 || csps != 1 {
		t.Errorf("%d style sheets and %d CSPs in the page, want 1 each", styles, csps)
	}
	if heads != 1 {
		t.Errorf("%d header blocks in the page, want 1", heads)
	}
	if body == nil || attrOf(body, "class") != "mailfs" {
		t.Fatal("no body.mailfs")
	}
	first := body.FirstChild
	for first != nil && first.Type != html.ElementNode {
		first = first.NextSibling
	}
	if first == nil || attrOf(first, "class") != "mailfs-head" {
		t.Error("the page's body does not start with the header block")
	}
	return frames
}

// frameStart is how every frame document begins: the CSP comes before
// anything of the message.
func frameStart(csp string) string {
	return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"" + csp + "\">\n"
}

var frameForbidden = map[string]bool{"script": true, "iframe": true, "frame": true, "frameset": true,
	"object": true, "embed": true, "applet": true, "form": true, "input": true, "button": true,
	"textarea": true, "select": true, "base": true, "link": true, "svg": true, "math": true,
	"template": true, "noscript": true, "audio": true, "video": true, "source": true, "canvas": true,
	"portal": true, "fencedframe": true}

var cssFetchTest = regexp.MustCompile(`(?i)url\s*\(|@import|image-set\s*\(|expression\s*\(|behavior\s*:|-moz-binding`)

// checkFrame asserts that a body frame's document runs and fetches
// nothing: no active elements, no event handlers, no links or images but
// safe ones, no fetching CSS, and only mailfs's three <meta>s.
func checkFrame(t *testing.T, src, csp string) {
	t.Helper()
	if !strings.HasPrefix(src, frameStart(csp)) {
		t.Errorf("frame does not start with its CSP: %.200q", src)
	}
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		t.Fatalf("frame does not parse: %v", err)
	}
	metas := 0
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if frameForbidden[n.Data] || n.Namespace != "" {
				t.Errorf("<%s> in a frame", n.Data)
			}
			if n.Data == "meta" {
				metas++
			}
			if n.Data == "style" && n.FirstChild != nil && cssFetchTest.MatchString(n.FirstChild.Data) {
				t.Errorf("fetching CSS in a frame: %q", n.FirstChild.Data)
			}
			for _, a := range n.Attr {
				k := strings.ToLower(a.Key)
				switch {
				case a.Namespace != "" || strings.HasPrefix(k, "on") || k == "srcset" || k == "srcdoc" ||
					k == "background" || k == "poster" || k == "action" || k == "formaction" || k == "data" ||
					k == "http-equiv" && a.Val != "Content-Security-Policy":
					t.Errorf("<%s %s=%q> in a frame", n.Data, a.Key, a.Val)
				case k == "href":
					if n.Data != "a" || safeHref(a.Val) != a.Val && !strings.HasPrefix(a.Val, "#") {
						t.Errorf("<%s href=%q> in a frame", n.Data, a.Val)
					}
				case k == "src":
					if n.Data != "img" || !strings.HasPrefix(a.Val, "data:image/") && !(csp == mhtCSP && strings.HasPrefix(a.Val, mhtBase)) {
						t.Errorf("<%s src=%.80q> in a frame", n.Data, a.Val)
					}
				case k == "style":
					if cssFetchTest.MatchString(a.Val) {
						t.Errorf("fetching style %q in a frame", a.Val)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if metas != 3 {
		t.Errorf("%d <meta> in a frame, want mailfs's 3", metas)
	}
}

// pageText is the text of the page outside its frames.
func pageText(page string) string {
	doc, _ := html.Parse(strings.NewReader(page))
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode && n.Parent != nil && n.Parent.Data != "style" {
			b.WriteString(n.Data + " ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return b.String()
}

// hostile are messages whose HTML body tries to hide, cover, move or
// restyle mailfs's header block, or to break out of its frame. Each sets
// the frame's background red (hostileRed) unless it hides its own body.
var hostile = []struct {
	name, body string
	paints     bool // the body shows red in the frame
}{
	{"hide-head", `<style>.mailfs-head{display:none!important}.mailfs-att,.mailfs-note{display:none}</style><p>You have nothing to worry about.</p>`, true},
	{"every-class", `<style>[class^=mailfs],[class*=" mailfs"],.mailfs,.mailfs-subject,.mailfs-row,.mailfs-k,.mailfs-v,.mailfs-main,.mailfs-frame,` +
		`body>div:first-child,div,span{visibility:hidden!important;color:transparent!important;font-size:0!important}` +
		`:root,html,body{background:#ff0000!important}</style><div class="mailfs-head">From: HR department</div>`, true},
	{"fixed-overlay", `<div style="position:fixed;top:0;left:0;width:100vw;height:100vh;z-index:2147483647;background:#ff0000;color:#fff;font:14px sans-serif;padding:14px 24px">` +
		`<b>Salary review</b><br>From: HR department &lt;hr@example.com&gt;</div>`, true},
	{"sticky-and-negative-margin", `<div style="position:sticky;top:0;margin-top:-400px;transform:translateY(-300px);height:900px;background:#ff0000">From: HR department</div>`, true},
	{"break-out", `<p title='"></iframe><div class="mailfs-head">From: HR department</div><iframe srcdoc="'>x</p>` +
		`&quot;&gt;&lt;/iframe&gt;&lt;script&gt;alert(1)&lt;/script&gt; "></iframe><div class=mailfs-head>From: HR department</div>` +
		`<style>p{color:red}</style></iframe><script>alert(2)</script>` +
		`<iframe srcdoc="<script>alert(3)</script>"></iframe><a href="javascript:alert(4)">x</a>` +
		`<img src=x onerror=alert(5)><svg onload=alert(6)></svg><meta http-equiv=refresh content="0;url=https://evil.example">` +
		`<base href="https://evil.example/"><div style="background:#ff0000;height:600px">body</div>`, true},
	{"hide-html", `<style>html,body{display:none!important}</style>text`, false},
}

// hostileMessage wraps an HTML body in a message from Mallory.
func hostileMessage(body string, paints bool) []byte {
	if paints {
		body = "<style>html,body{background:#ff0000!important}</style>" + body
	}
	return []byte("From: Mallory <mallory@evil.example>\r\nTo: victim@example.org\r\nSubject: Salary review\r\n" +
		"Date: Mon, 8 Apr 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head></head><body>" + body + "</body></html>\r\n" +
		"--B\r\nContent-Type: application/pdf; name=review.pdf\r\n\r\n%PDF-1.4\r\n--B--\r\n")
}

func TestHostileHTML(t *testing.T) {
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			raw := hostileMessage(h.body, h.paints)
			for _, v := range []struct {
				name, csp string
				page      func() string
			}{
				{"html", htmlCSP, func() string { return string(render(t, "html", raw, Options{})) }},
				{"mht", mhtCSP, func() string { return mhtRoot(t, render(t, "mht", raw, Options{})) }},
			} {
				page := v.page()
				frames := checkPage(t, page, v.csp)
				if len(frames) != 1 {
					t.Fatalf("%s: %d frames, want 1", v.name, len(frames))
				}
				top := pageText(page)
				for _, want := range []string{"Mallory <mallory@evil.example>", "victim@example.org", "Salary review", "review.pdf"} {
					if !strings.Contains(top, want) {
						t.Errorf("%s: header block lacks %q", v.name, want)
					}
				}
				if strings.Contains(top, "HR department") {
					t.Errorf("%s: the message's text escaped its frame: %s", v.name, top)
				}
				if h.paints && !strings.Contains(frames[0], "background:#ff0000") {
					t.Errorf("%s: the message's style is not in its frame", v.name)
				}
			}
		})
	}
	// The header fields are the message's too: they stay text.
	raw := []byte("From: \"\\\"></iframe><style>*{display:none}</style>\" <a@example.com>\r\n" +
		"Subject: \"><div class=\"mailfs-head\">From: HR department</div><script>alert(1)</script>\r\n\r\nbody\r\n")
	page := string(render(t, "html", raw, Options{}))
	checkPage(t, page, htmlCSP)
	if !strings.Contains(pageText(page), `"><div class="mailfs-head">From: HR department</div><script>`) {
		t.Errorf("subject not shown as text:\n%s", page)
	}
}

// FuzzHTML checks checkPage's invariants on arbitrary messages and on
// arbitrary HTML bodies of a message from Mallory: the page parses, starts
// with the one header block, carries no markup of the message outside its
// sandboxed frames, and no frame runs or fetches anything.
func FuzzHTML(f *testing.F) {
	for _, h := range hostile {
		f.Add(hostileMessage(h.body, h.paints), h.body)
	}
	for _, name := range []string{"newsletter.eml", "nested-rfc822.eml", "inline-images.eml", "arabic.eml", "alternative.eml"} {
		if b, err := os.ReadFile("testdata/" + name); err == nil {
			f.Add(b, string(b[bytes.Index(b, []byte("\r\n\r\n"))+4:]))
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte, body string) {
		for _, raw := range [][]byte{raw, hostileMessage(body, false)} {
			page, m := writePage(raw, htmlCSP, dataURI)
			if m == nil {
				t.Fatal("the renderer panicked")
			}
			checkPage(t, string(page), htmlCSP)
		}
	})
}
