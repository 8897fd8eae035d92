// Package sample is a small, fixed mailbox used by `mailfs mount --demo` and
// by tests of every layer: the folders and messages a demo server is seeded
// with, or that a test APPENDs to a real server.
//
// The messages are written in Go rather than embedded as .eml files so that
// the bytes cannot be changed by an editor or by git's line-ending handling:
// every message is normalised to CRLF when built, and text in legacy
// charsets (ISO-8859-1, ISO-8859-15, KOI8-R, ISO-2022-JP) is produced by the
// small encoders in charset.go, which keeps the package free of x/text.
//
// The set is chosen for edge cases a mail file system has to survive, not
// for volume: non-ASCII and modified-UTF-7-sensitive folder names ("R&D",
// "Entwürfe", "日本語", "Projekte 🚀"), a hierarchy parent without messages
// ("Archiv"), RFC 2047 subjects in several charsets, subjects that are
// missing, blank, very long or full of path and control characters, two
// messages that share subject and INTERNALDATE minute, a message without a
// Date header, nested message/rfc822, inline cid: images, calendar invites
// and one deliberately malformed MIME structure (MalformedMessageID).
//
// All addresses use reserved example domains. The package must not depend on
// go-imap or on any other mailfs package: it is data.
package sample

import "time"

// Message is one message together with how it is to be stored.
type Message struct {
	Folder string    // UTF-8 mailbox name, "/" as hierarchy separator
	Raw    []byte    // exact RFC 5322 bytes, CRLF line endings
	Date   time.Time // INTERNALDATE to set on APPEND (whole seconds)
	Flags  []string  // system flags such as `\Seen`; empty for most
}

// MalformedMessageID is the Message-ID of the one message whose MIME
// structure is broken on purpose (a multipart body without its closing
// boundary). Its header is well formed, so servers store and return it
// unchanged, but walking its parts ends with an error.
const MalformedMessageID = "<broken-multipart.7731@mailer.example.net>"

// Folder names, shared by the message definitions and Folders.
const (
	folderInbox       = "INBOX"
	folderArchive     = "Archiv"
	folderArchive2023 = "Archiv/2023"
	folderArchive2024 = "Archiv/2024"
	folderDrafts      = "Entwürfe"
	folderNewsletters = "Newsletters"
	folderProjects    = "Projekte 🚀"
	folderRnD         = "R&D"
	folderJapanese    = "日本語"
)

// Folders returns every folder to create, parents before children. "Archiv"
// holds no messages: it exists only as the parent of "Archiv/2023" and
// "Archiv/2024".
func Folders() []string {
	return []string{
		folderInbox,
		folderArchive,
		folderArchive2023,
		folderArchive2024,
		folderDrafts,
		folderNewsletters,
		folderProjects,
		folderRnD,
		folderJapanese,
	}
}

// Messages returns the sample messages, grouped by folder in the order of
// Folders and, within a folder, in the order they are to be appended. Each
// call builds new slices with the same bytes, so callers may modify them.
func Messages() []Message {
	var all []Message
	for _, group := range [][]Message{
		inboxMessages(),
		archiveMessages(),
		draftMessages(),
		newsletterMessages(),
		projectMessages(),
		rndMessages(),
		japaneseMessages(),
	} {
		all = append(all, group...)
	}
	return all
}
