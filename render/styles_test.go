package render

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The PDF's text styles, checked from outside: pdffonts for the faces,
// pdftotext -bbox for positions, pdftoppm pixels for the lines drawn.

type wordBox struct {
	text                   string
	xMin, yMin, xMax, yMax float64 // points, from the top left
}

var bboxRE = regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)

// wordBoxes returns the words of a PDF's first page with their boxes.
func wordBoxes(t *testing.T, f string) []wordBox {
	out := filepath.Join(t.TempDir(), "bbox.html")
	run(t, "pdftotext", "-bbox", "-f", "1", "-l", "1", f, out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var ws []wordBox
	for _, m := range bboxRE.FindAllStringSubmatch(string(b), -1) {
		w := wordBox{text: m[5]}
		for i, p := range []*float64{&w.xMin, &w.yMin, &w.xMax, &w.yMax} {
			*p, _ = strconv.ParseFloat(m[i+1], 64)
		}
		ws = append(ws, w)
	}
	return ws
}

func findWord(t *testing.T, ws []wordBox, text string) wordBox {
	t.Helper()
	for _, w := range ws {
		if w.text == text {
			return w
		}
	}
	t.Fatalf("no word %q on the page", text)
	return wordBox{}
}

func renderFile(t *testing.T, name string) string {
	raw := readCorpus(t)[name]
	f := filepath.Join(t.TempDir(), name+".pdf")
	if err := os.WriteFile(f, render(t, "pdf", raw, Options{}), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestPDFStyles(t *testing.T) {
	tool(t, "pdffonts")
	tool(t, "pdftoppm")
	f := renderFile(t, "styles.eml")
	fonts := run(t, "pdffonts", f)
	for _, face := range []string{"+Go-Regular ", "+Go-Bold ", "+Go-Italic ", "+Go-BoldItalic ", "+Go-Mono "} {
		if !strings.Contains(fonts, face) {
			t.Errorf("no %s font:\n%s", strings.Trim(face, "+ "), fonts)
		}
	}
	if text := run(t, "pdftotext", f, "-"); strings.Contains(text, "Preheader") || !strings.Contains(text, "Courier styled") {
		t.Errorf("display:none content shown, or text missing:\n%s", text)
	}
	ws := wordBoxes(t, f)

	// Superscript above and subscript below the words beside them (their
	// middles a point or more apart), and smaller.
	is := findWord(t, ws, "is")
	up, down := findWord(t, ws, "raised"), findWord(t, ws, "lowered")
	h, mid := is.yMax-is.yMin, (is.yMin+is.yMax)/2
	if !((up.yMin+up.yMax)/2 < mid-1 && up.yMax-up.yMin < 0.85*h) {
		t.Errorf("superscript %+v beside %+v", up, is)
	}
	if !((down.yMin+down.yMax)/2 > mid+1 && down.yMax-down.yMin < 0.85*h) {
		t.Errorf("subscript %+v beside %+v", down, is)
	}

	// A line under "underlined", one through "struck" and "deleted", none
	// under or through "Some".
	png := pagePixels(t, f)
	if !lineUnder(png, findWord(t, ws, "underlined")) || lineUnder(png, findWord(t, ws, "Some")) {
		t.Error("underline missing, or drawn where none is")
	}
	for _, w := range []string{"struck", "deleted"} {
		if !lineThrough(png, findWord(t, ws, w)) {
			t.Errorf("%q is not struck through", w)
		}
	}
	if lineThrough(png, findWord(t, ws, "text,")) {
		t.Error("strikeout on plain text")
	}
}

// TestPDFPlainTextTable: columns of a plain text table line up, as they do
// in a monospace face only.
func TestPDFPlainTextTable(t *testing.T) {
	tool(t, "pdffonts")
	f := renderFile(t, "plain-table.eml")
	if fonts := run(t, "pdffonts", f); !strings.Contains(fonts, "+Go-Mono ") {
		t.Errorf("no monospace font:\n%s", fonts)
	}
	ws := wordBoxes(t, f)
	qty, three, twelve := findWord(t, ws, "Qty"), findWord(t, ws, "3"), findWord(t, ws, "12")
	price, p1 := findWord(t, ws, "Price"), findWord(t, ws, "1.20")
	if d := max(abs(qty.xMin-three.xMin), abs(qty.xMin-twelve.xMin), abs(price.xMin-p1.xMin)); d > 0.2 {
		t.Errorf("columns misaligned by %.2f pt: %+v %+v %+v / %+v %+v", d, qty, three, twelve, price, p1)
	}
	if hello := findWord(t, ws, "Hello"); hello.xMax-hello.xMin > 5*0.9*10.5*0.6+1 {
		t.Errorf("ordinary text in monospace: %+v", hello)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

const ppmScale = 2.0 // pixels per point at -r 144

// pagePixels renders the first page in grey at 144 dpi.
func pagePixels(t *testing.T, f string) image.Image {
	out := filepath.Join(t.TempDir(), "page")
	run(t, "pdftoppm", "-r", "144", "-gray", "-png", "-f", "1", "-l", "1", "-singlefile", f, out)
	r, err := os.Open(out + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img, err := png.Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// solidRow reports whether some pixel row between y0 and y1 (points) is
// dark across nine tenths of the word's width.
func solidRow(img image.Image, w wordBox, y0, y1 float64) bool {
	x0, x1 := int((w.xMin+1)*ppmScale), int((w.xMax-1)*ppmScale)
	for y := int(y0 * ppmScale); y <= int(y1*ppmScale); y++ {
		dark := 0
		for x := x0; x < x1; x++ {
			if g, _, _, _ := img.At(x, y).RGBA(); g < 0x8000 {
				dark++
			}
		}
		if float64(dark) >= 0.9*float64(x1-x0) {
			return true
		}
	}
	return false
}

// lineUnder looks just below the baseline (poppler's box ends below the
// descenders, the baseline is about a fifth of the box above its bottom).
func lineUnder(img image.Image, w wordBox) bool {
	h := w.yMax - w.yMin
	return solidRow(img, w, w.yMax-0.3*h, w.yMax)
}

// lineThrough looks in the middle band of the letters.
func lineThrough(img image.Image, w wordBox) bool {
	h := w.yMax - w.yMin
	return solidRow(img, w, w.yMin+0.35*h, w.yMin+0.7*h)
}

// TestPDFLeavesFontsAlone: fpdf writes into the font bytes it is given;
// render must hand it copies, or the shared fonts change with every
// document and the next PDF comes out different.
func TestPDFLeavesFontsAlone(t *testing.T) {
	fonts := systemFonts()
	shared := [][]byte{goRegular().ttf, goBold().ttf, goItalic().ttf, goBoldItalic().ttf, goMono().ttf, goMonoBold().ttf}
	shared = append(shared, fonts...)
	var before [][]byte
	for _, b := range shared {
		before = append(before, bytes.Clone(b))
	}
	corpus := readCorpus(t)
	first := render(t, "pdf", corpus["plain-table.eml"], Options{ExtraFonts: fonts})
	for _, name := range []string{"styles.eml", "japanese-iso2022jp.eml", "chinese-gb2312.eml", "plain.eml"} {
		render(t, "pdf", corpus[name], Options{ExtraFonts: fonts})
	}
	for i := range shared {
		if !bytes.Equal(shared[i], before[i]) {
			t.Errorf("font %d was modified by rendering", i)
		}
	}
	if again := render(t, "pdf", corpus["plain-table.eml"], Options{ExtraFonts: fonts}); !bytes.Equal(first, again) {
		t.Error("plain-table.eml renders differently after other messages")
	}
}
