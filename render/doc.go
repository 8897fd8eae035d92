// Package render turns the raw bytes of one mail message into the views
// mailfs shows beside the .eml: .html, .txt, .pdf, .mht, .docx and .msg.
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
// # Formats
//
// formats.go is the one list of the ways a message is shown (Formats):
// each format's extension, its slot (a stable number, part of inode
// numbers: never renumbered), its renderer, whether it depends on the
// system's fonts, and a line for usage texts. The file system, the cache
// and the command line read it, so a new view is one entry plus its
// renderer. A folder's mbox is no view of one message: it is the one
// FolderFormat (FolderFormats), without a slot or a renderer, shown once
// per folder; mbox.go has its pure part, the mboxrd encoder (the From
// line, CRLF to LF, >From quoting), which the cache runs over the
// folder's bodies. The encoder is a small resumable value, so a caller
// streams a folder of any size and serves any byte range of it.
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
// The page's header block (subject, From, To, Cc, Date, attachment list),
// its notices and plain-text bodies are mailfs's own markup; each HTML body
// of the message is a document of its own in a sandboxed frame
// (<iframe sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc=…>:
// no scripts, an opaque origin; a clicked link opens in an ordinary new
// tab). The message's CSS applies inside its frame only, and a fixed or
// sticky element is fixed to the frame, so the message cannot hide, move,
// cover or restyle the header block, however its CSS is written: scoping
// the message's selectors to a container instead would need a CSS parser
// that gets every trick (:root, :has(), @scope, unbalanced braces, negative
// margins, transforms) right. The srcdoc attribute is escaped like any
// attribute value, so no "</iframe>" or quote in the message can end it.
//
// Without scripts a frame cannot take the height of its content. Rather
// than guess one, the page is a column as tall as the window: the header
// block on top (at most half of it; a long To: list scrolls within its
// row), then a pane that scrolls, in which a frame is exactly as tall as
// the pane. A message with one HTML body thus reads like a mail client's
// reading pane, with one scroll bar, the real header always in view; a
// short message leaves white space below, as mail clients do. (A tall fixed
// height would leave the real header off screen and a second scroll bar on
// the page; a height estimated from the text is wrong for most newsletters.)
// When printed, the page flows and a frame is one page tall; the .pdf is
// the view for printing.
//
// Inside its frame the body is sanitised with a small allowlist over
// golang.org/x/net/html (sanitize.go) rather than bluemonday, whose UGC
// policy keeps remote images and which would need as much configuration
// as the allowlist itself: no scripts, event handlers, forms, frames,
// objects, meta refresh, remote images or CSS url()s; cid: and base64
// data: images are shown from data: URIs (never SVG). A
// Content-Security-Policy (default-src 'none'; img-src data:; style-src
// 'unsafe-inline') in the page, inherited by the frames and repeated at the
// top of each frame's document, backs this up.
//
// # MHT
//
// The .mht (mht.go) is RFC 2557 MHTML: a multipart/related whose root part
// is the same page, and whose other parts are the images it shows, each
// with a Content-Location under http://mailfs.invalid/ (a domain that never
// resolves) which the page uses as the image's URL, instead of a data: URI.
// The body frames stay srcdoc frames: Chromium resolves the images of a
// srcdoc frame from the archive like those of the root (checked with
// headless Chromium, which opens the file offline), so the .mht has the
// same protection of the header block as the .html. The root is
// quoted-printable and the images base64 in lines of 76, as Chromium and
// Word write them; the boundary is derived from a SHA-256 of the parts, so
// the bytes are deterministic and no part can contain it.
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
// deflates the page contents and the embedded files (already compressed
// formats are stored as they are) with pooled zlib writers, which costs
// less than fpdf's fresh writer per stream: about 0.1 ms for the copy,
// and the compression fpdf would have done anyway. The
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
// lacks, DejaVu Sans or Noto for Hebrew and Arabic, fonts-symbola's
// Symbola, else fonts-noto-core's Noto Sans Symbols 2, for emoji, Symbola
// or Noto Sans Math for mathematical letters, and for historic scripts
// above U+FFFF fonts-noto-core's small per-script fonts, else
// fonts-ancient-scripts' larger ones), one per script group. A word
// that needs extra fonts is drawn in one of them when one has all its
// letters, so scripts do not mix glyph styles; a character above U+FFFF
// comes from the extra font with the most such characters, so emoji are
// all Symbola's, not partly DejaVu's few emoticons. fpdf addresses glyphs by
// 16-bit codes equal to the characters, so a font with glyphs above U+FFFF
// (emoji) is given to it with a cmap of its own that maps codes of the
// Private Use Area to them (fontmap.go, once per font), and the archival
// pass writes a ToUnicode CMap mapping each such code back to its
// character: the page shows the emoji (in black and white: fpdf embeds no
// colour fonts), the text layer holds it. Skin tone modifiers are left
// out (a monochrome font draws them as swatches beside the emoji), as are
// the joiners of ZWJ sequences, whose members are drawn side by side. A
// rune no font has is drawn as
// a visible box (U+25A1); the original text stays in the embedded .eml. The PDF bytes depend on the fonts passed in, so a cache keyed by
// Version alone keeps what the first render produced.
// Lines with Hebrew or Arabic are put in drawing order by the Unicode bidi
// algorithm (golang.org/x/text/unicode/bidi gives the levels, bidi.go
// reorders each line), and Arabic letters are shaped to presentation forms;
// the ToUnicode CMap maps those back to the letters, so the text layer
// has logical, searchable Arabic.
//
// HTML tables are laid out as tables (pdftable.go), from the same bTable
// blocks as the DOCX view: columns sized as a browser's automatic layout
// does, within the widths the message gives tables and cells (width
// attributes and CSS widths, in percent or pixels at 96 per inch), cell
// backgrounds (bgcolor, background-color, background; of the cell, its
// row or its table; hex, rgb() or a CSS name), cells that wrap and hold any blocks, borders where the message
// draws them, one-column layout tables unwrapped (with their
// backgrounds); a row taller than a page
// flows over the next pages, cell beside cell. A page cannot be painted
// under what it already shows, so a background is laid strip by strip
// under each line as the cell is laid out, then below the cell's content
// to the row's end; text on a dark background is drawn white, since the
// message's text colours are not kept. Image attachments are shown
// after the attachment list, as mail clients do, each under its name and
// scaled to the page, unless the body showed them; HTML refers to images
// by cid: or by Content-Location (RFC 2557), resolved alike in every view.
//
// # DOCX
//
// The .docx view (docx.go, docxpkg.go) is written by render itself with
// archive/zip and a few hundred lines of WordprocessingML, not with a
// library: github.com/gomutex/godocx, the maintained MIT candidate, has no
// tagged release, reads images from file paths (render does no I/O),
// starts from a template document, and gives no say over zip entry times;
// the subset a mail needs (paragraphs, runs, hyperlinks, numbering, tables,
// inline pictures) is small and fixed. It shows what the PDF shows, from
// the same model: the header block (Subject as the Title paragraph,
// From/To/Cc/Date, each shortened past 1000 bytes with a note, by the
// PDF's code; the Subject and From also as the document's title and
// author), the HTML alternative converted by htmlconv.go, or the plain
// text, with headings as Heading 1–6 styles, bold and italic runs, lists
// as Word numbering (each numbered list its own instance, starting at its
// own number), <pre> in a monospace style, quotes indented with a bar,
// links as hyperlinks, notes in a framed paragraph, and attached messages
// in a framed one-cell table. Like the PDF, it keeps HTML tables as
// tables (htmlTableBlocks): a table of more than one column becomes a
// Word table of equal columns, with borders when the message draws them;
// a one-column layout table, as newsletters nest them, is unwrapped.
// Images (cid:, inline parts, and image attachments after the attachment
// list) are media parts shown at 96 dpi, scaled to the column; PNG, JPEG
// and GIF as they are, WebP converted to PNG; tracking pixels are dropped.
// A paragraph whose first strong character is right-to-left gets Word's
// right-to-left paragraph direction. Emoji get runs of their own that name
// an emoji font (Segoe UI Emoji), which Word on Windows has and for which
// LibreOffice finds a fallback.
//
// Attachments are listed (name, type, size), not embedded: Word embeds a
// file as an OLE package (a compound file with an Ole10Native stream and
// a preview picture per file), which is far more machinery than the rest
// of the view; the original message and its attachments are in the .eml
// and the PDF beside it.
//
// The bytes are deterministic: every zip entry has the same time
// (1980-01-01), [Content_Types].xml comes first and the other parts are
// sorted by name, relationship and numbering ids are given in document
// order, and the document dates are the message's Date. Characters that
// XML 1.0 forbids are dropped; link targets that are no URL, or longer
// than Word accepts, leave their text without a link. Word refuses a
// document whose elements are out of the schema's order, so docx.go
// writes properties in the order of the transitional schema (ISO/IEC
// 29500-4); the corpus's documents were checked against it with xmllint
// when this was written (the schema files are not part of mailfs).
//
// # MSG
//
// The .msg view (msg.go) is an Outlook message file (MS-OXMSG) written by
// render itself: no maintained Go library writes one (the Go compound
// file and MSG packages only read), and the subset a mail needs is small.
// cfb.go writes the container, a Compound File Binary (MS-CFB) of version
// 3 with 512-byte sectors: it lays out the whole tree at once (streams
// under 4096 bytes in the mini stream, the rest in sectors, then the mini
// FAT, the directory, the FAT and, past 109 FAT sectors, the DIFAT), each
// storage's children as a balanced red-black tree in the order MS-CFB
// prescribes (shorter names first, then by upper case), with no times in
// the directory and only Outlook's fixed message CLSID, so the bytes
// depend on the message alone. msg.go maps the parse model to MAPI
// properties, every string as PT_UNICODE (PR_STORE_SUPPORT_MASK says so):
// message class IPM.Note, subject, sender and sent-representing (name,
// SMTP address), PR_DISPLAY_TO/CC/BCC, a recipient storage per To, Cc and
// Bcc address, submit, delivery, creation and modification times from the
// Date, Message-ID, In-Reply-To, References, the original header block as
// PR_TRANSPORT_MESSAGE_HEADERS, PR_BODY (the .txt view's body text without
// its header block and attachment list), PR_HTML (the HTML body sanitised
// as for the .html view, UTF-8 as PR_INTERNET_CPID says, with cid: images
// pointing at the attachments that carry them), and an attachment storage
// per MIME attachment in MIME order (data, long file name, extension,
// MIME type, Content-ID; the images the HTML shows are flagged
// ATT_MHTML_REF and hidden, so Outlook shows them in place, not in the
// attachment bar). An attached message/rfc822 is an embedded message
// (ATTACH_EMBEDDED_MSG), itself a message storage with its own
// recipients and attachments. The named-property storage is present with
// its three streams empty: no named property is used. Not written: RTF
// bodies (Outlook makes one from the HTML), recipient entry ids (Outlook
// resolves SMTP recipients itself), and the 8.3 short file name.
// Control characters but tab, CR and LF are dropped from strings, as in
// the other views. The files are checked with readers of others:
// olefile (the container, in strict mode, and each property where
// MS-OXMSG puts it), and msgconvert and its library Email::Outlook::Message
// (the round trip back to an .eml, and the properties read directly).
//
// Performance: the bundled fonts' coverage and widths are computed once per
// process; fpdf itself re-parses and subsets each TrueType font it embeds
// per document (about 1 ms per Go font, more the larger a font's character
// map: an extra font is therefore given to it with a character map of only
// the message's own characters, fontsubset.go: with emoji drawn from one
// font, an emoji message's PDF takes about as long as an ordinary one,
// where it took nearly twice as long) and compresses each page with a
// fresh zlib writer, which together dominate a PDF's time: an ordinary
// message takes about 5 ms for the PDF, about 3 ms for the DOCX (most of
// it parsing the message), about 2 ms for the MSG (parsing, and
// converting and sanitising the HTML body; writing the compound file is
// little more than a copy) and well under 1 ms for HTML, MHT or TXT on one
// core (see the benchmarks in bench_test.go).
package render

// Version changes whenever any renderer's output bytes change; the cache
// keys rendered files by it.
const Version = 5

// Options tune the PDF renderer.
type Options struct {
	// ExtraFonts: TrueType font files (bytes) the caller loaded from the
	// system for scripts the bundled font lacks (CJK, Arabic, Hebrew).
	// render itself never reads files. The slices must not be modified
	// while a render runs.
	ExtraFonts [][]byte
}
