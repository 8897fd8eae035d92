package imapsrc

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
)

// Filter says which folders and which messages of an account are wanted.
// The zero Filter wants everything.
//
// Folder patterns are path.Match globs over the folder's full name written
// with "/" between levels, whatever the server's hierarchy delimiter is
// ("Archive.2024" on a "."-server is matched as "Archive/2024"). A pattern
// also matches everything below a folder it matches, so "Archive" and
// "Archive/*" both cover "Archive/2024/Q1". "*" stays within one level, as
// in path.Match. INBOX is case-insensitive, as in IMAP: "inbox/*" matches
// "INBOX/Receipts". A pattern equal to a folder's name also matches it, so
// "[Gmail]/Spam" means that folder although "[Gmail]" is a character class
// to path.Match; to use such a name as part of a glob, quote it with
// QuoteGlob (`\[Gmail\]/*`).
//
// The dates are searched for on the server (SEARCH SINCE/BEFORE on the
// INTERNALDATE), so mail outside the range is never downloaded.
type Filter struct {
	Include []string  // folders wanted; empty means every folder
	Exclude []string  // folders not wanted, even when included
	Since   time.Time // messages on or after this day; zero: no limit
	Before  time.Time // messages before this day (not on it); zero: no limit
}

// Validate reports a malformed glob or dates that exclude every message.
func (f Filter) Validate() error {
	for _, list := range [][]string{f.Include, f.Exclude} {
		for _, p := range list {
			if p == "" {
				return fmt.Errorf("empty folder pattern")
			}
			if _, err := path.Match(p, ""); err != nil {
				return fmt.Errorf("bad folder pattern %q: %v", p, err)
			}
		}
	}
	if !f.Since.IsZero() && !f.Before.IsZero() && !day(f.Since).Before(day(f.Before)) {
		return fmt.Errorf("since %s is not before before %s: no message could match",
			day(f.Since).Format(time.DateOnly), day(f.Before).Format(time.DateOnly))
	}
	return nil
}

// Folder reports whether the folder named name (the server's full name,
// decoded to UTF-8, with delim between levels; 0 for a flat namespace) is
// wanted. A malformed pattern matches nothing; see Validate.
func (f Filter) Folder(name string, delim rune) bool {
	name = slashName(name, delim)
	if len(f.Include) > 0 && !matchAny(f.Include, name) {
		return false
	}
	return !matchAny(f.Exclude, name)
}

// SearchCriteria returns the server-side part of the filter: SINCE and/or
// BEFORE on the INTERNALDATE. It is never nil; without dates it is empty,
// which matches every message (SEARCH ALL) and is a no-op in
// (*imap.SearchCriteria).And.
func (f Filter) SearchCriteria() *imap.SearchCriteria {
	c := &imap.SearchCriteria{}
	if !f.Since.IsZero() {
		c.Since = day(f.Since)
	}
	if !f.Before.IsZero() {
		c.Before = day(f.Before)
	}
	return c
}

// QuoteGlob escapes the characters path.Match treats specially, so that
// name matches only itself.
func QuoteGlob(name string) string {
	var b strings.Builder
	for _, r := range name {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// HasDates reports whether the filter limits messages by date.
func (f Filter) HasDates() bool { return !f.Since.IsZero() || !f.Before.IsZero() }

// day is t's calendar day (in t's own location) as midnight UTC. IMAP
// dates carry no time or zone, and go-imap formats the time in its own
// location, so a day must not shift when it is converted.
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// slashName writes name with "/" between levels and INBOX in upper case.
func slashName(name string, delim rune) string {
	if delim != 0 && delim != '/' {
		// A "/" inside a level of a "."-server stays: patterns cannot tell
		// it from a level boundary, which is the lesser evil.
		name = strings.ReplaceAll(name, string(delim), "/")
	}
	return canonInbox(name)
}

func canonInbox(name string) string {
	first, rest, found := strings.Cut(name, "/")
	if strings.EqualFold(first, "INBOX") {
		if found {
			return "INBOX/" + rest
		}
		return "INBOX"
	}
	return name
}

// matchAny reports whether a pattern matches name or one of its parents.
func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		p = canonInbox(p)
		for n := name; ; {
			if ok, _ := path.Match(p, n); ok || p == n {
				return true
			}
			i := strings.LastIndexByte(n, '/')
			if i < 0 {
				break
			}
			n = n[:i]
		}
	}
	return false
}
