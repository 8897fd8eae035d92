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
// `mailfs sync --verify` (body.go). A body whose size differs from
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
// File names are derived only from what the server says (INTERNALDATE,
// subject, UID), see MessageStem; folder names from the server's mailbox
// names, see FolderComponent.
package cache
