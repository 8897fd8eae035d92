package imapsrc

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2"
)

// FetchFlags implements cache.Source: one UID FETCH of FLAGS, of the
// messages changed since changedSince (CHANGEDSINCE, CONDSTORE) or of all
// when it is 0 or the server lacks CONDSTORE.
func (s *Source) FetchFlags(ctx context.Context, folder string, uidValidity uint32, changedSince uint64, fn func(uid uint32, flags []string)) error {
	return s.do(ctx, "fetch flags", folder, func(cn *conn) error {
		if err := cn.examineFresh(folder, uidValidity); err != nil {
			return err
		}
		var all imap.UIDSet
		all.AddRange(1, 0)
		opts := &imap.FetchOptions{UID: true, Flags: true}
		if changedSince > 0 && cn.c.Caps().Has(imap.CapCondStore) {
			opts.ChangedSince = changedSince
		}
		cmd := cn.c.Fetch(all, opts)
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			buf, err := cn.collect(msg)
			if err != nil {
				return err // the command is not to be touched again
			}
			cn.progress()
			if buf.uid == 0 {
				continue // a FETCH the server sent for its own reasons
			}
			flags := make([]string, len(buf.flags))
			for i, f := range buf.flags {
				flags[i] = string(f)
			}
			fn(uint32(buf.uid), flags)
		}
		return cmd.Close()
	})
}

// StoreFlags implements cache.Source: UID STORE +FLAGS.SILENT (or
// -FLAGS.SILENT) of flags on exactly uids. The folder is selected
// read-write for it, as for Expunge.
func (s *Source) StoreFlags(ctx context.Context, folder string, uidValidity uint32, uids []uint32, add bool, flags []string) error {
	if len(uids) == 0 || len(flags) == 0 {
		return nil
	}
	set := make([]imap.UID, len(uids))
	for i, u := range uids {
		set[i] = imap.UID(u)
	}
	store := &imap.StoreFlags{Op: imap.StoreFlagsDel, Silent: true, Flags: imapFlags(flags)}
	if add {
		store.Op = imap.StoreFlagsAdd
	}
	// Adding or removing flags again changes nothing: a retry is safe.
	return s.do(ctx, "store flags", "", func(cn *conn) error {
		if err := cn.selectWritable(folder, uidValidity); err != nil {
			return err
		}
		if err := cn.c.Store(imap.UIDSetNum(set...), store, nil).Close(); err != nil {
			return fmt.Errorf("store flags in %q: %w", folder, err)
		}
		return nil
	})
}

func imapFlags(flags []string) []imap.Flag {
	out := make([]imap.Flag, len(flags))
	for i, f := range flags {
		out[i] = imap.Flag(f)
	}
	return out
}
