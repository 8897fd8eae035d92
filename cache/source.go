package cache

import (
	"context"
	"errors"
	"io"
	"time"
)

// Source is what the cache needs from a mail server. imapsrc implements it;
// tests may substitute their own.
type Source interface {
	// Folders lists every mailbox, selectable or not. A mailbox the
	// server names in a form that cannot be read is left out (and
	// reported by the Source), not an error.
	Folders(ctx context.Context) ([]FolderInfo, error)
	// Status reports a mailbox's counters without selecting it.
	Status(ctx context.Context, folder string) (Status, error)
	// Statuses is Status for many folders at once (pipelined); folders
	// it could not ask about are left out.
	Statuses(ctx context.Context, folders []string) (map[string]Status, error)
	// FetchMeta calls fn for every message whose UID is at least from,
	// once each, in ascending UID order as far as the server sends them
	// so. A message the server describes in a form that cannot be read
	// is left out (and reported by the Source), not an error. It fails
	// with ErrUIDValidity when the mailbox's UIDVALIDITY is no longer
	// uidValidity.
	FetchMeta(ctx context.Context, folder string, uidValidity, from uint32, fn func(Meta) error) error
	// UIDs lists the UIDs the mailbox holds now.
	UIDs(ctx context.Context, folder string, uidValidity uint32) ([]uint32, error)
	// FetchBodies streams the messages' exact bytes (BODY.PEEK[]) to fn,
	// in one command, in any order. A body handed to fn counts only if
	// FetchBodies then returns nil: a reader that ends early fails, and a
	// message may be passed to fn again from the start (after a lost
	// connection). Messages no longer on the server are left out without
	// an error.
	FetchBodies(ctx context.Context, folder string, uidValidity uint32, uids []uint32, fn func(uid uint32, r io.Reader) error) error
	// FetchHeaders returns the messages' header sections (BODY.PEEK[HEADER]:
	// the bytes up to and including the blank line after the header), in
	// one command. Messages no longer on the server are left out.
	FetchHeaders(ctx context.Context, folder string, uidValidity uint32, uids []uint32) (map[uint32][]byte, error)
	// FetchPart writes bytes [off, off+n) of one message's body to w and
	// returns how many it wrote; fewer than n means the body ends there.
	// It fails unless the part arrived whole; what w took then is void.
	FetchPart(ctx context.Context, folder string, uidValidity, uid uint32, off, n int64, w io.Writer) (int64, error)
	// Append adds a message of size bytes read from r to folder, with
	// INTERNALDATE date and flags (IMAP APPEND; only a writable mount
	// calls it). It
	// returns the folder's UIDVALIDITY and the new UID when the server
	// tells them (UIDPLUS), else zeros. A refusal for lack of room fails
	// with ErrOverQuota, one for the message's size with ErrTooBig. It is
	// never retried: a message the server may have taken is never sent
	// twice.
	Append(ctx context.Context, folder string, r io.Reader, size int64, date time.Time, flags []string) (uidValidity, uid uint32, err error)
	// FetchFlags passes the flags of the folder's messages to fn: of
	// those changed since the HIGHESTMODSEQ changedSince (CONDSTORE), or
	// of all when it is 0 or the server cannot tell.
	FetchFlags(ctx context.Context, folder string, uidValidity uint32, changedSince uint64, fn func(uid uint32, flags []string)) error
	// StoreFlags adds (or removes) flags on exactly the messages uids
	// (UID STORE; only a writable mount calls it).
	StoreFlags(ctx context.Context, folder string, uidValidity uint32, uids []uint32, add bool, flags []string) error
	// CreateFolder creates a mailbox (IMAP CREATE). One that exists
	// already fails with an error matching os.ErrExist.
	CreateFolder(ctx context.Context, name string) error
	// Expunge removes exactly one message (UID EXPUNGE; only a writable
	// mount that allows deletes calls it).
	Expunge(ctx context.Context, folder string, uidValidity, uid uint32) error
	// DeleteFolder removes an (empty) mailbox (IMAP DELETE).
	DeleteFolder(ctx context.Context, name string) error
	// Move moves one message to another folder (UID MOVE).
	Move(ctx context.Context, folder string, uidValidity, uid uint32, to string) error
	// RenameFolder renames a mailbox and its subfolders (IMAP RENAME).
	RenameFolder(ctx context.Context, name, to string) error
}

// Watcher is a Source that also reports changes as they happen (IMAP
// IDLE). Watch calls changed (which must not block) until ctx ends, and
// also each time watching (re)starts, since changes made while it was not
// watching went unreported.
type Watcher interface {
	Watch(ctx context.Context, folder string, changed func()) error
}

// FolderInfo describes one mailbox as the server lists it.
type FolderInfo struct {
	Name     string // UTF-8, as the server names it (decoded from modified UTF-7)
	Delim    rune   // hierarchy delimiter, 0 if the server has none
	NoSelect bool   // a hierarchy level only: holds no messages
}

// Status holds the counters that tell whether a folder changed.
type Status struct {
	UIDValidity uint32
	UIDNext     uint32
	Messages    uint32
	// HighestModSeq changes whenever a message's flags do (CONDSTORE);
	// 0 when the server cannot tell.
	HighestModSeq uint64
}

// Meta is what the cache keeps about a message without its body.
type Meta struct {
	UID       uint32
	Size      int64     // RFC822.SIZE, corrected once the body is fetched
	Date      time.Time // INTERNALDATE
	Subject   string    // decoded to UTF-8
	MessageID string

	listed    int64 // RFC822.SIZE as first listed, if hasListed
	hasListed bool  // set for records read from the store
}

// listedSize is the size the server listed the message with first: what
// names are derived from, so that a corrected size renames nothing.
func (m Meta) listedSize() int64 {
	if m.hasListed {
		return m.listed
	}
	return m.Size
}

var (
	// ErrUIDValidity means the folder's UIDs were reassigned by the server.
	ErrUIDValidity = errors.New("folder UIDVALIDITY changed")
	// ErrGone means the message or folder no longer exists on the server.
	ErrGone = errors.New("no longer on the server")
	// ErrNotFound means there is no such folder or message in the cache.
	ErrNotFound = errors.New("not found")
	// ErrSizeChanged means a message's body turned out to have another
	// size than the one shown for its file: the read that found out fails
	// (the file system was told the new size), the next one succeeds.
	ErrSizeChanged = errors.New("message size differs from the size the server announced; read the file again")
	// ErrOverQuota means the server refused a message for lack of room.
	ErrOverQuota = errors.New("the server refused the message: over quota")
	// ErrTooBig means the server refused a message for its size.
	ErrTooBig = errors.New("the server refused the message: too big")
	// ErrNotMessage means a file written into a folder is not a mail
	// message (it does not begin with a header field).
	ErrNotMessage = errors.New("not a mail message (it must begin with a header field such as \"From: ...\")")
)
