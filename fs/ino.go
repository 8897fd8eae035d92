package fs

import (
	"encoding/binary"
	"hash/fnv"
)

// Inode numbers are derived, never stored, so the same file has the same
// number across remounts, after the server renumbers a folder and after
// the cache is wiped:
//
//	message file: 1 | format (3 bits) | hash(account, stem, link) (60 bits)
//	directory:    0 | hash(account, path) (63 bits), the root is 1
//
// The account is "" when one account is shown at the root. A message's
// stem and link (cache.Msg) come from the message itself, not from its
// folder or UID: the copies of one message in several folders of an
// account (Gmail labels, "[Gmail]/All Mail") have one number, and are hard
// links of one file (st_nlink counts the folders, see fileNode.nlink), so
// rsync -aH, cp -a, tar, restic and borg store them once.
//
// Two different messages whose 60-bit hashes collide would share a
// number; in an account of a million messages the chance is about one in
// two million.

func fileIno(account, stem string, link uint64, format int) uint64 {
	h := fnv.New64a()
	if account != "" {
		h.Write([]byte(account))
		h.Write([]byte{0})
	}
	h.Write([]byte(stem))
	h.Write(binary.BigEndian.AppendUint64([]byte{0}, link))
	return 1<<63 | uint64(format&7)<<60 | h.Sum64()&(1<<60-1)
}

func dirIno(account, path string) uint64 {
	if account == "" && path == "" {
		return 1
	}
	h := fnv.New64a()
	if account != "" {
		h.Write([]byte(account))
		h.Write([]byte{0})
	}
	h.Write([]byte(path))
	ino := h.Sum64() &^ (1 << 63)
	if ino <= 1 {
		ino += 2
	}
	return ino
}
