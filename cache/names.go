package cache

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/zeebo/blake3"
)

// maxName is the longest file name most file systems accept, in bytes.
const maxName = 255

// maxExt is room kept for the longest extension a view adds (".html").
const maxExt = 5

// MessageStem names a message file, without its extension:
//
//	2024-03-01 143205 Invoice for March [k3m7x2qa]
//
// The INTERNALDATE in UTC comes first so names sort by date and never start
// with '-' or '.'; id (see NameID, and Names for duplicates) in brackets
// tells apart messages of the same second and subject. Everything comes
// from the message itself, so a name is the same in every account, on
// every server, after the server renumbers the folder and after the cache
// is wiped (see the package doc, "Names").
func MessageStem(date time.Time, subject, id string) string {
	prefix := date.UTC().Format("2006-01-02 150405") + " "
	suffix := " [" + id + "]"
	subj := cleanText(subject)
	if subj == "" {
		subj = "(no subject)"
	}
	// Room is kept for a duplicate's number (dupRoom), so that it does not
	// shorten the subject of the second copy only.
	subj = truncateUTF8(subj, maxName-maxExt-len(prefix)-len(suffix)-dupRoom)
	subj = strings.TrimRight(subj, " .")
	return prefix + subj + suffix
}

// idLen is the length of the ID in a name: 8 base32 characters, 40 bits.
const idLen = 8

// dupRoom is the longest duplicate's number withDup adds ("-4294967295").
const dupRoom = 11

// idEncoding is lower-case base32 (RFC 4648 letters and digits 2–7): safe
// in any file system, case-insensitive ones included, and without '-', so
// a duplicate's number can never make one ID look like another.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// identity is the text a message's ID is derived from: its Message-ID
// (without angle brackets and surrounding space) and its INTERNALDATE in
// whole seconds; a message without a Message-ID falls back to its subject,
// INTERNALDATE and size as first listed (RFC822.SIZE). The tag byte keeps
// the two kinds apart. It is appended to b.
func identity(b []byte, messageID string, date time.Time, subject string, listed int64) []byte {
	id := strings.Trim(strings.TrimSpace(messageID), "<>")
	if id != "" {
		b = append(b, 'm')
		b = append(b, id...)
		b = append(b, 0)
		return strconv.AppendInt(b, date.Unix(), 10)
	}
	b = append(b, 's')
	b = append(b, subject...)
	b = append(b, 0)
	b = strconv.AppendInt(b, date.Unix(), 10)
	b = append(b, 0)
	return strconv.AppendInt(b, listed, 10)
}

// NameID is the ID a message's name carries: the first 40 bits of the
// BLAKE3 hash of its identity, in idEncoding. listed is RFC822.SIZE as the
// server first listed it (it matters only without a Message-ID).
func NameID(messageID string, date time.Time, subject string, listed int64) string {
	id, _ := nameAndLink(messageID, date, subject, listed)
	return id
}

// nameAndLink returns NameID and the link key, from one hash: the link key
// tells apart messages that share a name but not their listed size; it is
// part of the inode number (fs/ino.go), so two files are hard links of one
// another only when name, identity and size agree.
func nameAndLink(messageID string, date time.Time, subject string, listed int64) (string, uint64) {
	var buf [128]byte // most identities fit: no garbage per message listed
	sum := blake3.Sum256(identity(buf[:0], messageID, date, subject, listed))
	link := binary.BigEndian.Uint64(sum[8:16]) ^ uint64(listed)*0x9E3779B97F4A7C15
	return idEncoding.EncodeToString(sum[:5]), link
}

// withDup names the n-th message (n ≥ 2) of a folder whose stem is stem
// already: "… [k3m7x2qa]" becomes "… [k3m7x2qa-2]".
func withDup(stem string, n int) string {
	return stem[:len(stem)-1] + "-" + strconv.Itoa(n) + "]"
}

// Names returns the stems of a folder's messages, given in UID order: the
// stem of each (MessageStem with its NameID), and for the second and later
// message with the same stem (true duplicates, or different messages with
// the same Message-ID and second) that stem with "-2", "-3", … in UID
// order. Names are thus unique within the folder.
func Names(msgs []Meta) []string {
	out := make([]string, len(msgs))
	taken := make(map[string]int, len(msgs))
	dups := map[string]int{}
	for i, m := range msgs {
		base := MessageStem(m.Date, m.Subject, NameID(m.MessageID, m.Date, m.Subject, m.listedSize()))
		out[i] = uniqueName(taken, dups, base)
		taken[out[i]] = i
	}
	return out
}

// uniqueName returns base, or, when taken holds it already, base with the
// next duplicate's number, counted in dups (which thus holds only the
// stems that have duplicates). A numbered name never equals another
// message's base, since an ID holds no '-'.
func uniqueName(taken, dups map[string]int, base string) string {
	if _, ok := taken[base]; !ok {
		return base
	}
	n := max(dups[base], 1) + 1
	dups[base] = n
	return withDup(base, n)
}

// baseOf is the stem a name was numbered from (see uniqueName).
func baseOf(stem string) string {
	if i := strings.LastIndexByte(stem, '-'); i > strings.LastIndexByte(stem, '[') {
		return stem[:i] + "]"
	}
	return stem
}

// cleanText makes s safe inside a file name: valid UTF-8, no control or
// format characters, none of the characters that Windows, macOS or shells
// treat specially, and single spaces only.
func cleanText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			space = b.Len() > 0
			continue
		case strings.ContainsRune(`/\:*?"<>|`, r):
			r = '_'
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// FolderComponent maps one level of a mailbox name to a directory name.
// The mapping is reversible and free of collisions: '%' is always escaped,
// so an escaped name can never equal an unescaped one. '/' (which no file
// name may hold) becomes %2F; each byte of a control character (NUL, CR,
// LF, ESC, DEL, C1) and each byte that is not UTF-8 becomes %XX, so a
// name can neither escape the mount nor drive a terminal that shows it;
// "." and ".." become %2E and %2E%2E. A name longer than 255 bytes is cut
// and ends in "%" plus a hash of the whole name.
func FolderComponent(s string) string {
	switch s {
	case "":
		return "%"
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '%':
			b.WriteString("%25")
		case r == '/':
			b.WriteString("%2F")
		case r == utf8.RuneError && size == 1, unicode.IsControl(r):
			for j := i; j < i+size; j++ {
				fmt.Fprintf(&b, "%%%02X", s[j])
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	out := b.String()
	if len(out) > maxName {
		sum := sha256.Sum256([]byte(s))
		tag := "%" + hex.EncodeToString(sum[:6])
		out = truncateUTF8(out, maxName-len(tag)) + tag
	}
	return out
}
