package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// The sync workload measures the engine without the mount: `mailfs sync`
// into an empty cache against mbsync -a into an empty Maildir, then both
// again with nothing new (the nightly no-op).

func (b *bench) phaseSync() error {
	full := b.addRow("mailfs sync into an empty cache", "mbsync -a, FSync no", 0.5)
	noop := b.addRow("no-op mailfs sync (nothing new)", "no-op mbsync -a", 0.2)
	cache := filepath.Join(b.work, "sync-cache")
	return b.alternate(
		func() error {
			progress("sync: mailfs")
			if err := b.discard(cache); err != nil {
				return err
			}
			b.dropCaches()
			r, err := b.mailfsSync(cache)
			if err != nil {
				return err
			}
			full.addCommand(r)
			progress("  %.2fs, mailfs CPU %.2fs", r.wall.Seconds(), r.user+r.sys)
			r, err = b.mailfsSync(cache)
			if err != nil {
				return err
			}
			noop.addCommand(r)
			progress("  no-op: %.2fs", r.wall.Seconds())
			return nil
		},
		func() error {
			progress("sync: mbsync, FSync no")
			r, err := b.mbsync(false)
			if err != nil {
				return err
			}
			full.addPeer(r)
			progress("  %.2fs", r.wall.Seconds())
			conf, err := b.mbsyncConfig(filepath.Join(b.work, "mbsync"), false)
			if err != nil {
				return err
			}
			r, err = timeCmd(false, nil, "mbsync", "-q", "-c", conf, "-a")
			if err != nil {
				return err
			}
			noop.addPeer(r)
			progress("  no-op: %.2fs", r.wall.Seconds())
			return nil
		},
	)
}

// addCommand records a mailfs run that is a plain command (no mount).
func (r *row) addCommand(m run) {
	r.m = append(r.m, m.wall.Seconds())
	r.cpu = append(r.cpu, m.user+m.sys)
}

// mailfsSync runs `mailfs sync` of the corpus server into cache.
func (b *bench) mailfsSync(cache string) (run, error) {
	args := []string{"sync", "--server", b.serverAddr(b.srv), "--tls", "none", "--user", b.srv.User, "--cache", cache}
	if b.conns > 0 {
		args = append(args, "--conns", fmt.Sprint(b.conns))
	}
	b.printCommand("mailfs sync", "MAILFS_PASSWORD=… "+b.mailfsBin+" "+strings.Join(args, " "))
	t0 := time.Now()
	r, err := timeCmd(false, []string{"MAILFS_PASSWORD=" + b.srv.Password}, b.mailfsBin, args...)
	if err != nil {
		return r, fmt.Errorf("mailfs sync after %.1fs: %w", time.Since(t0).Seconds(), err)
	}
	return r, nil
}
