package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"mailfs/imapsrc/dovecottest"
)

// The restore workload puts the corpus back into an empty account: mailfs
// by rsync -a of the local copy of the tree into a --read-write mount, the
// peer by mbsync pushing the Maildir its cold run pulled (Sync Push,
// Create Far). Each run gets a fresh private Dovecot, so each starts from
// an empty account; starting it is not timed.

func (b *bench) phaseRestore() error {
	row := b.addRow("restore (rsync -a into a --read-write mount, empty account)", "mbsync -a, Sync Push, FSync no", 1.0)
	if err := b.ensureWarm(); err != nil {
		return err
	}
	maildir := filepath.Join(b.work, "mbsync")
	if n, _ := countFiles(maildir, isMaildirMessage); n != b.total() {
		progress("preparing mbsync's Maildir (untimed pull)")
		if _, err := b.mbsync(false); err != nil {
			return err
		}
	}
	return b.alternate(
		func() error {
			progress("restore: mailfs")
			dst, err := dovecottest.Launch(dovecottest.Options{})
			if err != nil {
				return err
			}
			defer dst.Close()
			cache := filepath.Join(b.work, "restore-cache")
			if err := b.discard(cache); err != nil {
				return err
			}
			b.settle()
			cpu0, l0 := b.serverCPU(), b.logins() // of the source: untouched here
			t0 := time.Now()
			p, err := b.mount(mountOpts{cache: cache, srv: dst, extra: []string{"--read-write"}})
			if err != nil {
				return err
			}
			r, err := b.rsync("rsync into the writable mount", b.copyDir, b.mnt)
			r.wall = time.Since(t0)
			if err != nil {
				b.unmount()
				return fmt.Errorf("%w: %s", err, tail(p.log(), 1500))
			}
			m, err := b.finish(p, r, cpu0, l0)
			if err != nil {
				return err
			}
			if err := b.checkRestored(dst); err != nil {
				return err
			}
			row.addMailfs(m)
			progress("  %.2fs, mailfs CPU %.2fs", m.wall.Seconds(), m.st.user+m.st.sys)
			return nil
		},
		func() error {
			progress("restore: mbsync, Sync Push")
			dst, err := dovecottest.Launch(dovecottest.Options{})
			if err != nil {
				return err
			}
			defer dst.Close()
			conf, err := b.writeMbsyncConfig("mbsyncrc-push", dst, maildir, false, "Push", "Far")
			if err != nil {
				return err
			}
			removeSyncState(maildir) // push everything again
			b.printCommand("mbsync (Sync Push)", "mbsync -q -c "+conf+" -a   # Sync Push, Create Far, FSync no")
			b.settle()
			r, err := timeCmd(false, nil, "mbsync", "-q", "-c", conf, "-a")
			if err != nil {
				return err
			}
			if err := b.checkRestored(dst); err != nil {
				return err
			}
			row.addPeer(r)
			progress("  %.2fs", r.wall.Seconds())
			return nil
		},
	)
}

// isMaildirMessage tells a message file of a Maildir tree.
func isMaildirMessage(path string) bool {
	d := filepath.Base(filepath.Dir(path))
	return d == "cur" || d == "new"
}

// removeSyncState deletes mbsync's per-folder sync state below dir, so
// that a push treats every message as new.
func removeSyncState(dir string) {
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.HasPrefix(fi.Name(), ".mbsyncstate") {
			os.Remove(p)
		}
		return nil
	})
}

// checkRestored checks that dst holds as many messages as the corpus.
func (b *bench) checkRestored(dst *dovecottest.Server) error {
	out, err := dst.RunDoveadm("mailbox", "status", "-u", dst.User, "messages", "*")
	if err != nil {
		return fmt.Errorf("doveadm mailbox status: %v: %s", err, out)
	}
	n := 0
	for _, line := range strings.Split(out, "\n") {
		if i := strings.LastIndex(line, "messages="); i >= 0 {
			k, _ := strconv.Atoi(strings.TrimSpace(line[i+len("messages="):]))
			n += k
		}
	}
	if n != b.total() {
		return fmt.Errorf("the restored account holds %d messages, want %d", n, b.total())
	}
	return nil
}
