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
// TrueType fonts, makes link annotations and draws JPEG and PNG.
// signintech/gopdf cannot embed files; pdfcpu can, but is a much larger
// dependency. fpdf is archived but stable. Its traps are avoided: runes
// above U+FFFF (emoji), which break it, never reach it because render lays
// text out itself (layout.go); fonts and images it cannot read are checked
// or converted first, and its errors are cleared, so one bad part does not
// fail the document. Its own embedded files and attachment annotations are
// not used (the latter write an invalid PDF): pdfa.go embeds the files.
// Body text beyond 1 MB per part and header fields beyond 1000 bytes are
// cut in the PDF (with a note); the .eml inside holds it all.
//
// # PDF/A-3
//
// Every PDF is a PDF/A-3b file (ISO 19005-3) that carries the original
// message as its source file, and every attachment and attached message
// (as its own .eml) as data files, byte for byte, under names unique in the
// PDF ("report.pdf", "report (2).pdf"): one file that an archive can keep
// and still open in decades. fpdf cannot write most of what PDF/A asks, so
// pdfa.go rewrites fpdf's finished output in one pass: it finds fpdf's
// objects through fpdf's own cross-reference table (stream data is never
// parsed), copies them, and
//   - writes a binary comment after the header, which must come right after
//     "%PDF-1.7" and so rules out an incremental update (which also would
//     leave fpdf's superseded catalog, fonts and pages in the file);
//   - names each font as a subset ("ABCDEF+Go-Regular", the tag derived
//     from the subset's bytes) and makes link annotations printable;
//   - replaces fpdf's information dictionary and catalog by its own: XMP
//     metadata with pdfaid part 3, conformance B and the same title,
//     author, producer and dates (the message's Date, with its zone), an
//     sRGB output intent, the embedded files with /AF, /AFRelationship,
//     MIME /Subtype, /Params /ModDate, /F and /UF;
//   - ends with a new cross-reference table and a trailer /ID that is a
//     digest of everything before it.
//
// The ICC profile of the output intent is made in icc.go from the numbers
// of the sRGB standard (a 2.5 KB version 2 matrix/TRC profile), so nothing
// is bundled and no licence applies. Metadata strings lose control
// characters and bidi overrides (metaText). No page uses transparency:
// images with alpha are laid on white and CMYK images converted to RGB
// before fpdf sees them. fpdf numbers images of equal width in map order;
// the pass puts them in the order of their content-derived names, so the
// bytes stay deterministic. The pass copies the document once more and
// deflates the embedded files (already compressed formats are stored as
// they are), a fraction of a millisecond for an ordinary message. The
// tests check each PDF/A requirement with qpdf, pdffonts, pdfdetach and
// Little CMS (see the README).
//
// Font strategy: the bundled fonts are the Go fonts
// (golang.org/x/image/font/gofont, BSD licence), which cover WGL4: Latin,
// Greek and Cyrillic: Regular and Bold, Italic and Bold Italic (<i>, <em>,
// <cite>, font-style), Mono and Mono Bold (<pre>, <code>, <tt>, <kbd>,
// font-family monospace, and the lines of plain text mail that are laid
// out with spaces: table columns, indented code, ASCII art, box drawing;
// see preformatted). Each face is registered with fpdf only when a
// document uses it. Underline and strikeout (<u>, <s>, <del>,
// text-decoration) are fpdf's own; sub- and superscripts are drawn at 70%
// size, shifted. fpdf writes into the font bytes it is given, so it gets
// a copy per document. Each rune is drawn with the first font that has
// it: the Go font of its style, Go Regular, then the fonts in
// Options.ExtraFonts (TrueType with a
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
