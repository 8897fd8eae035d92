package imapsrc

// One bad item must not take down a folder or the account. go-imap gives
// up on a response it cannot parse (a folder name that is not modified
// UTF-7, an RFC822.SIZE of -5, an INTERNALDATE that is no date) and with
// it on the connection, so a LIST or a FETCH of a folder's listing would
// fail as a whole, at every try. When that happens the command is sent
// again on a framed connection (framed.go), which learns which response
// broke it, and again, leaving that response out, until it succeeds. The
// responses left out are remembered for the life of the Source, so each is
// reported once (with what the server sent) and not looked for again:
// known bad messages are left out of later fetches by UID; a bad response
// without a UID in front makes later listings of its folder use a framed
// connection straight away.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"regexp"
	"sort"
	"strconv"
	"sync"

	"github.com/emersion/go-imap/v2"

	"mailfs/cache"
)

// maxSkips bounds the responses one call leaves out (each costs a
// connection and the command again); the rest are found by the next call.
const maxSkips = 64

// skips is what a Source has learnt to leave out.
type skips struct {
	mu    sync.Mutex
	list  map[string]bool              // raw LIST responses
	fetch map[folderUV]map[string]bool // raw FETCH responses
	uids  map[folderUV]map[uint32]bool // UIDs of messages whose FETCH response is unreadable
	names map[string]bool              // folder names reported as unusable
}

type folderUV struct {
	folder string
	uv     uint32
}

// listSet and fetchSet return copies of the responses to leave out, safe
// to use while skips changes.
func (sk *skips) listSet() map[string]bool {
	return sk.copySet(func() map[string]bool { return sk.list })
}

func (sk *skips) fetchSet(folder string, uv uint32) map[string]bool {
	return sk.copySet(func() map[string]bool { return sk.fetch[folderUV{folder, uv}] })
}

func (sk *skips) copySet(m func() map[string]bool) map[string]bool {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	out := map[string]bool{}
	for k := range m() {
		out[k] = true
	}
	return out
}

// badUIDs returns the known unreadable messages of a folder, sorted.
func (sk *skips) badUIDs(folder string, uv uint32) []uint32 {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	var out []uint32
	for uid := range sk.uids[folderUV{folder, uv}] {
		out = append(out, uid)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// fetchWithoutUID reports whether a folder has unreadable FETCH responses
// that could not be pinned to a UID, so that only a framed connection
// lists it.
func (sk *skips) fetchWithoutUID(folder string, uv uint32) bool {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	for resp := range sk.fetch[folderUV{folder, uv}] {
		if _, ok := fetchUID(resp); !ok {
			return true
		}
	}
	return false
}

// addList records an unreadable LIST response; false if already known.
func (sk *skips) addList(resp string) bool {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.list[resp] {
		return false
	}
	if sk.list == nil {
		sk.list = map[string]bool{}
	}
	sk.list[resp] = true
	return true
}

func (sk *skips) hasList() bool {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	return len(sk.list) > 0
}

// addFetch records an unreadable FETCH response of a folder, and its UID
// when it has one; false if already known.
func (sk *skips) addFetch(folder string, uv uint32, resp string) bool {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	k := folderUV{folder, uv}
	if sk.fetch[k][resp] {
		return false
	}
	if sk.fetch == nil {
		sk.fetch = map[folderUV]map[string]bool{}
		sk.uids = map[folderUV]map[uint32]bool{}
	}
	if sk.fetch[k] == nil {
		sk.fetch[k] = map[string]bool{}
	}
	sk.fetch[k][resp] = true
	if uid, ok := fetchUID(resp); ok {
		if sk.uids[k] == nil {
			sk.uids[k] = map[uint32]bool{}
		}
		sk.uids[k][uid] = true
	}
	return true
}

// reportName records a folder name reported as unusable; false if it was
// reported before.
func (sk *skips) reportName(name string) bool {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.names[name] {
		return false
	}
	if sk.names == nil {
		sk.names = map[string]bool{}
	}
	sk.names[name] = true
	return true
}

// fetchHead matches the start of a FETCH response whose first item is the
// UID, as go-imap asks for it: then the UID is sure to be the message's.
var fetchHead = regexp.MustCompile(`^\* [0-9]+ (?i:FETCH) \((?i:UID) ([0-9]+)[ )]`)

// fetchUID returns the UID at the head of a raw FETCH response.
func fetchUID(resp string) (uint32, bool) {
	m := fetchHead.FindStringSubmatch(resp)
	if m == nil {
		return 0, false
	}
	uid, err := strconv.ParseUint(m[1], 10, 32)
	if err != nil || uid == 0 {
		return 0, false
	}
	return uint32(uid), true
}

// isFetchResponse reports whether resp begins "* N FETCH ".
var isFetchResponse = regexp.MustCompile(`^\* [0-9]+ (?i:FETCH) `).Match

// brokeConn reports whether err is a failure that may have been go-imap
// giving up on a response (and so the connection), not an answer.
func brokeConn(ctx context.Context, err error) bool {
	var ie *imap.Error
	return err != nil && ctx.Err() == nil && !errors.As(err, &ie) &&
		!errors.Is(err, errUIDValidity) && !errors.Is(err, cache.ErrGone)
}

// onFramed runs op once on a new framed connection that leaves out the
// responses in skip. If op fails because go-imap gave up on a response of
// the kind want accepts, that response is returned with the error.
func (s *Source) onFramed(ctx context.Context, skip map[string]bool, want func([]byte) bool, op func(cn *conn) error) ([]byte, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.sem }()
	var fc *framedConn
	cn, err := dialVia(ctx, &s.cfg, nil, func(nc net.Conn) net.Conn {
		fc = newFramedConn(nc, skip)
		return fc
	})
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, cn.close)
	endWatch := cn.watch(s.cfg.StallTimeout)
	err = op(cn)
	if err == nil {
		cn.c.Logout().Wait()
	}
	stalled := endWatch()
	stop()
	cn.close() // waits for go-imap's reader: fc is settled after it
	if stalled && err != nil {
		return nil, fmt.Errorf("no progress for %s, connection closed: %w", s.cfg.StallTimeout, err)
	}
	if !brokeConn(ctx, err) {
		return nil, err
	}
	resp, ok := fc.culprit()
	if !ok || !want(resp) {
		return nil, err
	}
	return resp, err
}

// shorten cuts a raw response for a log line (which quotes it).
func shorten(resp []byte) string {
	const max = 300
	if len(resp) > max {
		return string(resp[:max]) + "…"
	}
	return string(resp)
}

// skipping runs op on framed connections until it succeeds, each time
// leaving out one more response of the kind want accepts that broke it;
// add records and reports that response (false: it was known, so skipping
// it got nowhere). A break that no response is to blame for (the network)
// is tried once more.
func (s *Source) skipping(ctx context.Context, set func() map[string]bool, want func([]byte) bool, op func(cn *conn) error, add func(bad []byte, err error) bool) error {
	retried := false
	for range maxSkips {
		bad, err := s.onFramed(ctx, set(), want, op)
		switch {
		case err == nil:
			return nil
		case bad != nil:
			if !add(bad, err) {
				return err
			}
		case !retried && brokeConn(ctx, err):
			retried = true
		default:
			return err
		}
	}
	return fmt.Errorf("more than %d responses mailfs cannot read", maxSkips)
}

// listSkipping lists every folder on framed connections, leaving out (and
// reporting once) each LIST response go-imap cannot read.
func (s *Source) listSkipping(ctx context.Context) ([]*imap.ListData, error) {
	var list []*imap.ListData
	err := s.skipping(ctx, s.skips.listSet, isListResponse, func(cn *conn) error {
		var err error
		list, err = cn.c.List("", "*", nil).Collect()
		return err
	}, func(bad []byte, err error) bool {
		if !s.skips.addList(string(bad)) {
			return false
		}
		s.log.Warn("list: skipping a folder whose LIST response mailfs cannot read", "response", shorten(bad), "err", err)
		return true
	})
	return list, err
}

// fetchMetaSkipping is FetchMeta's op run on framed connections, leaving
// out (and reporting once) each FETCH response go-imap cannot read.
func (s *Source) fetchMetaSkipping(ctx context.Context, folder string, uv uint32, op func(cn *conn) error) error {
	set := func() map[string]bool { return s.skips.fetchSet(folder, uv) }
	return s.skipping(ctx, set, isFetchResponse, op, func(bad []byte, err error) bool {
		if !s.skips.addFetch(folder, uv, string(bad)) {
			return false
		}
		args := []any{"folder", folder, "response", shorten(bad), "err", err}
		if uid, ok := fetchUID(string(bad)); ok {
			args = append(args, "uid", uid)
		}
		s.log.Warn("fetch meta: skipping a message whose FETCH response mailfs cannot read", args...)
		return true
	})
}

// uidsFrom is the UID set from:* without the UIDs in skip (sorted), ending
// in the highest UID rather than "*" when there are any, since "*" stands
// for the highest UID in the folder even when it is below from.
func uidsFrom(from uint32, skip []uint32) imap.UIDSet {
	var set imap.UIDSet
	if len(skip) == 0 {
		set.AddRange(imap.UID(from), 0)
		return set
	}
	lo := uint64(from)
	for _, b := range skip {
		if uint64(b) < lo {
			continue
		}
		if uint64(b) > lo {
			set.AddRange(imap.UID(lo), imap.UID(b-1))
		}
		lo = uint64(b) + 1
	}
	if lo <= math.MaxUint32 {
		set.AddRange(imap.UID(lo), imap.UID(math.MaxUint32))
	}
	return set
}

// without returns uids minus the sorted skip.
func without(uids []imap.UID, skip []uint32) []imap.UID {
	if len(skip) == 0 {
		return uids
	}
	out := uids[:0:0]
	for _, u := range uids {
		i := sort.Search(len(skip), func(i int) bool { return skip[i] >= uint32(u) })
		if i == len(skip) || skip[i] != uint32(u) {
			out = append(out, u)
		}
	}
	return out
}
