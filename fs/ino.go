package fs

import (
	"hash/fnv"
	"strconv"
)

// Inode numbers are derived, never stored, so the same file has the same
// number across remounts:
//
//	message file: 1 | format (3 bits) | hash(account, folder, UIDVALIDITY) (28 bits) | UID (32 bits)
//	directory:    0 | hash(account, path) (63 bits), the root is 1
//
// The account is "" when one account is shown at the root.
//
// Two folders whose 28-bit hashes collide would share numbers; with a few
// hundred folders the chance is about one in ten thousand.

func fileIno(account, folder string, uidValidity, uid uint32, format int) uint64 {
	h := fnv.New64a()
	if account != "" {
		h.Write([]byte(account))
		h.Write([]byte{0})
	}
	h.Write([]byte(folder))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatUint(uint64(uidValidity), 10)))
	fh := h.Sum64() & (1<<28 - 1)
	return 1<<63 | uint64(format&7)<<60 | fh<<32 | uint64(uid)
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
