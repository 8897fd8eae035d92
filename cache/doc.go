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
// Nothing on disk is served without checking it: a body is used only when
// its size equals the message's size; a record that fails to decode is
// dropped and refetched; a damaged meta.db is found at open and rebuilt
// from the server (repair.go). Bodies are written to a temporary file and
// renamed into place when complete; temporaries left by a killed process
// are removed at open. Across a UIDVALIDITY change a body is kept only for
// a message that shows itself to be the same one (see adoptBodies). Files
// are 0600, folders 0700.
//
// # Names
//
// File names are derived only from what the server says (INTERNALDATE,
// subject, UID), see MessageStem; folder names from the server's mailbox
// names, see FolderComponent.
package cache
