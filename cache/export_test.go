package cache

import (
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// WriteOldRecords rewrites a closed cache's message records of folder as
// mailfs wrote them before records kept the listed size.
func WriteOldRecords(dir, folder string) error {
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o600, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error {
		b := msgBucket(tx, folder)
		return b.ForEach(func(k, v []byte) error {
			r, err := decodeMsg(v)
			if err != nil {
				return err
			}
			old := encoder{recVersion}
			old.uint(uint64(r.Size))
			old.uint(uint64(r.Date))
			old.str(r.Subject)
			old.str(r.MessageID)
			return b.Put(k, old)
		})
	})
}

// ParseFlagsFile and MakeFlagsFile are the flags file's reader and writer.
var (
	ParseFlagsFile = parseFlagsFile
	MakeFlagsFile  = makeFlagsFile
)

// WriteSumLine writes one line of a folder's checksum file, of
// SumLineLen bytes.
var (
	WriteSumLine = writeSumLine
	SumLineLen   = sumLineLen
)
