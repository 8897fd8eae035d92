package render

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The PDF's layout of tables, images, emoji and mixed-direction text,
// checked from outside with poppler's tools.

// renderRaw writes the PDF of raw (with the system fonts) to a file.
func renderRaw(t *testing.T, name string, raw []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name+".pdf")
	if err := os.WriteFile(f, render(t, "pdf", raw, Options{ExtraFonts: systemFonts()}), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// pdfImageSizes lists the images drawn on the pages (pdfimages -list) as
// "width×height".
func pdfImageSizes(t *testing.T, f string) []string {
	var out []string
	for i, l := range strings.Split(run(t, "pdfimages", "-list", f), "\n") {
		fs := strings.Fields(l)
		if i < 2 || len(fs) < 5 {
			continue
		}
		out = append(out, fs[3]+"×"+fs[4])
	}
	return out
}

// Image attachments are shown after the text, each once, scaled to the
// page; an image that the HTML refers to by Content-Location is shown in
// place and not listed.
func TestPDFImageAttachments(t *testing.T) {
	raw := readCorpus(t)["image-attachments.eml"]
	f := renderRaw(t, "images", raw)
	got := strings.Join(pdfImageSizes(t, f), " ")
	if want := "200×60 300×200 900×600 120×80"; got != want {
		t.Errorf("images drawn: %s, want %s (logo in place, then red.png, lake.jpg, green.gif)", got, want)
	}
	txt := run(t, "pdftotext", "-layout", f, "-")
	if strings.Contains(txt, "logo.png") || !strings.Contains(txt, "Attachments (3)") {
		t.Errorf("the logo shown in place must not be listed:\n%s", txt)
	}
	// The large JPEG is scaled down to the column (174 mm): more than its
	// 96 pixels per inch.
	for _, l := range strings.Split(run(t, "pdfimages", "-list", f), "\n") {
		if fs := strings.Fields(l); len(fs) > 12 && fs[3] == "900" {
			if ppi, _ := strconv.Atoi(fs[12]); ppi < 125 {
				t.Errorf("lake.jpg drawn at %d ppi, want it scaled to the column (about 131)", ppi)
			}
		}
	}
}

// The HTML view resolves Content-Location references too (the shared
// parse model): the logo is shown from a data: URI, not blocked.
func TestHTMLContentLocation(t *testing.T) {
	page := string(render(t, "html", readCorpus(t)["image-attachments.eml"], Options{}))
	if !strings.Contains(page, "data:image/png;base64,") {
		t.Error("the logo referred to by Content-Location is not shown in the HTML view")
	}
}

// vLine reports whether a vertical line is drawn at some pixel column
// between x0 and x1 (points) over the whole height from y0 to y1.
func vLine(img image.Image, x0, x1, y0, y1 float64) bool {
	for x := int(x0 * ppmScale); x <= int(x1*ppmScale); x++ {
		all := true
		for y := int(y0 * ppmScale); y <= int(y1*ppmScale); y++ {
			if g, _, _, _ := img.At(x, y).RGBA(); g > 0xE800 {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// HTML tables are laid out as tables: a newsletter's two columns side by
// side (without lines, as the message has none), a bordered data table
// in columns with its borders, its cells wrapping; nothing is flattened
// to "a | b".
func TestPDFTables(t *testing.T) {
	f := renderRaw(t, "columns", readCorpus(t)["newsletter-columns.eml"])
	txt := run(t, "pdftotext", f, "-")
	if strings.Contains(txt, " | ") {
		t.Errorf("table flattened:\n%s", txt)
	}
	ws := wordBoxes(t, f)
	garden, kitchen := findWord(t, ws, "Garden"), findWord(t, ws, "Kitchen")
	if abs(garden.yMin-kitchen.yMin) > 1 || kitchen.xMin < garden.xMax+100 {
		t.Errorf("the two columns are not side by side: Garden %+v, Kitchen %+v", garden, kitchen)
	}
	// Both columns wrap within their half of the page.
	shed, cream := findWord(t, ws, "shed."), findWord(t, ws, "cream.")
	if shed.xMax > kitchen.xMin || cream.xMin < kitchen.xMin-1 || shed.yMin <= garden.yMin+20 {
		t.Errorf("columns do not wrap in place: shed. %+v, cream. %+v", shed, cream)
	}
	img := pagePixels(t, f)
	if vLine(img, garden.xMax+2, kitchen.xMin-2, kitchen.yMin, shed.yMax) {
		t.Error("a line is drawn between the newsletter's columns, which have no border")
	}
	// The order list: Item | Qty | Price columns, bordered; the long item
	// wraps... or not, but stays left of the Qty column.
	item, qty, price := findWord(t, ws, "Item"), findWord(t, ws, "Qty"), findWord(t, ws, "Price")
	wild, garlic := findWord(t, ws, "Wild"), findWord(t, ws, "2.50")
	if abs(item.yMin-qty.yMin) > 1 || abs(qty.yMin-price.yMin) > 1 || qty.xMin < item.xMax+50 || garlic.xMin < qty.xMax {
		t.Errorf("the order list is not in columns: Item %+v Qty %+v Price %+v 2.50 %+v", item, qty, price, garlic)
	}
	if !vLine(img, qty.xMin-5, qty.xMin-0.2, wild.yMin, wild.yMax) || !vLine(img, price.xMin-5, price.xMin-0.2, wild.yMin, wild.yMax) {
		t.Error("no cell borders in the bordered table")
	}
}

// A table row taller than a page: each column flows over the pages,
// side by side, and every page has its one page number.
func TestPDFTallRow(t *testing.T) {
	left := strings.Repeat("<p>Left column text that goes on and on, paragraph after paragraph.</p>", 120)
	right := strings.Repeat("<p>Right column words beside it.</p>", 90)
	raw := []byte("From: a@example.com\r\nSubject: Tall row\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		"<table><tr><td>" + left + "</td><td>" + right + "</td></tr></table><p>After the table.</p>")
	f := renderRaw(t, "tall", raw)
	pages := 0
	for _, l := range strings.Split(run(t, "pdfinfo", f), "\n") {
		if fs := strings.Fields(l); len(fs) == 2 && fs[0] == "Pages:" {
			pages, _ = strconv.Atoi(fs[1])
		}
	}
	if pages < 3 {
		t.Fatalf("%d pages, want at least 3", pages)
	}
	p2 := run(t, "pdftotext", "-layout", "-f", "2", "-l", "2", f, "-")
	if !strings.Contains(p2, "Left column") || !strings.Contains(p2, "Right column") {
		t.Errorf("page 2 does not hold both columns:\n%s", p2)
	}
	last := run(t, "pdftotext", "-f", strconv.Itoa(pages), "-l", strconv.Itoa(pages), f, "-")
	if !strings.Contains(last, "After the table.") || strings.Contains(last, "Right column") {
		t.Errorf("the text after the table is not below the row on the last page:\n%s", last)
	}
	for p := 1; p <= pages; p++ {
		txt := strings.Fields(run(t, "pdftotext", "-f", strconv.Itoa(p), "-l", strconv.Itoa(p), f, "-"))
		if n := strconv.Itoa(p); len(txt) == 0 || txt[len(txt)-1] != n {
			t.Errorf("page %d does not end with its number", p)
		}
	}
}

// emojiFont is the path of the monochrome emoji font SystemFonts uses.
func emojiFont(t *testing.T) {
	t.Helper()
	if !fontFor(systemFonts(), '😀') {
		if os.Getenv("CI") == "true" {
			t.Fatal("no emoji font: fonts-symbola is required in CI")
		}
		t.Skip("no emoji font installed (fonts-symbola or fonts-noto-core)")
	}
}

// Emoji and other characters above U+FFFF are drawn with the system's
// emoji font and are themselves in the text layer and the title: no box,
// no U+FFFD, no Private Use Area code.
func TestPDFEmoji(t *testing.T) {
	emojiFont(t)
	f := renderRaw(t, "emoji", readCorpus(t)["emoji.eml"])
	fonts := run(t, "pdffonts", f)
	if !strings.Contains(fonts, "+Symbola") && !strings.Contains(fonts, "+NotoSansSymbols2") {
		t.Errorf("no emoji font embedded:\n%s", fonts)
	}
	// Every emoji from Symbola, none from DejaVu's few emoticons (😄).
	if strings.Contains(fonts, "+Symbola") && strings.Contains(fonts, "DejaVu") {
		t.Errorf("emoji drawn from two fonts:\n%s", fonts)
	}
	txt := run(t, "pdftotext", f, "-")
	for _, s := range []string{"Party tonight 🎉🍕 at 8", "Hi all 👋", "snacks 🍕🍺", "mood 😄", "𝔸𝕓𝕔", "Gothic 𐌰 letter", "Eve 🌟"} {
		if !strings.Contains(txt, s) {
			t.Errorf("text layer lacks %q:\n%s", s, txt)
		}
	}
	if strings.ContainsAny(txt, "\ufffd") || strings.ContainsFunc(txt, func(r rune) bool { return r >= puaFirst && r <= puaLast }) {
		t.Errorf("replacement or private characters in the text layer:\n%s", txt)
	}
	if strings.Contains(txt, string(tofu)) {
		t.Errorf("boxes drawn:\n%s", txt)
	}
	if info := run(t, "pdfinfo", f); !strings.Contains(info, "Party tonight 🎉🍕 at 8") {
		t.Errorf("title:\n%s", info)
	}
}

// Characters above U+FFFF that are no emoji, mathematical letters and
// historic scripts, are drawn with fonts-noto-core's fonts (the Gothic,
// Linear B and Deseret ones embedded), never as boxes, and are themselves
// in the text layer and the title. Skin tone modifiers, which a
// monochrome font draws as swatches, are left out; the emoji stay.
func TestPDFHistoricScripts(t *testing.T) {
	for _, r := range []rune{'𐌰', '𐀀', '𐐀', 'ᚠ', '𝐀'} {
		if !fontFor(systemFonts(), r) {
			if os.Getenv("CI") == "true" {
				t.Fatalf("no font for %U: fonts-noto-core is required in CI", r)
			}
			t.Skipf("no font for %U installed (fonts-noto-core)", r)
		}
	}
	f := renderRaw(t, "historic", readCorpus(t)["historic-scripts.eml"])
	fonts := run(t, "pdffonts", f)
	for _, name := range []string{"+NotoSansGothic-Regular", "+NotoSansLinearB-Regular", "+NotoSansDeseret-Regular", "+NotoSansRunic-Regular"} {
		if !strings.Contains(fonts, name) {
			t.Errorf("%s not embedded:\n%s", name, fonts)
		}
	}
	txt := run(t, "pdftotext", f, "-")
	for _, s := range []string{"Gothic: 𐌰𐌱𐌲𐌳 𐍅𐌰𐍄𐍉", "Old Italic: 𐌀𐌁𐌂𐌃", "Linear B: 𐀀𐀁𐀂𐀃", "Math: 𝐀𝐁𝐂 𝔸𝔹ℂ 𝒜𝓑",
		"Deseret: 𐐀𐐁𐐂", "Runic: ᚠᚢᚦᚨ", "Waves: 👋 👋 👍", "Family: 👨👩👧 heart: ❤ end"} {
		if !strings.Contains(txt, s) {
			t.Errorf("text layer lacks %q:\n%s", s, txt)
		}
	}
	if strings.ContainsFunc(txt, func(r rune) bool { return r == tofu || r == 0xFFFD || isSkinTone(r) || r >= puaFirst && r <= puaLast }) {
		t.Errorf("box, replacement, skin tone or private character in the text layer:\n%s", txt)
	}
	if info := run(t, "pdfinfo", f); !strings.Contains(info, "Gothic 𐌰𐌱𐌲 and math 𝐀𝔸") {
		t.Errorf("title:\n%s", info)
	}
}

// Mixed-direction lines are drawn in the order of the Unicode bidi
// algorithm, and Arabic is in the text layer as its letters in logical
// order (lam-alef ligature included), not as presentation forms.
func TestPDFBidi(t *testing.T) {
	if !fontFor(systemFonts(), 'ع') || !fontFor(systemFonts(), 'ש') {
		if os.Getenv("CI") == "true" {
			t.Fatal("no Hebrew or Arabic font: fonts-dejavu-core is required in CI")
		}
		t.Skip("no Hebrew or Arabic font installed")
	}
	f := renderRaw(t, "bidi", readCorpus(t)["bidi-mixed.eml"])
	txt := run(t, "pdftotext", f, "-")
	for _, s := range []string{"السلام عليكم", "لا شكرا", "تم تأكيد حجزك في فندق", "שלום עולם", "הפגישה נדחתה ליום ראשון"} {
		if !strings.Contains(txt, s) {
			t.Errorf("text layer lacks %q:\n%s", s, txt)
		}
	}
	if strings.ContainsFunc(txt, func(r rune) bool { return r >= 0xFB50 && r <= 0xFDFF || r >= 0xFE70 && r <= 0xFEFF }) {
		t.Errorf("presentation forms in the text layer:\n%s", txt)
	}
	// "Hebrew: שלום עולם 123 and": the number belongs to the Hebrew run
	// (UAX #9 W7, I1) and is drawn at its left end; שלום, the first
	// Hebrew word, rightmost. poppler gives RTL words in drawing order.
	ws := wordBoxes(t, f)
	shalom, olam, n := findWord(t, ws, "םולש"), findWord(t, ws, "םלוע"), findWord(t, ws, "123")
	if !(n.xMax < olam.xMin && olam.xMax < shalom.xMin) {
		t.Errorf("Hebrew line drawn out of bidi order: 123 %+v, עולם %+v, שלום %+v", n, olam, shalom)
	}
}

// Widths the message gives its tables and cells, in percent and in
// pixels, as attributes and as CSS, are kept: a narrow side column beside
// a wide story, and fixed-width columns of short words.
func TestPDFTableWidths(t *testing.T) {
	long := strings.Repeat("words that wrap in their column ", 12)
	raw := "From: a@example.com\r\nTo: b@example.org\r\nSubject: widths\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/html; charset=utf-8\r\n\r\n" +
		`<table width="100%"><tr><td width="25%">Menu ` + long + `</td><td style="width:75%">Story ` + long + `</td></tr></table>` +
		`<table><tr><td style="width:150px">Left</td><td width="150">Right</td><td>End</td></tr></table>` +
		`<table style="width:400px"><tr><td>Narrow</td><td>Wide</td></tr></table>`
	f := renderRaw(t, "widths", []byte(raw))
	ws := wordBoxes(t, f)
	// The column is 174 mm (493 pt) wide from 18 mm (51 pt); a cell's
	// text starts 1.5 mm (4.25 pt) in.
	const left, col, pad = 51.0, 493.2, 4.25
	for _, c := range []struct {
		word string
		x    float64
	}{
		{"Story", left + col/4 + pad},
		{"Right", left + 150*0.75 + pad}, // 150 px = 112.5 pt
		{"End", left + 300*0.75 + pad},
	} {
		if w := findWord(t, ws, c.word); abs(w.xMin-c.x) > 2 {
			t.Errorf("%s starts at %.1f pt, want %.1f", c.word, w.xMin, c.x)
		}
	}
	// The 400 px (300 pt) table shares what its words leave over: Wide
	// starts well right of Narrow's end, the table ends at 300 pt.
	if narrow, wide := findWord(t, ws, "Narrow"), findWord(t, ws, "Wide"); wide.xMin < narrow.xMax+60 || wide.xMax > left+300 {
		t.Errorf("the 400 px table is not 400 px wide: Narrow %+v, Wide %+v", narrow, wide)
	}
	menu, story := findWord(t, ws, "Menu"), findWord(t, ws, "Story")
	if abs(menu.yMin-story.yMin) > 1 {
		t.Errorf("Menu and Story are not side by side: %+v %+v", menu, story)
	}
}

// Cell backgrounds (bgcolor, background-color, background; hex, rgb()
// and names; of cells, rows and table) are painted behind the whole cell,
// below a shorter cell's text too, with the text on top; text on a dark
// background is drawn light; cells without one stay white. Percent widths
// hold (35% beside 65%).
func TestPDFCellBackgrounds(t *testing.T) {
	f := renderRaw(t, "colours", readCorpus(t)["newsletter-colours.eml"])
	ws := wordBoxes(t, f)
	out := filepath.Join(t.TempDir(), "page")
	run(t, "pdftoppm", "-r", "72", "-png", "-f", "1", "-l", "1", "-singlefile", f, out) // 1 pixel a point
	r, err := os.Open(out + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img, err := png.Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	at := func(x, y float64) [3]int {
		c := color.RGBAModel.Convert(img.At(int(x), int(y))).(color.RGBA)
		return [3]int{int(c.R), int(c.G), int(c.B)}
	}
	near := func(a, b [3]int) bool {
		return abs(float64(a[0]-b[0])) < 12 && abs(float64(a[1]-b[1])) < 12 && abs(float64(a[2]-b[2])) < 12
	}
	heads := []wordBox{}
	for _, w := range ws {
		if w.text == "Harbour" {
			heads = append(heads, w)
		}
	}
	opening, saturday, fresh, mackerel := findWord(t, ws, "Opening"), findWord(t, ws, "Saturday"), findWord(t, ws, "Fresh"), findWord(t, ws, "Mackerel")
	price, stall, signed := findWord(t, ws, "9.50"), findWord(t, ws, "Stall"), findWord(t, ws, "signed")
	mid := func(w wordBox) float64 { return (w.yMin + w.yMax) / 2 }
	for _, c := range []struct {
		what string
		x, y float64
		want [3]int
	}{
		{"the title cell (background-color)", heads[len(heads)-1].xMin - 2, mid(heads[len(heads)-1]), [3]int{0x1a, 0x4d, 0x80}},
		{"the side cell (background)", opening.xMin - 2, mid(opening), [3]int{0xff, 0xf3, 0xcd}},
		{"the side cell below its text", saturday.xMin + 5, mid(mackerel), [3]int{0xff, 0xf3, 0xcd}},
		{"the story cell (none)", fresh.xMin - 2, mid(fresh), [3]int{255, 255, 255}},
		{"the price cell (bgcolor name)", price.xMin - 2, mid(price), [3]int{255, 182, 193}},
		{"the head row (rgb())", stall.xMin - 2, mid(stall), [3]int{220, 237, 200}},
		{"the footer (bgcolor)", signed.xMin - 3, mid(signed), [3]int{0x33, 0x33, 0x33}},
	} {
		if got := at(c.x, c.y); !near(got, c.want) {
			t.Errorf("%s at (%.0f, %.0f): colour %v, want %v", c.what, c.x, c.y, got, c.want)
		}
	}
	// The footer's words are drawn light on the dark background.
	light := 0
	for x := signed.xMin; x < signed.xMax; x++ {
		for y := signed.yMin; y < signed.yMax; y++ {
			if c := at(x, y); c[0] > 200 {
				light++
			}
		}
	}
	if light < 10 {
		t.Errorf("the footer's text is not light on its dark background (%d light pixels)", light)
	}
	if want := 51 + 0.35*493.2 + 4.25; abs(fresh.xMin-want) > 2 {
		t.Errorf("the 65%% column starts at %.1f pt, want %.1f", fresh.xMin, want)
	}
}
