// Package fs is mailfs's FUSE layer (go-fuse v2): it shows each account's
// folders as directories and its messages as files, and translates file
// operations into calls on the cache. It is the only package that imports
// go-fuse (as fusefs: that package is named fs too); it never speaks IMAP and keeps no state of its own beyond what
// the kernel needs (and, for a file being written, its size and mtime:
// the data is staged by the cache).
//
// # Kernel caches
//
// Message files never change, so the kernel is allowed to keep everything
// for long (timeouts in mount.go) and is told when something does change:
//
//   - entries and attributes: an hour; a new message is announced with
//     NotifyEntry, an expunged one with NotifyDelete, a corrected size with
//     NotifyContent on the file;
//   - directory listings: kept (FOPEN_CACHE_DIR) and dropped with
//     NotifyContent on the directory when its folder changes;
//   - file contents: with zero-message opens (Linux 4.19+) the kernel sends
//     no OPEN, FLUSH or RELEASE at all and keeps file pages; reads without
//     a handle go through a small cache of open files (fdcache.go). Where
//     opens are sent, the cache file is handed to the kernel (passthrough)
//     or kept with FOPEN_KEEP_CACHE.
//
// A lookup never renders a view: a view whose size is not known yet is
// returned with a zero attribute timeout, so the next stat asks Getattr,
// which renders it. Plain ls therefore renders nothing.
//
// The files made from a whole folder or account (the flags file, the
// checksum file, the folder mbox, the status file) do change; one node
// type serves them, with short attribute timeouts (generated.go).
//
// Notifications are sent from one goroutine per mount (notify.go), never
// from the request or the cache call that found the change: the kernel
// may hold the directory's lock until that request returns, and the cache
// reports a change with the folder's sync lock held. Queueing never
// blocks. That goroutine is the only one the package starts; Unmount and
// Wait end it and wait for it, so an unmounted Mount leaves nothing
// running (TestUnmountLeavesNoGoroutine).
//
// # Writing
//
// A writable account (Account.ReadWrite) takes new message files and
// folders; write.go says how each operation maps to the server. A
// writable mount keeps OPEN and FLUSH (a message is appended at its
// close), so it does without zero-message opens.
//
// # Names and numbers
//
// Names come from the cache (cache.Names, cache.FolderComponent). Inode
// numbers are derived from the account, the message's name and link key,
// and the format (ino.go), never from folder or UID: they are the same
// across remounts and renumbering, and the copies of one message in several
// folders are hard links of one node. That node reads whichever copy is
// still there, after the cache has verified that the copies are alike
// (cache.VerifyLinks); a node whose name now shows another message answers
// ESTALE, so the reader looks the name up again.
//
// # Errors
//
// errno.go maps the cache's errors to errno values in one place: gone or
// unknown messages are ENOENT, cancelled requests EINTR, anything else is
// logged with the file's path and becomes EIO.
package fs
