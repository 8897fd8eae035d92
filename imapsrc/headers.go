package imapsrc

import (
	"context"

	"github.com/emersion/go-imap/v2"
)

// FetchHeaders implements cache.Source with one UID FETCH of
// BODY.PEEK[HEADER] for all of uids. The answers are kept only if the
// command completed with OK.
func (s *Source) FetchHeaders(ctx context.Context, folder string, uidValidity uint32, uids []uint32) (map[uint32][]byte, error) {
	var out map[uint32][]byte
	err := s.do(ctx, "fetch headers", folder, func(cn *conn) error {
		out = map[uint32][]byte{}
		if len(uids) == 0 {
			return nil
		}
		if err := cn.examine(folder, uidValidity); err != nil {
			return err
		}
		var set imap.UIDSet
		for _, uid := range uids {
			set.AddNum(imap.UID(uid))
		}
		section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
		cmd := cn.c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			buf, err := cn.collect(msg)
			if err != nil {
				return err // the command is not to be touched again
			}
			if buf.body != nil && buf.uid != 0 {
				out[uint32(buf.uid)] = buf.body
			}
		}
		return cmd.Close()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
