package render

import (
	"io"
	"strings"
)

// Format is one way mailfs shows a message as a file: the message itself
// (eml) or a view rendered from it. Formats is the one list of them; the
// file system, the cache and the command line read it, so a new view is
// one entry here plus its renderer.
type Format struct {
	// Ext is the file extension, without the dot: "pdf".
	Ext string
	// Slot is the format's stable number, part of every inode number of
	// its files (fs/ino.go: 3 bits, and 7 is taken by files being
	// written, so 0 to 6). Never renumber or reuse a slot: a remount
	// would show old files under new numbers, and backups made with
	// rsync -H or borg would see every file change.
	Slot int
	// Render writes the view of a raw message; nil for eml, which is the
	// message's own bytes.
	Render func(raw []byte, w io.Writer, opt Options) error
	// SystemFonts tells that the output depends on Options.ExtraFonts
	// (SystemFonts), which the caller must then load and key its cache
	// by: installing a font renders the view again.
	SystemFonts bool
	// Usage is a short description for usage texts and completion.
	Usage string
}

// Formats are all the formats, in the order a usage text lists them.
var Formats = []Format{
	{Ext: "eml", Slot: 0, Usage: "the message as the server holds it (RFC 5322)"},
	{Ext: "html", Slot: 1, Render: withoutOptions(HTML), Usage: "web page, for a browser: remote content dropped, bodies sandboxed"},
	{Ext: "pdf", Slot: 2, Render: PDF, SystemFonts: true, Usage: "PDF for reading and printing, attachments embedded"},
	{Ext: "txt", Slot: 3, Render: withoutOptions(Text), Usage: "plain text, for grep: header and text body"},
	{Ext: "mht", Slot: 4, Render: withoutOptions(MHT), Usage: "web archive (MHTML, RFC 2557) with the images inside"},
	{Ext: "docx", Slot: 5, Render: withoutOptions(DOCX), Usage: "Word document, for word processors"},
	{Ext: "msg", Slot: 6, Render: withoutOptions(MSG), Usage: "Outlook message (MS-OXMSG), for Outlook and the tools that read it"},
	// Slot 6 was the last free one: an eighth format needs a wider
	// format field in fs/ino.go's layout first.
}

// FolderFormat is a file shown once per folder rather than once per
// message: all of the folder's messages in one file. It has no slot: its
// inode number comes from the folder's path, like the flags file's, and
// its bytes are made by the caller from the folder's messages with the
// format's encoder (mbox.go), since no single message gives them.
type FolderFormat struct {
	Ext   string // the extension, without the dot: "mbox"
	Usage string // a short description for usage texts and completion
}

// FolderFormats are all the folder formats; --formats takes them beside
// Formats.
var FolderFormats = []FolderFormat{
	{Ext: "mbox", Usage: "the folder's messages in one mboxrd file, for mail programs (a stat downloads the folder)"},
}

// FolderFormatOf returns the folder format with extension ext.
func FolderFormatOf(ext string) (FolderFormat, bool) {
	for _, f := range FolderFormats {
		if f.Ext == ext {
			return f, true
		}
	}
	return FolderFormat{}, false
}

func withoutOptions(fn func([]byte, io.Writer) error) func([]byte, io.Writer, Options) error {
	return func(raw []byte, w io.Writer, _ Options) error { return fn(raw, w) }
}

// FormatOf returns the format with extension ext.
func FormatOf(ext string) (Format, bool) {
	for _, f := range Formats {
		if f.Ext == ext {
			return f, true
		}
	}
	return Format{}, false
}

// FormatNames lists the extensions of Formats, then of FolderFormats, in
// order.
func FormatNames() []string {
	var out []string
	for _, f := range Formats {
		out = append(out, f.Ext)
	}
	for _, f := range FolderFormats {
		out = append(out, f.Ext)
	}
	return out
}

// FormatList is FormatNames as a phrase: "eml, html, pdf, txt, mht,
// docx, msg or mbox".
func FormatList() string {
	n := FormatNames()
	return strings.Join(n[:len(n)-1], ", ") + " or " + n[len(n)-1]
}
