package imapsrc

import (
	"context"
	"errors"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// ErrNoIdle means the server does not support IMAP IDLE.
var ErrNoIdle = errors.New("server has no IDLE")

// Watch calls changed whenever the server reports new or expunged messages
// in folder, using IMAP IDLE on a connection of its own (one more than
// Config.Conns), until ctx ends. A lost connection is opened again after a
// pause. It returns ErrNoIdle at once if the server lacks IDLE. changed
// must not block.
//
// changed is also called each time IDLE has started, the first time
// included: what happened while no IDLE was running (during a reconnect,
// or before the first start) is reported by no one else.
func (s *Source) Watch(ctx context.Context, folder string, changed func()) error {
	pause := time.Second
	for ctx.Err() == nil {
		start := time.Now()
		err := s.idleOnce(ctx, folder, changed)
		if ctx.Err() != nil || errors.Is(err, ErrNoIdle) {
			return err
		}
		if time.Since(start) > time.Minute {
			pause = time.Second
		}
		s.log.Warn("idle: connection lost, reconnecting", "folder", folder, "in", pause, "err", err)
		select {
		case <-time.After(pause):
		case <-ctx.Done():
		}
		pause = min(2*pause, 5*time.Minute)
	}
	return ctx.Err()
}

// idleOnce watches folder on one connection until it breaks or ctx ends.
func (s *Source) idleOnce(ctx context.Context, folder string, changed func()) error {
	h := &imapclient.UnilateralDataHandler{
		Expunge: func(uint32) { changed() },
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				changed()
			}
		},
	}
	cn, err := dialWith(ctx, &s.cfg, h)
	if err != nil {
		return err
	}
	defer cn.close()
	if caps := cn.c.Caps(); !caps.Has(imap.CapIdle) && !caps.Has(imap.CapIMAP4rev2) {
		return ErrNoIdle
	}
	if err := cn.examine(folder, 0); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, cn.close)
	defer stop()
	cmd, err := cn.c.Idle() // restarted by go-imap before servers time it out
	if err != nil {
		return err
	}
	s.log.Debug("idle", "folder", folder)
	changed() // whatever came before this IDLE went unreported
	<-cn.c.Closed()
	cmd.Close()
	return errors.New("connection closed")
}
