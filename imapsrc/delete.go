package imapsrc

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2"
)

// Expunge implements cache.Source: it removes exactly one message, with
// UID STORE +FLAGS.SILENT (\Deleted) and UID EXPUNGE of that UID only
// (UIDPLUS), never a plain EXPUNGE or CLOSE, which would also remove what
// other clients marked \Deleted. The folder is selected read-write for
// it; the pool then no longer counts it as selected, so the next read
// EXAMINEs again.
func (s *Source) Expunge(ctx context.Context, folder string, uidValidity, uid uint32) error {
	return s.run(ctx, "expunge", "", 1, func(cn *conn) error {
		caps := cn.c.Caps()
		if !caps.Has(imap.CapUIDPlus) && !caps.Has(imap.CapIMAP4rev2) {
			return errors.New("the server lacks UIDPLUS: mailfs deletes only with UID EXPUNGE, which removes nothing but the message asked for")
		}
		cn.selected, cn.uidValidity = "", 0
		data, err := cn.c.Select(folder, nil).Wait()
		if err != nil {
			return mapNo(err, folder)
		}
		if data.UIDValidity != uidValidity {
			return fmt.Errorf("%q: %w", folder, errUIDValidity)
		}
		set := imap.UIDSetNum(imap.UID(uid))
		store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
		if err := cn.c.Store(set, store, nil).Close(); err != nil {
			return fmt.Errorf("store \\Deleted on %q UID %d: %w", folder, uid, err)
		}
		if err := cn.c.UIDExpunge(set).Close(); err != nil {
			return fmt.Errorf("UID EXPUNGE %q UID %d: %w", folder, uid, err)
		}
		return nil
	})
}

// DeleteFolder implements cache.Source (DELETE).
func (s *Source) DeleteFolder(ctx context.Context, name string) error {
	return s.run(ctx, "delete", "", 1, func(cn *conn) error {
		if cn.selected == name {
			cn.selected, cn.uidValidity = "", 0
			if err := cn.c.Unselect().Wait(); err != nil {
				return err
			}
		}
		if err := cn.c.Delete(name).Wait(); err != nil {
			return fmt.Errorf("delete %q: %w", name, mapNo(err, name))
		}
		return nil
	})
}
