package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Layout of the metadata database (meta.db):
//
//	folders/<name>          folderRec
//	msgs/<name>/<uid BE32>  msgRec
//
// Records are small hand-rolled binary encodings (uvarints and
// length-prefixed strings after a version byte): a folder of 100,000
// messages loads in tens of milliseconds.

var (
	bucketFolders = []byte("folders")
	bucketMsgs    = []byte("msgs")
)

const recVersion = 1

type folderRec struct {
	Info   FolderInfo
	Status Status // as of the last completed sync
}

type msgRec struct {
	Size      int64
	Date      int64 // unix nanoseconds of INTERNALDATE
	Subject   string
	MessageID string
	Listed    int64 // RFC822.SIZE as first listed; records before it have none
}

func uidKey(uid uint32) []byte {
	return binary.BigEndian.AppendUint32(nil, uid)
}

type encoder []byte

func (e *encoder) uint(v uint64) { *e = binary.AppendUvarint(*e, v) }
func (e *encoder) str(s string)  { e.uint(uint64(len(s))); *e = append(*e, s...) }

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("truncated record")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.err = errors.New("truncated record")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) version() {
	if len(d.b) == 0 || d.b[0] != recVersion {
		d.err = fmt.Errorf("unknown record version")
		return
	}
	d.b = d.b[1:]
}

func (r folderRec) encode() []byte {
	e := encoder{recVersion}
	e.uint(uint64(r.Info.Delim))
	noSelect := uint64(0)
	if r.Info.NoSelect {
		noSelect = 1
	}
	e.uint(noSelect)
	e.uint(uint64(r.Status.UIDValidity))
	e.uint(uint64(r.Status.UIDNext))
	e.uint(uint64(r.Status.Messages))
	return e
}

func decodeFolder(name string, b []byte) (folderRec, error) {
	d := decoder{b: b}
	d.version()
	var r folderRec
	r.Info.Name = name
	r.Info.Delim = rune(d.uint())
	r.Info.NoSelect = d.uint() == 1
	r.Status.UIDValidity = uint32(d.uint())
	r.Status.UIDNext = uint32(d.uint())
	r.Status.Messages = uint32(d.uint())
	return r, d.err
}

func (r msgRec) encode() []byte {
	e := encoder{recVersion}
	e.uint(uint64(r.Size))
	e.uint(uint64(r.Date))
	e.str(r.Subject)
	e.str(r.MessageID)
	e.uint(uint64(r.Listed))
	return e
}

func decodeMsg(b []byte) (msgRec, error) {
	d := decoder{b: b}
	d.version()
	var r msgRec
	r.Size = int64(d.uint())
	r.Date = int64(d.uint())
	r.Subject = d.str()
	r.MessageID = d.str()
	r.Listed = r.Size
	if len(d.b) > 0 && d.err == nil {
		r.Listed = int64(d.uint())
	}
	return r, d.err
}

func recFromMeta(m Meta) msgRec {
	return msgRec{Size: m.Size, Date: m.Date.UnixNano(), Subject: m.Subject, MessageID: m.MessageID, Listed: m.listedSize()}
}

func (r msgRec) meta(uid uint32) Meta {
	return Meta{UID: uid, Size: r.Size, Date: time.Unix(0, r.Date), Subject: r.Subject, MessageID: r.MessageID, listed: r.Listed, hasListed: true}
}

// loadFolders reads every stored folder record.
func loadFolders(db *bolt.DB) (map[string]folderRec, error) {
	out := map[string]folderRec{}
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFolders)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			r, err := decodeFolder(string(k), v)
			if err != nil {
				return nil // a damaged record is refetched from the server
			}
			out[string(k)] = r
			return nil
		})
	})
	return out, err
}

// loadMsgs reads a folder's message records in UID order.
func loadMsgs(db *bolt.DB, folder string) ([]Meta, error) {
	var out []Meta
	err := db.View(func(tx *bolt.Tx) error {
		b := msgBucket(tx, folder)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 4 {
				return nil
			}
			r, err := decodeMsg(v)
			if err != nil {
				return nil
			}
			out = append(out, r.meta(binary.BigEndian.Uint32(k)))
			return nil
		})
	})
	return out, err
}

func msgBucket(tx *bolt.Tx, folder string) *bolt.Bucket {
	top := tx.Bucket(bucketMsgs)
	if top == nil {
		return nil
	}
	return top.Bucket([]byte(folder))
}

// usableFolders drops folders the store cannot hold: an empty name is no
// bbolt key (and names no mailbox that could be selected). imapsrc leaves
// them out already, and reports them; this keeps any Source from failing
// the whole folder list with one.
func usableFolders(infos []FolderInfo) []FolderInfo {
	out := infos[:0:0]
	for _, info := range infos {
		if info.Name != "" {
			out = append(out, info)
		}
	}
	return out
}

// errEmptyName is returned for a folder with an empty name.
var errEmptyName = errors.New("folder with an empty name")

// storeSync writes the outcome of one folder sync in one transaction.
// With reset, every earlier message record of the folder is dropped first.
func storeSync(db *bolt.DB, rec folderRec, reset bool, put []Meta, del []uint32) error {
	if rec.Info.Name == "" {
		return errEmptyName
	}
	return db.Update(func(tx *bolt.Tx) error {
		fb, err := tx.CreateBucketIfNotExists(bucketFolders)
		if err != nil {
			return err
		}
		if err := fb.Put([]byte(rec.Info.Name), rec.encode()); err != nil {
			return err
		}
		top, err := tx.CreateBucketIfNotExists(bucketMsgs)
		if err != nil {
			return err
		}
		if reset && top.Bucket([]byte(rec.Info.Name)) != nil {
			if err := top.DeleteBucket([]byte(rec.Info.Name)); err != nil {
				return err
			}
		}
		mb, err := top.CreateBucketIfNotExists([]byte(rec.Info.Name))
		if err != nil {
			return err
		}
		for _, uid := range del {
			if err := mb.Delete(uidKey(uid)); err != nil {
				return err
			}
		}
		for _, m := range put {
			if err := mb.Put(uidKey(m.UID), recFromMeta(m).encode()); err != nil {
				return err
			}
		}
		return nil
	})
}

// storeFolderInfo records the folder list; folders no longer listed are
// dropped with their messages.
func storeFolderInfo(db *bolt.DB, infos []FolderInfo, gone []string) error {
	return db.Update(func(tx *bolt.Tx) error {
		fb, err := tx.CreateBucketIfNotExists(bucketFolders)
		if err != nil {
			return err
		}
		top, err := tx.CreateBucketIfNotExists(bucketMsgs)
		if err != nil {
			return err
		}
		for _, name := range gone {
			fb.Delete([]byte(name))
			if top.Bucket([]byte(name)) != nil {
				top.DeleteBucket([]byte(name))
			}
		}
		for _, info := range infos {
			if info.Name == "" {
				return errEmptyName
			}
			rec := folderRec{Info: info}
			if old := fb.Get([]byte(info.Name)); old != nil {
				if r, err := decodeFolder(info.Name, old); err == nil {
					rec.Status = r.Status
				}
			}
			if err := fb.Put([]byte(info.Name), rec.encode()); err != nil {
				return err
			}
		}
		return nil
	})
}

// storeSize corrects the size in one message's record.
func storeSize(db *bolt.DB, folder string, uid uint32, size int64) error {
	return db.Update(func(tx *bolt.Tx) error {
		b := msgBucket(tx, folder)
		if b == nil {
			return nil
		}
		r, err := decodeMsg(b.Get(uidKey(uid)))
		if err != nil {
			return nil // refetched at the next reset anyway
		}
		r.Size = size
		return b.Put(uidKey(uid), r.encode())
	})
}
