package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxName is the longest file name most file systems accept, in bytes.
const maxName = 255

// maxExt is room kept for the longest extension a view adds (".html").
const maxExt = 5

// MessageStem names a message file, without its extension:
//
//	2024-03-01 143205 Invoice for March [4711]
//
// The INTERNALDATE in UTC comes first so names sort by date and never start
// with '-' or '.'; the UID in brackets makes the name unique in its folder.
// Everything comes from what the server says, so a name is the same across
// remounts and after the cache is wiped.
func MessageStem(date time.Time, subject string, uid uint32) string {
	prefix := date.UTC().Format("2006-01-02 150405") + " "
	suffix := fmt.Sprintf(" [%d]", uid)
	subj := cleanText(subject)
	if subj == "" {
		subj = "(no subject)"
	}
	subj = truncateUTF8(subj, maxName-maxExt-len(prefix)-len(suffix))
	subj = strings.TrimRight(subj, " .")
	return prefix + subj + suffix
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
