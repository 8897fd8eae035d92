package render

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif" // decoders for image.DecodeConfig and the PNG conversion
	_ "image/jpeg"
	"image/png"
	"strconv"
	"strings"

	"github.com/go-pdf/fpdf"
	_ "golang.org/x/image/webp"
)

// This file lays out the parts of a message on the PDF pages.

func (d *pdfDoc) message(m *message) {
	showMessage(d, m, "embedded as "+emlName)
}

func (d *pdfDoc) inlineImage(a *attachment) { d.image(a, d.left) }

func (d *pdfDoc) headerBlock(h header) {
	subject, cutSubject := shortenField(h.Subject)
	if subject == "" {
		subject = "(no subject)"
	}
	d.para([]span{{text: subject}}, textStyle{size: 15, lineH: 7, bold: true, color: [3]int{17, 17, 17}, ltr: true}, d.left, 0)
	if cutSubject {
		d.shortenedNote("Subject", h.Subject, d.left)
	}
	d.skip(1.5)
	label := textStyle{size: 9, lineH: 4.8, bold: true, color: grayText}
	value := textStyle{size: 9.5, lineH: 4.8, color: bodyStyle.color, ltr: true}
	for _, f := range headerFields(h) {
		if f.label == "Subject" {
			continue
		}
		d.need(label.lineH)
		d.para([]span{{text: f.label}}, label, d.left, 0)
		d.y -= label.lineH
		v, cut := shortenField(f.value)
		d.para([]span{{text: v}}, value, d.left+17, 0)
		if cut {
			d.shortenedNote(f.label, f.value, d.left+17)
		}
	}
	d.skip(1.5)
	d.rule(barGray)
	d.skip(2.5)
}

func (d *pdfDoc) shortenedNote(label, full string, x float64) {
	d.para([]span{{text: shortenedNote(label, full, "the embedded "+emlName)}},
		textStyle{size: 8, lineH: 4.2, color: grayText}, x, 0)
}

var headingSize = [7]float64{0, 16, 14, 12.5, 11.5, 11, 11}

func (d *pdfDoc) blocks(bs []block) {
	saved := d.bars
	defer func() { d.bars = saved }()
	for _, b := range bs {
		d.bars = saved
		x := d.left + float64(min(b.indent, 8))*6
		for q := 0; q < min(b.quote, 8); q++ {
			d.bars = append(d.bars[:len(d.bars):len(d.bars)], bar{x: x + 1, color: barGray})
			x += 4.5
		}
		st := blockStyle(b)
		switch b.kind {
		case bRule:
			d.need(3)
			d.f.SetDrawColor(barGray[0], barGray[1], barGray[2])
			d.f.SetLineWidth(0.2)
			d.f.Line(x, d.y+1.5, d.right, d.y+1.5)
			d.skip(3)
		case bImage:
			d.image(b.img, x)
		case bTable:
			d.table(b, x)
		case bHeading:
			d.skip(1.5)
			d.para(b.spans, st, x, 0)
		default:
			if len(b.spans) == 0 {
				d.need(st.lineH)
				d.drawBars(st.lineH)
				d.y += st.lineH
				continue
			}
			if b.bullet != "" {
				d.need(st.lineH)
				d.text(d.reg, st, span{}, b.bullet, x-5, 4)
			}
			d.para(b.spans, st, x, 0)
		}
		if b.space {
			d.skip(2.5)
		}
	}
}

// blockStyle is the text style of a block's paragraphs.
func blockStyle(b block) textStyle {
	st := bodyStyle
	if b.quote > 0 {
		st.color = quoteColor
	}
	if b.kind == bHeading {
		st.size, st.bold = headingSize[min(max(b.level, 1), 6)], true
		st.lineH = st.size * 0.5
	}
	return st
}

func (d *pdfDoc) note(text string) {
	saved := d.bars
	d.bars = append(d.bars[:len(d.bars):len(d.bars)], bar{x: d.left + 1, color: barAmber})
	d.skip(1)
	st := textStyle{size: 9.5, lineH: 4.8, color: bodyStyle.color}
	d.para(linkify(text), st, d.left+5, 0)
	d.bars = saved
	d.skip(3)
}

func (d *pdfDoc) nested(m *message) {
	d.skip(3)
	d.need(14)
	label := []span{{text: "ATTACHED MESSAGE", bold: true}}
	if name := d.msgNames[m]; name != "" {
		label = append(label, span{text: "   embedded as " + name})
	}
	d.para(label, textStyle{size: 8, lineH: 4, color: grayText}, d.left, 0)
	d.skip(1)
	savedBars, savedLeft := d.bars, d.left
	d.bars = append(d.bars[:len(d.bars):len(d.bars)], bar{x: d.left + 1, color: barGray})
	d.left += 5
	d.message(m)
	d.bars, d.left = savedBars, savedLeft
	d.skip(3)
}

func (d *pdfDoc) attachmentList(atts []*attachment) {
	if len(atts) == 0 {
		return
	}
	d.skip(3)
	d.need(12)
	d.para([]span{{text: "Attachments (" + strconv.Itoa(len(atts)) + ")"}}, textStyle{size: 11, lineH: 5.5, bold: true, color: bodyStyle.color}, d.left, 0)
	st := bodyStyle
	st.right = false
	for _, a := range atts {
		d.need(st.lineH)
		d.text(d.reg, st, span{}, "•", d.left+1, 3)
		name := d.attNames[a]
		if name == "" {
			name = a.name
		}
		d.para([]span{{text: name, bold: true}, {text: "   " + a.ctype + ", " + formatSize(len(a.data))}}, st, d.left+5, 0)
	}
	// Then the pictures among them, as a mail client shows them below a
	// message: those the body did not show already, each under its name.
	for _, a := range atts {
		if !strings.HasPrefix(a.ctype, "image/") || imageType(a.data) == "" || d.shown[a] {
			continue
		}
		im := d.registerImage(a)
		w, h := d.imageSize(im, d.left)
		if !im.ok || w < 1 || h < 1 {
			continue
		}
		d.skip(3)
		d.need(4.5 + h) // the name stays with its picture
		name := d.attNames[a]
		if name == "" {
			name = a.name
		}
		d.para([]span{{text: name}}, textStyle{size: 8.5, lineH: 4.5, color: grayText}, d.left, 0)
		d.image(a, d.left)
	}
}

type pdfImage struct {
	name string
	w, h int // pixels
	ok   bool
}

// image draws an inline image at 96 dpi, scaled down to fit the column and
// the page; images fpdf cannot read are converted to PNG first, and
// unreadable ones leave their name.
func (d *pdfDoc) image(a *attachment, x float64) {
	im := d.registerImage(a)
	if !im.ok {
		d.para([]span{{text: "[image: " + a.name + "]"}}, textStyle{size: 9, lineH: 4.5, color: grayText}, x, 0)
		return
	}
	w, h := d.imageSize(im, x)
	if w < 1 || h < 1 {
		return // spacers and tracking pixels
	}
	d.shown[a] = true
	d.need(h)
	d.drawBars(h + 2)
	d.f.ImageOptions(im.name, x, d.y, w, h, false, fpdf.ImageOptions{}, 0, "")
	d.y += h + 2
}

// imageSize is the size in mm of an image drawn at x: 96 dpi, scaled down
// to fit the column and the page.
func (d *pdfDoc) imageSize(im pdfImage, x float64) (w, h float64) {
	w, h = float64(im.w)*25.4/96, float64(im.h)*25.4/96
	if maxW := d.right - x; w > maxW {
		w, h = maxW, h*maxW/w
	}
	if maxH := pageH - marginT - marginB - 8; h > maxH {
		w, h = w*maxH/h, maxH
	}
	return w, h
}

func (d *pdfDoc) registerImage(a *attachment) pdfImage {
	if im, ok := d.imgs[a]; ok {
		return im
	}
	im := pdfImage{name: "img" + strconv.Itoa(len(d.imgs))}
	defer func() { d.imgs[a] = im }()
	cfg, _, err := image.DecodeConfig(bytes.NewReader(a.data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > 40_000_000 {
		return im
	}
	im.w, im.h = cfg.Width, cfg.Height
	t := imageType(a.data)
	if (t == "jpeg" || t == "png") && opaqueRGB(cfg.ColorModel) {
		typ := map[string]string{"jpeg": "JPG", "png": "PNG"}[t]
		if d.register(im.name, typ, a.data) {
			im.ok = true
			return im
		}
	}
	// GIF, WebP, images with transparency or in CMYK, and PNGs fpdf cannot
	// read (16-bit, interlaced).
	if p := toPNG(a.data); p != nil && d.register(im.name, "PNG", p) {
		im.ok = true
	}
	return im
}

func (d *pdfDoc) register(name, typ string, data []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
		if !ok {
			d.f.ClearError()
		}
	}()
	info := d.f.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: typ}, bytes.NewReader(data))
	return info != nil && !d.f.Err()
}

// opaqueRGB reports whether images of model m are drawn as they are: 8-bit grey
// or RGB without an alpha channel. Others are converted, because PDF/A
// with an sRGB output intent allows no CMYK, and the PDF keeps no
// transparency (see doc.go).
func opaqueRGB(m color.Model) bool {
	switch m {
	case color.RGBAModel, color.RGBA64Model, color.NRGBAModel, color.NRGBA64Model, color.AlphaModel,
		color.Alpha16Model, color.Gray16Model, color.CMYKModel:
		return false
	}
	if p, ok := m.(color.Palette); ok {
		for _, c := range p {
			if _, _, _, a := c.RGBA(); a != 0xffff {
				return false
			}
		}
	}
	return true
}

// toPNG re-encodes any decodable image as an 8-bit non-interlaced opaque
// PNG: transparent parts are laid on white, as on paper.
func toPNG(data []byte) []byte {
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	dst := image.NewRGBA(src.Bounds())
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), src, src.Bounds().Min, draw.Over)
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, dst); err != nil {
		return nil
	}
	return b.Bytes()
}
