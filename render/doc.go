// Package render turns the raw bytes of one mail message into the three
// views mailfs shows beside the .eml: .html, .txt and .pdf.
//
// The renderers are pure functions of the message bytes: no I/O (except
// SystemFonts, a helper for the caller), no network, no clock, no
// randomness. The same input always gives the same output bytes, so the
// cache can key rendered files by (message, Version) and sizes stay stable.
// A malformed message still renders: whatever can be parsed is shown, then
// the raw text. Each renderer recovers from panics and falls back to the raw
// text, so an error means only that the writer failed (or, for PDF, an
// internal failure even of the fallback).
//
// # What it does not do
//
// It does not fetch anything: remote images, style sheets and fonts in HTML
// mail are dropped (a placeholder keeps the layout), so opening a backup
// never phones home. It does not verify signatures or decrypt: signed and
// encrypted messages are shown as such, their S/MIME or OpenPGP parts kept
// as attachments.
//
// # Model
//
// parse.go builds one model per message (decoded header fields, body nodes
// with multipart/alternative choices kept, attachments, cid: resources).
// Header words (RFC 2047) and bodies are decoded with every charset of
// golang.org/x/text via go-message/charset; unlabelled 8-bit text is read as
// UTF-8 when valid and Windows-1252 otherwise. The views choose from the
// alternatives: HTML prefers the HTML part, TXT the plain text part (HTML
// converted when there is none, links as "text <url>", one line per
// paragraph for grep), PDF the HTML part converted to formatted text
// (blocks.go, htmlconv.go), because that is what the sender composed and it
// carries the inline images; the plain text part when there is no HTML.
//
// # HTML
//
// The HTML body is sanitised with a small allowlist over golang.org/x/net/html
// (sanitize.go) rather than bluemonday, whose UGC policy keeps remote
// images and which would need as much configuration as the allowlist
// itself: no scripts, event handlers, forms, frames, objects, meta refresh,
// remote images or CSS url()s; cid: images become data: URIs. A
// Content-Security-Policy meta tag (default-src 'none'; img-src data:;
// style-src 'unsafe-inline') backs this up.
//
// # PDF and fonts
//
// PDFs are written with github.com/go-pdf/fpdf: it embeds subsetted UTF-8
// TrueType fonts, makes link annotations, draws JPEG and PNG, and writes
// document-level embedded files (the EmbeddedFiles name tree), so each PDF
// carries the original message.eml and every attachment byte for byte and
// is a lossless archive. signintech/gopdf cannot embed files; pdfcpu can,
// but is a much larger dependency and would need a second pass over the
// finished file. fpdf is archived but stable. Its traps are avoided: runes
// above U+FFFF (emoji), which break it, never reach it because render lays
// text out itself (layout.go); its file attachment annotations write an
// invalid PDF (a stream inside /AP), so only the document-level embedded
// files are used; fonts and images it cannot read are checked or converted
// first, and its errors are cleared, so one bad part does not fail the
// document. The creation date is the message's Date and catalog output is
// sorted, so the bytes are deterministic. Body text beyond 1 MB per part is
// cut in the PDF (with a note); the .eml inside holds it all.
//
// Font strategy: the bundled fonts are Go Regular and Go Bold
// (golang.org/x/image/font/gofont, BSD licence), which cover WGL4: Latin,
// Greek and Cyrillic. Each rune is drawn with the first font that has it:
// the Go font, then the fonts in Options.ExtraFonts (TrueType with a
// format 4 cmap; CFF-based OpenType and .ttc collections are skipped because
// fpdf cannot read them). SystemFonts finds such fonts in Debian's usual
// places (fonts-droid-fallback for CJK, fonts-nanum for the Hangul Droid
// lacks, DejaVu Sans or Noto for Hebrew and Arabic). A word that needs extra
// fonts is drawn in one of them when one has all its letters, so scripts do
// not mix glyph styles. A rune no font has, and every rune above U+FFFF, is
// drawn as a visible box (U+25A1); the original text stays in the embedded
// .eml. The PDF bytes depend on the fonts passed in, so a cache keyed by
// Version alone keeps what the first render produced.
// Hebrew and Arabic lines are put in visual order and Arabic letters are
// shaped to presentation forms (bidi.go), a simplification of the Unicode
// bidi algorithm that is good enough for mail.
//
// Performance: the bundled fonts' coverage and widths are computed once per
// process; fpdf itself re-parses and subsets each TrueType font it embeds
// per document (about 1 ms per Go font) and compresses each page with a
// fresh zlib writer, which together dominate a PDF's time: an ordinary
// message takes about 5 ms for the PDF and well under 1 ms for HTML or TXT
// on one core (see the benchmarks in bench_test.go).
package render

// Version changes whenever any renderer's output bytes change; the cache
// keys rendered files by it.
const Version = 2

// Options tune the PDF renderer.
type Options struct {
	// ExtraFonts: TrueType font files (bytes) the caller loaded from the
	// system for scripts the bundled font lacks (CJK, Arabic, Hebrew).
	// render itself never reads files. The slices must not be modified
	// while a render runs.
	ExtraFonts [][]byte
}
