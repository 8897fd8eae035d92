package imapsrc

import (
	"bytes"
	"context"
	"io"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// FetchBodies implements cache.Source with one UID FETCH for all of uids.
// Bodies are streamed from the connection to fn, never held in memory
// (unless a server sends a body before its UID, which servers do not do).
func (s *Source) FetchBodies(ctx context.Context, folder string, uidValidity uint32, uids []uint32, fn func(uint32, io.Reader) error) error {
	done := map[uint32]bool{}
	return s.do(ctx, "fetch body", folder, func(cn *conn) error {
		if err := cn.examine(folder, uidValidity); err != nil {
			return err
		}
		var set imap.UIDSet
		for _, uid := range uids {
			if !done[uid] {
				set.AddNum(imap.UID(uid))
				s.log.Debug("fetch body", "folder", folder, "uid", uid)
				s.bodyFetches.Add(1)
			}
		}
		if len(set) == 0 {
			return nil
		}
		cmd := cn.c.Fetch(set, &imap.FetchOptions{
			UID:         true,
			BodySection: []*imap.FetchItemBodySection{{Peek: true}},
		})
		var fnErr error
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			var uid uint32
			var early []byte // a body that came before its UID
			for item := msg.Next(); item != nil; item = msg.Next() {
				switch item := item.(type) {
				case imapclient.FetchItemDataUID:
					uid = uint32(item.UID)
				case imapclient.FetchItemDataBodySection:
					if item.Literal == nil || fnErr != nil {
						continue
					}
					if uid == 0 {
						early, fnErr = io.ReadAll(item.Literal)
						continue
					}
					fnErr = fn(uid, item.Literal)
					done[uid] = fnErr == nil
				}
			}
			if early != nil && uid != 0 && fnErr == nil {
				fnErr = fn(uid, bytes.NewReader(early))
				done[uid] = fnErr == nil
			}
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		return fnErr
	})
}
