// Package cache is mailfs's on-disk store of one mail account: the folder
// list, each folder's UIDVALIDITY/UIDNEXT, a small record per message (UID,
// size, INTERNALDATE, subject, Message-ID) and the message bodies. It decides
// what to fetch from the Source (imapsrc) and when; it never speaks IMAP and
// never imports FUSE.
//
// # Store
//
// Metadata lives in a bbolt database (go.etcd.io/bbolt: pure Go, one file,
// transactional, maintained by the etcd project). A folder sync is one
// transaction, so a crash leaves either the old or the new state, and a
// folder of 100,000 messages is read back in one sequential scan. SQLite
// would give queries we do not need at the price of a much larger
// dependency. Bodies are plain files beside the database (see body.go) so
// the kernel can read them with no copy through the database, and so that
// a damaged body costs one refetch, not a damaged database.
//
// # Trust
//
// A wrong byte is the worst bug mailfs can have, so nothing is believed
// without evidence. A body is stored only when the source delivered it
// whole (Source.FetchBodies returned nil: exact literal, right section,
// command completed with OK); it is written to a temporary file and renamed
// into place only then (temporaries a killed process left are removed at
// open). Each body file carries its BLAKE3 hash (xattr user.mailfs.b3) and
// the message's INTERNALDATE as mtime, and is served only while its size
// and mtime are right; the hash is checked when a body is reused and by
// `mailfs sync --verify` (body.go), and compared with the server's bytes
// by `mailfs verify` (Check, check.go), which changes nothing. A folder's
// SHA256SUMS (sums.go) keeps each body's SHA-256 in a second xattr,
// user.mailfs.sha256, checking the BLAKE3 hash when it first computes it.
// A body whose size differs from
// RFC822.SIZE is kept with the true size, but the read that found out
// fails (ErrSizeChanged), since the reader was told the other size. Across
// a UIDVALIDITY change a body is kept only for a message that shows itself
// to be the same one (see adoptBodies). A record that fails to decode is
// dropped and refetched; a damaged meta.db is found at open and rebuilt
// from the server (repair.go). Files are 0600, folders 0700.
//
// # Writing
//
// For a writable mount the cache stages files written into a folder and
// appends them (stage.go): never a message the folder holds already, and
// never one lost when the server refuses it (it is kept in staging/kept).
//
// # Names
//
// A message file is named from the message itself, never from its UID, so
// that it has the same name in every account, on every server, after a
// UIDVALIDITY change and after the cache is wiped (MessageStem, Names): a
// backup or a migration by rsync then copies only what is new.
//
//   - The ID in the name (NameID) hashes the Message-ID (without <> and
//     space) and the INTERNALDATE in whole seconds: both are kept by every
//     server and by every migration that APPENDs with the date. Without a
//     Message-ID, the subject, date and size are hashed instead.
//   - The size is RFC822.SIZE as the server first listed it, kept in the
//     record beside the size corrected from the body, so a corrected size
//     renames nothing; after a wipe the server lists the same size again.
//     A message with a Message-ID does not depend on the size at all, so a
//     server that miscounts sizes names it like one that does not. Records
//     written before the listed size was kept take the stored size (the
//     corrected one, for the few messages whose size was wrong).
//   - 40 bits of ID are enough: the ID only has to tell apart messages of
//     the same second and subject. Names that still coincide (a message
//     stored twice, two messages with the same Message-ID and second, a
//     hash collision) get "-2", "-3", … in UID order, so every name of a
//     folder is unique and no two messages are ever served under one name.
//     When an earlier one is expunged, the later ones move up: for true
//     duplicates that changes nothing a copy could tell; for look-alikes
//     the name then shows other bytes, its file is told to the kernel as
//     changed (Change.Rebound), and rsync's size and date check sees it.
//     Dovecot and others keep the order of messages when renumbering, so
//     numbers stay; when a server reorders them, look-alikes may swap
//     names, and each name then shows the bytes of the message it names.
//
// Msg.Link, a hash of the same identity and the listed size, goes with the
// name into the inode number (fs/ino.go): copies of a message in several
// folders (same name and link) are hard links of one file, whose copies are
// compared by hash before it is first read (links.go). Folder names come
// from the server's mailbox names, see FolderComponent.
//
// # Goroutines and changes
//
// Every goroutine the cache starts ends with it: downloads, renders and
// delayed saves run through flightGroup.spawn, Run and its IDLE watcher
// end with Run's context or the cache's, and Close waits for all of them,
// so the source may be closed after Close. Changes are reported through
// OnChange with the folder's sync lock held, so that a folder's changes
// arrive in order; the callback must not block (fs queues them). Each
// folder keeps the date of its newest message as its listing changes
// (Newest: the mtime of its directory).
//
// # Status
//
// Status reports each folder's counts and its last sync and error,
// without the server; the times are saved beside the store in
// SyncStatusFile (status.go), once per SyncAll rather than per folder, so
// that a cache opened without a source (mailfs status) still tells them.
package cache
