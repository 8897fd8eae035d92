package render

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromium runs headless Chromium on a file with a profile of its own and
// returns its standard output. --no-sandbox is for running as root (CI).
// Chromium draws a sandboxed frame in a process of its own, and headless
// --screenshot does not wait for it: about one picture in four showed an
// empty frame. Keeping such frames in the page's process
// (IsolateSandboxedIframes off) changes no layout and makes the pictures
// whole.
func chromium(t *testing.T, file string, args ...string) string {
	t.Helper()
	exe := tool(t, "chromium")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
		"--disable-extensions", "--disable-background-networking", "--disable-features=IsolateSandboxedIframes",
		"--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.CommandContext(ctx, exe, append(args, "file://"+file)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

// screenshot renders a file in a window of w×h pixels. With RENDER_DUMP
// set, the picture is kept there as NAME.png for looking at it.
func screenshot(t *testing.T, file string, w, h int, name string) image.Image {
	t.Helper()
	shot := filepath.Join(t.TempDir(), "shot.png")
	chromium(t, file, "--screenshot="+shot, fmt.Sprintf("--window-size=%d,%d", w, h))
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("RENDER_DUMP"); dir != "" {
		os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// count returns how many pixels of the rows [y0, y1) match.
func count(img image.Image, y0, y1 int, match func(r, g, b uint8) bool) int {
	n := 0
	bd := img.Bounds()
	for y := max(y0, bd.Min.Y); y < min(y1, bd.Max.Y); y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			if match(c.R, c.G, c.B) {
				n++
			}
		}
	}
	return n
}

func isRed(r, g, b uint8) bool    { return r > 200 && g < 80 && b < 80 }
func isHeadBG(r, g, b uint8) bool { return r == 0xf3 && g == 0xf4 && b == 0xf6 } // .mailfs-head
func isDark(r, g, b uint8) bool   { return int(r)+int(g)+int(b) < 250 }
func isGreen(r, g, b uint8) bool  { return r < 60 && g > 120 && b < 60 }

// headBand is where the header block of a hostile message is drawn in a
// 1000 pixels wide window: subject, three rows and one attachment.
const headBand = 150

// checkHeaderShown asserts that the top of a screenshot is mailfs's header
// block: its background, no red of the message, dark text (the subject).
func checkHeaderShown(t *testing.T, img image.Image) {
	t.Helper()
	w := img.Bounds().Dx()
	if n := count(img, 0, headBand, isRed); n > 0 {
		t.Errorf("%d red pixels of the message over the header block", n)
	}
	if n := count(img, 0, headBand, isHeadBG); n < w*headBand*3/4 {
		t.Errorf("header background on %d pixels of %d", n, w*headBand)
	}
	if n := count(img, 10, 40, isDark); n < 100 {
		t.Errorf("no subject text in the header block (%d dark pixels)", n)
	}
}

// TestHostileChromium opens each hostile message's .html in Chromium: the
// header block is on top, drawn as mailfs draws it, and the message's red
// stays in its frame below.
func TestHostileChromium(t *testing.T) {
	dir := t.TempDir()
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			f := filepath.Join(dir, h.name+".html")
			if err := os.WriteFile(f, render(t, "html", hostileMessage(h.body, h.paints), Options{}), 0o644); err != nil {
				t.Fatal(err)
			}
			img := screenshot(t, f, 1000, 700, "hostile-"+h.name)
			checkHeaderShown(t, img)
			if n := count(img, headBand+60, 700, isRed); h.paints && n < 1000*300 {
				t.Errorf("the message's body is not shown below the header (%d red pixels)", n)
			}
		})
	}
}

// chromiumMessage has an HTML body in several scripts with an inline
// image (green, 160×80) by cid:, and a hostile style.
func chromiumMessage(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 160, 80))
	for i := range img.Pix {
		img.Pix[i] = []byte{0x20, 0xa0, 0x30, 0xff}[i%4]
	}
	var p bytes.Buffer
	if err := png.Encode(&p, img); err != nil {
		t.Fatal(err)
	}
	return []byte("From: Zoë Müller <zoe@example.ch>\r\nTo: team@example.org\r\nSubject: Grüße aus Zürich\r\n" +
		"Date: Mon, 8 Apr 2024 10:00:00 +0200\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=R\r\n\r\n" +
		"--R\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>.mailfs-head{display:none}</style></head><body>" +
		"<p>Liebe Grüße vom Zürichsee. Привет из Цюриха. 来自苏黎世的问候。</p><p><img src=\"cid:lake@example.ch\" width=160 height=80 alt=lake></p></body></html>\r\n" +
		"--R\r\nContent-Type: image/png\r\nContent-ID: <lake@example.ch>\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString(p.Bytes()) + "\r\n--R--\r\n")
}

// TestMHTChromium opens an .mht in Chromium: the archive is read (the DOM
// is mailfs's page with the message's words), the header block is on top
// and the image, a part of its own, is drawn inside the body frame.
func TestMHTChromium(t *testing.T) {
	raw := chromiumMessage(t)
	mht := render(t, "mht", raw, Options{})
	if bytes.Contains(mht, []byte("data:image/")) {
		t.Fatal("the image is a data: URI, not a part")
	}
	f := filepath.Join(t.TempDir(), "message.mht")
	if err := os.WriteFile(f, mht, 0o644); err != nil {
		t.Fatal(err)
	}
	dom := chromium(t, f, "--dump-dom")
	for _, want := range []string{`<div class="mailfs-head">`, `<div class="mailfs-subject">Grüße aus Zürich</div>`,
		`Zoë Müller &lt;zoe@example.ch&gt;`, `<iframe class="mailfs-frame"`, "Liebe Grüße vom Zürichsee", "Привет из Цюриха", "来自苏黎世的问候"} {
		if !strings.Contains(dom, want) {
			t.Errorf("Chromium's DOM of the .mht lacks %q:\n%.3000s", want, dom)
		}
	}
	img := screenshot(t, f, 1000, 600, "mht")
	if n := count(img, 0, 100, isHeadBG); n < 1000*100*3/4 {
		t.Errorf("header background on %d pixels", n)
	}
	if n := count(img, 100, 600, isGreen); n < 160*80*9/10 {
		t.Errorf("the image part is not drawn (%d green pixels)", n)
	}
	if n := count(img, 130, 600, isDark); n < 200 {
		t.Errorf("no body text drawn (%d dark pixels)", n)
	}
	// The same message as .html draws the same page.
	hf := filepath.Join(t.TempDir(), "message.html")
	os.WriteFile(hf, render(t, "html", raw, Options{}), 0o644)
	if n := count(screenshot(t, hf, 1000, 600, "mht-as-html"), 100, 600, isGreen); n < 160*80*9/10 {
		t.Errorf("the .html does not draw the image (%d green pixels)", n)
	}
}
