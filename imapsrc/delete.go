package imapsrc

import (
	"context"
	"errors"
	"fmt"
	"os"

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
		if err := cn.selectWritable(folder, uidValidity); err != nil {
			return err
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
		if err := cn.leave(name); err != nil {
			return err
		}
		if err := cn.c.Delete(name).Wait(); err != nil {
			return fmt.Errorf("delete %q: %w", name, mapNo(err, name))
		}
		return nil
	})
}

// Move implements cache.Source: UID MOVE of one message. Without MOVE,
// go-imap copies, marks and expunges; it does that with UID EXPUNGE only
// with UIDPLUS, so a server with neither is refused.
func (s *Source) Move(ctx context.Context, folder string, uidValidity, uid uint32, to string) error {
	return s.run(ctx, "move", "", 1, func(cn *conn) error {
		caps := cn.c.Caps()
		if !caps.Has(imap.CapMove) && !caps.Has(imap.CapUIDPlus) && !caps.Has(imap.CapIMAP4rev2) {
			return errors.New("the server lacks MOVE and UIDPLUS: mailfs moves only what it can move exactly")
		}
		if err := cn.selectWritable(folder, uidValidity); err != nil {
			return err
		}
		if _, err := cn.c.Move(imap.UIDSetNum(imap.UID(uid)), to).Wait(); err != nil {
			return fmt.Errorf("move %q UID %d to %q: %w", folder, uid, to, err)
		}
		return nil
	})
}

// RenameFolder implements cache.Source (RENAME; its subfolders go with it).
func (s *Source) RenameFolder(ctx context.Context, name, to string) error {
	return s.run(ctx, "rename", "", 1, func(cn *conn) error {
		if err := cn.leave(name); err != nil {
			return err
		}
		err := cn.c.Rename(name, to, nil).Wait()
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists {
			return fmt.Errorf("rename %q to %q: %w (server: %v)", name, to, os.ErrExist, err)
		}
		if err != nil {
			return fmt.Errorf("rename %q to %q: %w", name, to, mapNo(err, name))
		}
		return nil
	})
}

// selectWritable selects folder read-write (SELECT) and checks its
// UIDVALIDITY. The pool then no longer counts the folder as selected, so
// the next read EXAMINEs it again.
func (cn *conn) selectWritable(folder string, uidValidity uint32) error {
	cn.selected, cn.uidValidity = "", 0
	data, err := cn.c.Select(folder, nil).Wait()
	if err != nil {
		return mapNo(err, folder)
	}
	if data.UIDValidity != uidValidity {
		return fmt.Errorf("%q: %w", folder, errUIDValidity)
	}
	return nil
}

// leave unselects folder if it is the one selected, before the folder
// itself is deleted or renamed.
func (cn *conn) leave(folder string) error {
	if cn.selected != folder {
		return nil
	}
	cn.selected, cn.uidValidity = "", 0
	return cn.c.Unselect().Wait()
}
