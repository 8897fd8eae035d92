package cache

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/zeebo/blake3"
)

// Flags travel in one plain file per folder, FlagsName, which the mount
// shows beside the messages and reads back when it is written into a
// writable mount:
//
//	# mailfs flags ...           comment lines
//	NAME<TAB>\Seen $Forwarded    one line per message: its file name
//	                             without .eml, then its flags
//
// A file rather than extended attributes, because plain rsync -a, cp -a,
// tar, restic and borg copy a file but not xattrs (rsync needs -X), and
// because ls -l would ask for xattrs of every message. A dotfile, so that
// it sorts first: rsync sends it before the messages it describes, and
// the mount remembers the flags of the messages not there yet and gives
// them to their APPEND (flags of messages already there are set with UID
// STORE). Every message has a line, with no flags too, so that a flag
// removed travels as well. \Recent (the server's to set) and \Deleted (a
// restore must never mark mail for deletion) are left out.
//
// Its mtime is the folder's newest INTERNALDATE, with nanoseconds taken
// from a hash of its bytes: the same flags give the same file, size and
// mtime in any account and after any remount, so rsync's quick check
// skips it after a migration, and a change shows as a new mtime even
// where the size stays.
//
// The flags are asked of the server when the file is first needed (one
// UID FETCH of FLAGS), then only those changed since (CHANGEDSINCE, when
// the server has CONDSTORE: its STATUS HIGHESTMODSEQ tells a change; a
// server without CONDSTORE is asked for all flags at most once a second).

// FlagsName is the name of each folder's flags file.
const FlagsName = ".mailfs-flags"

const flagsHeader = "# mailfs flags: one line per message, its file name without .eml, a TAB, then its IMAP flags.\n" +
	"# Written into a folder of a writable mailfs mount, it sets those flags (see the README).\n"

// freshFor is how long a folder's listing and flags are taken as they
// are, without asking the server: flags fetched from a server without
// CONDSTORE, a STATUS for the flags file, a listing for a commit.
const freshFor = time.Second

// ErrNotFlags means a file written as FlagsName is not a flags file.
var ErrNotFlags = errors.New("not a mailfs flags file")

// folderFlags is what a folder knows about its messages' flags; guarded
// by folder.mu, fetched under folder.flagsMu.
type folderFlags struct {
	byUID   map[uint32][]string // nil until first needed
	modSeq  uint64              // HIGHESTMODSEQ byUID is current to
	fetched time.Time
	file    []byte // FlagsName as last made; nil when stale
	mtime   time.Time
	// pending holds the flags a written FlagsName gave messages the
	// folder does not hold yet, by stem: they go with their APPEND.
	pending map[string][]string
}

// FlagsFile returns the folder's flags file and its mtime.
func (c *Cache) FlagsFile(ctx context.Context, folder string) ([]byte, time.Time, error) {
	f, err := c.folder(folder)
	if err != nil {
		return nil, time.Time{}, err
	}
	if err := c.refreshFlags(ctx, f); err != nil {
		return nil, time.Time{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.flags.file == nil {
		f.flags.file, f.flags.mtime = makeFlagsFile(f.msgs, f.flags.byUID)
	}
	return f.flags.file, f.flags.mtime, nil
}

// syncUnlessFresh syncs the folder unless that was done (or the listing
// changed by a commit) within freshFor.
func (c *Cache) syncUnlessFresh(ctx context.Context, f *folder) error {
	f.mu.Lock()
	fresh := time.Since(f.syncedAt) < freshFor
	f.mu.Unlock()
	if fresh {
		return nil
	}
	_, err := c.Sync(ctx, f.info.Name)
	return err
}

// refreshFlags brings the folder and its flags in step with the server.
func (c *Cache) refreshFlags(ctx context.Context, f *folder) error {
	f.flagsMu.Lock()
	defer f.flagsMu.Unlock()
	if err := c.syncUnlessFresh(ctx, f); err != nil {
		return err
	}
	f.mu.Lock()
	st, ff := f.status, f.flags
	f.mu.Unlock()
	known := ff.byUID != nil
	switch {
	case known && st.HighestModSeq != 0 && st.HighestModSeq == ff.modSeq:
		return nil
	case known && st.HighestModSeq == 0 && time.Since(ff.fetched) < freshFor:
		return nil
	}
	since := uint64(0)
	if known && st.HighestModSeq != 0 {
		since = ff.modSeq
	}
	got := map[uint32][]string{}
	err := c.src.FetchFlags(ctx, f.info.Name, st.UIDValidity, since, func(uid uint32, flags []string) {
		got[uid] = canonicalFlags(flags)
	})
	if err != nil {
		return fmt.Errorf("fetch the flags of %q: %w", f.info.Name, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status.UIDValidity != st.UIDValidity {
		return nil // renumbered meanwhile: the next look asks again
	}
	// Flags not fetched are kept: unchanged since (CHANGEDSINCE), or of a
	// message appended meanwhile (insert). Those of expunged messages are
	// never shown (makeFlagsFile goes by the listing).
	for uid, fl := range f.flags.byUID {
		if _, ok := got[uid]; !ok {
			got[uid] = fl
		}
	}
	f.flags.byUID, f.flags.modSeq, f.flags.fetched, f.flags.file = got, st.HighestModSeq, time.Now(), nil
	return nil
}

// systemFlags are the system flags a message can be given, spelt as
// RFC 9051 does (they are case-insensitive).
var systemFlags = []string{`\Answered`, `\Draft`, `\Flagged`, `\Seen`}

// canonicalFlags sorts flags, spells system flags one way and drops
// those a flags file leaves out.
func canonicalFlags(flags []string) []string {
	out := make([]string, 0, len(flags))
	for _, fl := range flags {
		if strings.EqualFold(fl, `\Recent`) || strings.EqualFold(fl, `\Deleted`) {
			continue
		}
		for _, sys := range systemFlags {
			if strings.EqualFold(fl, sys) {
				fl = sys
			}
		}
		out = append(out, fl)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// makeFlagsFile writes the flags file of msgs, sorted by name.
func makeFlagsFile(msgs []Msg, flags map[uint32][]string) ([]byte, time.Time) {
	idx := make([]int, len(msgs))
	var newest int64
	for i, m := range msgs {
		idx[i] = i
		newest = max(newest, m.Date.Unix())
	}
	sort.Slice(idx, func(a, b int) bool { return msgs[idx[a]].Stem < msgs[idx[b]].Stem })
	var b bytes.Buffer
	b.WriteString(flagsHeader)
	for _, i := range idx {
		b.WriteString(msgs[i].Stem)
		b.WriteByte('\t')
		b.WriteString(strings.Join(flags[msgs[i].UID], " "))
		b.WriteByte('\n')
	}
	sum := blake3.Sum256(b.Bytes())
	nsec := int64(binary.BigEndian.Uint64(sum[:8]) % 1e9)
	return b.Bytes(), time.Unix(newest, nsec)
}

// parseFlagsFile reads a flags file: flags by stem.
func parseFlagsFile(r io.Reader) (map[string][]string, error) {
	out := map[string][]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		stem, list, ok := strings.Cut(line, "\t")
		if !ok || stem == "" {
			return nil, fmt.Errorf("%w: line %d has no TAB between a name and its flags", ErrNotFlags, n)
		}
		var flags []string
		for _, fl := range strings.Fields(list) {
			if !validFlag(fl) {
				return nil, fmt.Errorf("%w: line %d: %q is no IMAP flag", ErrNotFlags, n, fl)
			}
			flags = append(flags, fl)
		}
		out[stem] = canonicalFlags(flags)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotFlags, err)
	}
	return out, nil
}

// validFlag accepts the system flags and keywords (IMAP atoms).
func validFlag(fl string) bool {
	if strings.HasPrefix(fl, `\`) {
		for _, sys := range append(systemFlags, `\Recent`, `\Deleted`) {
			if strings.EqualFold(fl, sys) {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(fl); i++ {
		ch := fl[i]
		if ch <= ' ' || ch >= 0x7f || strings.IndexByte(`(){%*"\]`, ch) >= 0 {
			return false
		}
	}
	return fl != ""
}

// SetFlags applies a flags file written into folder: the messages it
// names that the folder holds get exactly those flags (UID STORE, one
// command per distinct change); the others get them when they are
// appended. It takes s over.
func (c *Cache) SetFlags(ctx context.Context, folder string, s *Staged) error {
	defer s.Discard()
	size, err := s.Size()
	if err != nil {
		return err
	}
	want, err := parseFlagsFile(io.NewSectionReader(s.f, 0, size))
	if err != nil {
		return err
	}
	f, err := c.folder(folder)
	if err != nil {
		return err
	}
	if err := c.refreshFlags(ctx, f); err != nil {
		return err
	}
	type change struct {
		add   bool
		flags string
	}
	uids := map[change][]uint32{}
	pending := map[string][]string{}
	f.mu.Lock()
	uv := f.status.UIDValidity
	for stem, flags := range want {
		i, ok := f.byStem[stem]
		if !ok {
			pending[stem] = flags
			continue
		}
		uid := f.msgs[i].UID
		have := f.flags.byUID[uid]
		if add := without(flags, have); len(add) > 0 {
			k := change{true, strings.Join(add, " ")}
			uids[k] = append(uids[k], uid)
		}
		if del := without(have, flags); len(del) > 0 {
			k := change{false, strings.Join(del, " ")}
			uids[k] = append(uids[k], uid)
		}
	}
	f.flags.pending = pending
	f.mu.Unlock()

	for ch, list := range uids {
		slices.Sort(list)
		if err := c.src.StoreFlags(ctx, folder, uv, list, ch.add, strings.Fields(ch.flags)); err != nil {
			return err
		}
	}
	if len(uids) > 0 {
		c.log.Info("flags set", "folder", folder, "commands", len(uids))
	}
	f.mu.Lock()
	f.flags.byUID = nil // asked again: what the server made of them
	f.mu.Unlock()
	return nil
}

// takePending returns (and forgets) the flags a flags file gave the
// message to be appended as stem.
func (f *folder) takePending(stem string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	flags := f.flags.pending[stem]
	delete(f.flags.pending, stem)
	return flags
}

// without returns the flags of a not in b (both canonical).
func without(a, b []string) []string {
	var out []string
	for _, fl := range a {
		if !slices.Contains(b, fl) {
			out = append(out, fl)
		}
	}
	return out
}
