package render

import (
	"bytes"
	"strings"
	"testing"
)

func sanitized(src string) string {
	m := &message{cids: map[string]*attachment{
		"img1@x": {name: "a.png", ctype: "image/png", data: []byte("\x89PNG\r\n\x1a\n0000")},
	}}
	var b bytes.Buffer
	sanitizeHTML(&b, src, m, dataURI)
	return b.String()
}

func TestSanitizeRemoves(t *testing.T) {
	tests := []struct{ in, bad string }{
		{`<script>alert(1)</script>x`, "alert"},
		{`<SCRIPT SRC=//evil.example/x.js></SCRIPT>`, "evil"},
		{`<img src=x onerror=alert(1)>`, "onerror"},
		{`<p onclick="steal()">x</p>`, "steal"},
		{`<a href="javascript:alert(1)">x</a>`, "javascript"},
		{`<a href=" JaVaScRiPt:alert(1)">x</a>`, "alert"},
		{`<a href="data:text/html,<script>">x</a>`, "data:"},
		{`<iframe src="https://evil.example"></iframe>`, "evil"},
		{`<object data="https://evil.example/x"></object>`, "evil"},
		{`<embed src="https://evil.example/x">`, "evil"},
		{`<form action="https://evil.example"><input name=pw></form>`, "evil"},
		{`<meta http-equiv="refresh" content="0;url=https://evil.example">`, "evil"},
		{`<link rel=stylesheet href="https://evil.example/a.css">`, "evil"},
		{`<base href="https://evil.example/">`, "evil"},
		{`<img src="https://tracker.example/p.gif">`, "tracker"},
		{`<img src="//tracker.example/p.gif">`, "tracker"},
		{`<img srcset="https://evil.example/a.png 2x" src="cid:img1@x">`, "evil"},
		{`<table background="https://evil.example/bg.png"><tr><td>x</td></tr></table>`, "evil"},
		{`<div style="background:url(https://evil.example/a.png)">x</div>`, "url("},
		{`<div style="background:u\72l(https://evil.example/a.png)">x</div>`, "url("},
		{`<style>@import "https://evil.example/a.css";</style>`, "@import"},
		{`<style>div{background-image:image-set("https://evil.example/a.png" 1x)}</style>`, "image-set("},
		{`<style>a{x:1}<\/style><script>alert(1)</script></style>`, "<script"},
		{`<svg><script>alert(1)</script></svg>`, "alert"},
		{`<math><mtext><img src=x onerror=alert(1)></mtext></math>`, "onerror"},
		{`<noscript><img src="https://tracker.example/p.gif"></noscript>`, "tracker"},
		{`<video poster="https://evil.example/p.png"></video>`, "evil"},
		{`<!--[if mso]><img src="https://evil.example/x"><![endif]-->`, "evil"},
		{`<p style="behavior:url(x.htc);-moz-binding:url(x)">x</p>`, "url("},
	}
	for _, tt := range tests {
		out := sanitized(tt.in)
		if strings.Contains(strings.ToLower(out), strings.ToLower(tt.bad)) {
			t.Errorf("sanitize(%q) keeps %q:\n%s", tt.in, tt.bad, out)
		}
	}
}

func TestSanitizeKeeps(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<p>Hello <b>world</b></p>`, `<p>Hello <b>world</b></p>`},
		{`<a href="https://example.com/?a=1&amp;b=2">x</a>`, `href="https://example.com/?a=1&amp;b=2"`},
		{`<a href="mailto:a@example.com">x</a>`, `href="mailto:a@example.com"`},
		{`<a href="#top">x</a>`, `href="#top"`},
		{`<table width="600" cellpadding="0"><tr><td bgcolor="#eee">x</td></tr></table>`, `<td bgcolor="#eee">x</td>`},
		{`<img src="cid:img1@x" width="10" alt="logo">`, `src="data:image/png;base64,`},
		{`<img src="CID:IMG1@X">`, `src="data:image/png;base64,`},
		{`<img src="https://cdn.example/a.jpg" alt="Tulips" width="280" height="180">`, `style="width:280px;height:180px;">Tulips</span>`},
		{`<p style="color:red;font-size:12px">x</p>`, `style="color:red;font-size:12px"`},
		{"<pre>\n\n  indented</pre>", "<pre>\n\n  indented</pre>"}, // the parser eats one newline, the browser the other
		{`<custom-el>text kept</custom-el>`, `text kept`},
		{`<p>a &lt;b&gt; &amp; c</p>`, `a &lt;b&gt; &amp; c`},
	}
	for _, tt := range tests {
		if out := sanitized(tt.in); !strings.Contains(out, tt.want) {
			t.Errorf("sanitize(%q) lacks %q:\n%s", tt.in, tt.want, out)
		}
	}
	if out := sanitized(`<img src="https://t.example/o.gif" width="1" height="1">`); strings.Contains(out, "mailfs-blocked") {
		t.Errorf("tracking pixel left a placeholder: %s", out)
	}
}

func TestHTMLBlocks(t *testing.T) {
	m := &message{cids: map[string]*attachment{}}
	src := `<html><head><title>T</title><style>p{}</style></head><body>
<div style="display:none">preheader</div>
<h1>Title</h1><p>Hello <b>bold</b> and <a href="https://example.com/x">a link</a>.<br>Next line</p>
<ul><li>one</li><li>two</li></ul><ol start="3"><li>three</li></ol>
<blockquote>quoted</blockquote>
<table><tr><td>Item</td><td>Qty</td></tr><tr><td><p>Block cell</p></td></tr></table>
<img src="https://x.example/a.png" alt="Remote pic"><script>bad()</script></body></html>`
	var b bytes.Buffer
	writeBlocksText(&b, htmlBlocks(src, m))
	got := b.String()
	for _, want := range []string{"Title\n=====", "Hello bold and a link <https://example.com/x>.\nNext line",
		"• one\n• two", "3. three", "> quoted", "Item | Qty", "Block cell", "[Remote pic]"} {
		if !strings.Contains(got, want) {
			t.Errorf("text lacks %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{"preheader", "bad()", "p{}"} {
		if strings.Contains(got, bad) {
			t.Errorf("text keeps %q:\n%s", bad, got)
		}
	}
}

func TestLinkify(t *testing.T) {
	sp := linkify("see https://example.com/a_(b). and www.example.org, or mailto:x@example.com!")
	var links []string
	for _, s := range sp {
		if s.href != "" {
			links = append(links, s.href)
		}
	}
	want := []string{"https://example.com/a_(b)", "http://www.example.org", "mailto:x@example.com"}
	if strings.Join(links, " ") != strings.Join(want, " ") {
		t.Errorf("links %q, want %q", links, want)
	}
}
