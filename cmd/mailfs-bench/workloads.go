package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Each workload runs mailfs and its peer alternately (A B, B A, A B, …)
// for -reps repetitions and records a row of the table.

// alternate calls fns in an order that rotates with every repetition.
func (b *bench) alternate(fns ...func() error) error {
	return b.alternateN(b.reps, fns...)
}

// cheapReps is the repetitions of workloads that take well under a second
// (incremental, grep, warm ls): more of them steady the median.
func (b *bench) cheapReps() int { return 2*b.reps + 1 }

func (b *bench) alternateN(reps int, fns ...func() error) error {
	for rep := 0; rep < reps; rep++ {
		for k := range fns {
			if err := fns[(k+rep)%len(fns)](); err != nil {
				return err
			}
		}
	}
	return nil
}

// addMailfs adds a mailfs run to a row.
func (r *row) addMailfs(m mailfsRun) {
	r.m = append(r.m, m.wall.Seconds())
	r.hwm = append(r.hwm, m.st.hwmKB)
	r.cpu = append(r.cpu, m.st.user+m.st.sys)
	r.srvCPU = append(r.srvCPU, m.server)
	r.ready = append(r.ready, m.ready.Seconds())
}

func (r *row) addPeer(p run) { r.p = append(r.p, p.wall.Seconds()) }

func (b *bench) rsyncCmd(src, dst string, extra ...string) []string {
	args := append([]string{"-a"}, extra...)
	return append(args, src+"/", dst+"/")
}

func (b *bench) rsync(kind, src, dst string, extra ...string) (run, error) {
	args := b.rsyncCmd(src, dst, extra...)
	b.printCommand(kind, "rsync "+strings.Join(args, " "))
	return timeCmd(false, nil, "rsync", args...)
}

// resetDir makes dir an empty folder.
func (b *bench) resetDir(dir string) error {
	if err := b.discard(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}

// discard removes dir. When there is room, it only renames it into a trash
// folder that is removed at the end: ext4 skips inodes freed in the last
// minutes when it allocates new ones, so deleting thousands of files right
// before a run slows every file the run creates (mailfs's cache, rsync's
// copy, mbsync's Maildir) in a way no real first backup sees.
func (b *bench) discard(dir string) error {
	if _, err := os.Lstat(dir); os.IsNotExist(err) {
		return nil
	}
	if !b.deferDelete {
		return b.discard(dir)
	}
	trash := filepath.Join(b.work, "trash")
	if err := os.MkdirAll(trash, 0o700); err != nil {
		return err
	}
	b.trashed++
	return os.Rename(dir, filepath.Join(trash, strconv.Itoa(b.trashed)))
}

// settle writes dirty pages back before a timed run, so that no run pays
// for the writeback of an earlier one.
func (b *bench) settle() { syscall.Sync() }

// coldMailfs mounts with an empty cache and copies the tree to copyDir.
// Its time runs from starting mailfs until rsync is done: the peer logs in
// and lists folders too.
func (b *bench) coldMailfs(addr string, extra ...string) (mailfsRun, error) {
	if err := b.discard(b.cacheDir); err != nil {
		return mailfsRun{}, err
	}
	if err := b.resetDir(b.copyDir); err != nil {
		return mailfsRun{}, err
	}
	b.warmReady = false
	b.dropCaches()
	cpu0, l0 := b.serverCPU(), b.logins()
	t0 := time.Now()
	p, err := b.mount(mountOpts{cache: b.cacheDir, addr: addr, extra: extra})
	if err != nil {
		return mailfsRun{}, err
	}
	r, err := b.rsync("rsync from the mount", b.mnt, b.copyDir)
	r.wall = time.Since(t0)
	if err != nil {
		b.unmount()
		return mailfsRun{}, err
	}
	m, err := b.finish(p, r, cpu0, l0)
	if err != nil {
		return m, err
	}
	if n, bytes := countFiles(b.copyDir, isEML); n != b.total() || bytes != b.totalBytes() {
		return m, fmt.Errorf("the copy holds %d .eml files of %d bytes; want %d of %d", n, bytes, b.total(), b.totalBytes())
	}
	b.warmReady = true
	return m, nil
}

// ensureWarm makes sure cacheDir holds every body and copyDir a copy of
// the tree, with an untimed cold run if needed.
func (b *bench) ensureWarm() error {
	if b.warmReady {
		return nil
	}
	progress("preparing a complete cache and a local copy (untimed cold run)")
	_, err := b.coldMailfs("")
	return err
}

func (b *bench) phaseCold() error {
	fast := b.addRow("cold full backup (mount+rsync, empty cache)", "mbsync -a, FSync no", 1.0)
	slow := b.addRow("  same, against mbsync's default fsync", "mbsync -a, fsync", 0.5)
	slow.shareMailfs = fast
	return b.alternate(
		func() error {
			progress("cold: mailfs")
			m, err := b.coldMailfs("")
			if err != nil {
				return err
			}
			fast.addMailfs(m)
			fast.note = fmt.Sprintf("%d bodies downloaded; mount ready in %.2fs (counted)", m.bodies, m.ready.Seconds())
			progress("  %.2fs (mount ready after %.2fs), mailfs CPU %.2fs, Dovecot CPU %.2fs, %d bodies", m.wall.Seconds(), m.ready.Seconds(), m.st.user+m.st.sys, m.server, m.bodies)
			return nil
		},
		func() error {
			progress("cold: mbsync, FSync no")
			cpu0 := b.serverCPU()
			r, err := b.mbsync(false)
			if err != nil {
				return err
			}
			fast.addPeer(r)
			progress("  %.2fs, mbsync CPU %.2fs, Dovecot CPU %.2fs", r.wall.Seconds(), r.user+r.sys, b.serverCPU()-cpu0)
			return nil
		},
		func() error {
			progress("cold: mbsync, default fsync")
			r, err := b.mbsync(true)
			if err != nil {
				return err
			}
			slow.addPeer(r)
			progress("  %.2fs", r.wall.Seconds())
			return nil
		},
	)
}

func (b *bench) phaseWarm() error {
	if err := b.ensureWarm(); err != nil {
		return err
	}
	row := b.addRow("warm full backup (fresh mount, full cache)", "rsync -a of a local copy", 1.3)
	dst := filepath.Join(b.work, "dst")
	return b.alternate(
		func() error {
			progress("warm: mailfs")
			if err := b.resetDir(dst); err != nil {
				return err
			}
			b.settle()
			m, err := b.measure(mountOpts{cache: b.cacheDir}, func() (run, error) {
				return b.rsync("rsync from the mount", b.mnt, dst)
			})
			if err != nil {
				return err
			}
			if m.bodies != 0 {
				row.fail = fmt.Sprintf("%d bodies downloaded with a full cache", m.bodies)
			}
			row.addMailfs(m)
			row.note = fmt.Sprintf("mount ready in %.2fs (not counted), %d bodies downloaded", m.ready.Seconds(), m.bodies)
			progress("  %.2fs, mailfs CPU %.2fs, Dovecot CPU %.2fs", m.wall.Seconds(), m.st.user+m.st.sys, m.server)
			return nil
		},
		func() error {
			progress("warm: rsync of the local copy")
			if err := b.resetDir(dst); err != nil {
				return err
			}
			b.settle()
			r, err := b.rsync("rsync of a local copy", b.copyDir, dst)
			if err != nil {
				return err
			}
			row.addPeer(r)
			progress("  %.2fs", r.wall.Seconds())
			return nil
		},
	)
}

func (b *bench) phaseIncr() error {
	if err := b.ensureWarm(); err != nil {
		return err
	}
	row := b.addRow("nightly incremental (+10 msgs, rsync to previous copy)", "no-op rsync -a of a local tree", 2.0)
	twin := filepath.Join(b.work, "copy2")
	if _, err := timeCmd(false, nil, "rsync", b.rsyncCmd(b.copyDir, twin)...); err != nil {
		return err
	}
	var bodies []string
	err := b.alternateN(b.cheapReps(),
		func() error {
			progress("incremental: adding 10 messages, then mailfs")
			var msgs []message
			for k := 0; k < 10; k++ {
				msgs = append(msgs, b.corpus.Message(b.corpus.n+b.added+k))
			}
			if err := appendMessages(b.srv, msgs); err != nil {
				return err
			}
			b.added += len(msgs)
			b.settle()
			for _, m := range msgs {
				b.addedBytes += int64(len(m.raw))
			}
			m, err := b.measure(mountOpts{cache: b.cacheDir}, func() (run, error) {
				return b.rsync("rsync from the mount", b.mnt, b.copyDir)
			})
			if err != nil {
				return err
			}
			row.addMailfs(m)
			bodies = append(bodies, strconv.Itoa(m.bodies))
			if m.bodies != 10 {
				row.fail = fmt.Sprintf("%d bodies downloaded, want exactly 10", m.bodies)
			}
			if n, _ := countFiles(b.copyDir, isEML); n != b.total() {
				row.fail = fmt.Sprintf("copy holds %d .eml files, want %d", n, b.total())
			}
			progress("  %.2fs, %d bodies downloaded, mailfs CPU %.2fs", m.wall.Seconds(), m.bodies, m.st.user+m.st.sys)
			return nil
		},
		func() error {
			progress("incremental: no-op rsync of a local tree")
			if _, err := timeCmd(false, nil, "rsync", b.rsyncCmd(b.copyDir, twin)...); err != nil {
				return err
			}
			b.settle()
			r, err := b.rsync("no-op rsync of a local tree", b.copyDir, twin)
			if err != nil {
				return err
			}
			row.addPeer(r)
			progress("  %.2fs", r.wall.Seconds())
			return nil
		},
	)
	row.note = "bodies downloaded per run: " + strings.Join(bodies, ", ") + " (want 10 each)"
	return err
}

// grepCount runs grep -r -c over dir and sums the counts.
func (b *bench) grepCount(kind, dir string) (run, int, error) {
	args := []string{"-r", "-c", "--include=*.txt", b.corpus.word, dir + "/"}
	b.printCommand(kind, "LC_ALL=C grep "+strings.Join(args, " "))
	r, err := timeCmd(true, []string{"LC_ALL=C"}, "grep", args...)
	total := 0
	for _, line := range strings.Split(string(r.out), "\n") {
		if i := strings.LastIndexByte(line, ':'); i >= 0 {
			n, _ := strconv.Atoi(line[i+1:])
			total += n
		}
	}
	return r, total, err
}

func (b *bench) phaseGrep() error {
	if err := b.ensureWarm(); err != nil {
		return err
	}
	txt := filepath.Join(b.work, "txt")
	if err := b.resetDir(txt); err != nil {
		return err
	}
	progress("grep: rendering every .txt view once (rsync of the .txt files to a local copy)")
	p, err := b.mount(mountOpts{cache: b.cacheDir, formats: "eml,txt"})
	if err != nil {
		return err
	}
	r, err := b.rsync("rsync of the .txt views", b.mnt, txt, "--include=*/", "--include=*.txt", "--exclude=*")
	if err != nil {
		b.unmount()
		return err
	}
	st := p.stat()
	if err := p.stop(); err != nil {
		return err
	}
	b.live = nil
	views, vbytes := countFiles(txt, nil)
	progress("  %d views (%s) rendered in %.1fs, mailfs CPU %.1fs", views, mb(vbytes), r.wall.Seconds(), st.user+st.sys)
	b.notes = append(b.notes, fmt.Sprintf("first read of all %d .txt views (rendering, %s): %.1fs, mailfs CPU %.1fs, VmHWM %s",
		views, mb(vbytes), r.wall.Seconds(), st.user+st.sys, mb(st.hwmKB<<10)))

	fresh := b.addRow("grep -r over .txt views, warm (fresh mount)", "grep -r over a local copy", 1.5)
	again := b.addRow("  same, second grep on the same mount", "grep -r over a local copy", 1.5)
	again.sharePeer = fresh
	var want, got int
	err = b.alternateN(b.cheapReps(),
		func() error {
			progress("grep: mailfs")
			b.settle()
			var r2 run
			var n1 int
			m, err := b.measure(mountOpts{cache: b.cacheDir, formats: "eml,txt"}, func() (run, error) {
				r1, n, err := b.grepCount("grep over the mount", b.mnt)
				if err != nil {
					return r1, err
				}
				n1 = n
				r2, _, err = b.grepCount("grep over the mount", b.mnt)
				return r1, err
			})
			if err != nil {
				return err
			}
			fresh.addMailfs(m)
			progress("  %.2fs, again %.2fs, %d matches", m.wall.Seconds(), r2.wall.Seconds(), n1)
			m.run = r2
			again.addMailfs(m)
			got = n1
			return nil
		},
		func() error {
			progress("grep: local copy")
			b.settle()
			r, n, err := b.grepCount("grep over a local copy", txt)
			if err != nil {
				return err
			}
			fresh.addPeer(r)
			want = n
			progress("  %.2fs, %d matches", r.wall.Seconds(), n)
			return nil
		},
	)
	fresh.note = fmt.Sprintf("%d matches of %q (local copy: %d)", got, b.corpus.word, want)
	if got != want {
		fresh.fail = fmt.Sprintf("%d matches through mailfs, %d in the local copy", got, want)
	}
	if err != nil {
		return err
	}
	if b.only["profile"] {
		ops, err := b.countFuseOps(mountOpts{cache: b.cacheDir, formats: "eml,txt"}, "grep", "-r", "-c", "--include=*.txt", b.corpus.word, b.mnt+"/")
		if err != nil {
			return err
		}
		b.profile = append(b.profile, fmt.Sprintf("FUSE requests of a warm grep -r over %d .txt views (fresh mount): %s", views, ops))
	}
	return nil
}

// phaseLs measures ls -l of the big folder, cold and warm.
func (b *bench) phaseLs() error {
	progress("ls: writing a folder of %d small messages (Big)", b.bigFolder)
	t0 := time.Now()
	bytes, err := seedBig(b.srv, b.corpus, b.bigFolder)
	if err != nil {
		return err
	}
	progress("  %s written and indexed in %.1fs", mb(bytes), time.Since(t0).Seconds())
	if err := prime(b.srv, []string{"Big"}); err != nil {
		return err
	}
	big := filepath.Join(b.mnt, "Big")
	lsArgs := []string{"-l", "--color=never", big}
	b.printCommand("ls through mailfs", "LC_ALL=C ls "+strings.Join(lsArgs, " ")+" >/dev/null")
	ls := func(dir string) (run, error) {
		return timeCmd(false, []string{"LC_ALL=C"}, "ls", "-l", "--color=never", dir)
	}

	// An untimed listing fills the cache for the warm runs and gives the
	// names, sizes and dates of the local folder.
	lsCache := filepath.Join(b.work, "cache-ls")
	b.discard(lsCache)
	p, err := b.mount(mountOpts{cache: lsCache})
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(big)
	if err != nil {
		b.unmount()
		return err
	}
	local := filepath.Join(b.work, "local-big")
	if err := b.resetDir(local); err != nil {
		b.unmount()
		return err
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			b.unmount()
			return err
		}
		path := filepath.Join(local, e.Name())
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			b.unmount()
			return err
		}
		os.Truncate(path, fi.Size()) // sparse: ls -l reads no content
		os.Chtimes(path, fi.ModTime(), fi.ModTime())
	}
	if err := p.stop(); err != nil {
		return err
	}
	b.live = nil
	if len(entries) < b.bigFolder {
		return fmt.Errorf("mailfs lists %d files in Big, want at least %d", len(entries), b.bigFolder)
	}
	b.printCommand("ls of a local folder", "LC_ALL=C ls -l --color=never "+local+" >/dev/null")

	cold := b.addRow(fmt.Sprintf("cold ls -l of %d messages (empty cache)", b.bigFolder), "EXAMINE + UID FETCH 1:* (…ENVELOPE)", 1.5)
	b.printCommand("metadata fetch (go-imap)", "EXAMINE Big; UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)   # go-imap client, logged in before timing")
	coldCache := filepath.Join(b.work, "cache-ls-cold")
	err = b.alternate(
		func() error {
			progress("cold ls: mailfs")
			b.discard(coldCache)
			b.dropCaches()
			m, err := b.measure(mountOpts{cache: coldCache}, func() (run, error) { return ls(big) })
			if err != nil {
				return err
			}
			cold.addMailfs(m)
			cold.note = fmt.Sprintf("mount ready in %.2fs (not counted); at the end RssAnon %s, RssFile %s", m.ready.Seconds(), mb(m.st.anonKB<<10), mb(m.st.fileKB<<10))
			progress("  %.2fs, mailfs CPU %.2fs, Dovecot CPU %.2fs", m.wall.Seconds(), m.st.user+m.st.sys, m.server)
			return nil
		},
		func() error {
			progress("cold ls: one metadata FETCH")
			c, err := dial(b.srv)
			if err != nil {
				return err
			}
			defer logout(c)
			b.dropCaches()
			t0 := time.Now()
			n, err := metaFetch(c, "Big")
			if err != nil {
				return err
			}
			r := run{wall: time.Since(t0)}
			cold.addPeer(r)
			progress("  %.2fs for %d messages", r.wall.Seconds(), n)
			return nil
		},
	)
	if err != nil {
		return err
	}

	warm := b.addRow(fmt.Sprintf("ls -l of %d messages, warm (fresh mount)", b.bigFolder), "ls -l of a local folder", 3.0)
	again := b.addRow("  same, second ls -l on the same mount", "ls -l of a local folder", 3.0)
	again.sharePeer = warm
	ls(local) // warm the local folder's dentries and inodes
	err = b.alternateN(b.cheapReps(),
		func() error {
			progress("warm ls: mailfs")
			b.settle()
			var r2 run
			m, err := b.measure(mountOpts{cache: lsCache}, func() (run, error) {
				r1, err := ls(big)
				if err != nil {
					return r1, err
				}
				r2, err = ls(big)
				return r1, err
			})
			if err != nil {
				return err
			}
			warm.addMailfs(m)
			progress("  %.2fs, again %.2fs, VmHWM %s", m.wall.Seconds(), r2.wall.Seconds(), mb(m.st.hwmKB<<10))
			m.run = r2
			again.addMailfs(m)
			warm.note = fmt.Sprintf("mount ready in %.2fs (not counted); at the end RssAnon %s, RssFile %s", m.ready.Seconds(), mb(m.st.anonKB<<10), mb(m.st.fileKB<<10))
			return nil
		},
		func() error {
			progress("warm ls: local folder")
			b.settle()
			r, err := ls(local)
			if err != nil {
				return err
			}
			warm.addPeer(r)
			progress("  %.2fs", r.wall.Seconds())
			return nil
		},
	)
	if err != nil {
		return err
	}
	if b.only["profile"] {
		ops, err := b.countFuseOps(mountOpts{cache: lsCache}, "ls", "-l", "--color=never", big)
		if err != nil {
			return err
		}
		b.profile = append(b.profile, fmt.Sprintf("FUSE requests of a warm ls -l of %d files (fresh mount): %s", len(entries), ops))
	}
	return nil
}

// countFuseOps mounts with --debug-fuse, runs a command over the mount, and
// returns the FUSE requests it caused, counted by opcode.
func (b *bench) countFuseOps(o mountOpts, name string, args ...string) (string, error) {
	progress("profile: counting FUSE requests of %s", name)
	o.extra = append(o.extra, "--debug-fuse")
	p, err := b.mount(o)
	if err != nil {
		return "", err
	}
	// The root's own requests at mount time are not the command's.
	time.Sleep(100 * time.Millisecond)
	before := p.fuseOps()
	r, err := timeCmd(false, []string{"LC_ALL=C"}, name, args...)
	if err != nil {
		b.unmount()
		return "", err
	}
	if _, err := b.finish(p, r, b.serverCPU(), 0); err != nil {
		return "", err
	}
	ops, total := p.fuseOps(), 0
	for k, n := range before {
		ops[k] -= n
	}
	for _, n := range ops {
		total += n
	}
	return fmt.Sprintf("%d in all (%.2fs with logging): %s", total, r.wall.Seconds(), topOps(ops, 10)), nil
}

// phaseMem reads one 50 MB message and reports VmHWM before and after.
func (b *bench) phaseMem() error {
	if !b.hugeAdded {
		progress("memory: appending a 50 MB message to folder Huge")
		if err := appendMessages(b.srv, []message{b.corpus.Huge(50 << 20)}); err != nil {
			return err
		}
		b.hugeAdded = true
	}
	// The usual cache: other folders' bodies are there, as in a long-used
	// mount; Huge's body is not.
	cache := b.cacheDir
	p, err := b.mount(mountOpts{cache: cache})
	if err != nil {
		return err
	}
	defer b.unmount()
	dir := filepath.Join(b.mnt, "Huge")
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		return fmt.Errorf("list %s: %d entries, %v", dir, len(entries), err)
	}
	path := filepath.Join(dir, entries[0].Name())
	before := p.stat()
	read := func() (time.Duration, int64, error) {
		t0 := time.Now()
		f, err := os.Open(path)
		if err != nil {
			return 0, 0, err
		}
		defer f.Close()
		n, err := io.CopyBuffer(io.Discard, f, make([]byte, 128<<10))
		return time.Since(t0), n, err
	}
	d1, n, err := read()
	if err != nil {
		return err
	}
	after := p.stat()
	d2, _, err := read()
	if err != nil {
		return err
	}
	after2 := p.stat()
	b.mem = append(b.mem, memLine{
		what:   fmt.Sprintf("read one %s message (download): VmHWM %s → %s", mb(n), mb(before.hwmKB<<10), mb(after.hwmKB<<10)),
		valKB:  after.hwmKB - before.hwmKB,
		target: 16 << 10,
		extra:  fmt.Sprintf("%.2fs; read again from the cache in %.2fs, VmHWM then %s", d1.Seconds(), d2.Seconds(), mb(after2.hwmKB<<10)),
	})
	progress("  VmHWM %s → %s → %s", mb(before.hwmKB<<10), mb(after.hwmKB<<10), mb(after2.hwmKB<<10))
	return nil
}

// phaseProfile repeats a cold and a warm backup with the counting proxy,
// perf and --debug-fuse, and reports where the time goes.
func (b *bench) phaseProfile() error {
	proxy, err := newProxy(b.srv.Addr)
	if err != nil {
		return err
	}
	defer proxy.Close()
	usePerf := b.perf
	if _, err := exec.LookPath("perf"); err != nil {
		usePerf = false
	}

	// Cold, through the proxy, with perf attached once the mount is up.
	progress("profile: cold backup through a command-counting proxy%s", map[bool]string{true: ", with perf", false: ""}[usePerf])
	if err := b.discard(b.cacheDir); err != nil {
		return err
	}
	if err := b.resetDir(b.copyDir); err != nil {
		return err
	}
	b.warmReady = false
	b.dropCaches()
	cpu0, l0 := b.serverCPU(), b.logins()
	p, err := b.mount(mountOpts{cache: b.cacheDir, addr: proxy.Addr()})
	if err != nil {
		return err
	}
	stopPerf := b.startPerf(p.pid(), "cold")
	rsyncRun, err := b.rsync("rsync from the mount", b.mnt, b.copyDir)
	perfOut := stopPerf()
	if err != nil {
		b.unmount()
		return err
	}
	m, err := b.finish(p, rsyncRun, cpu0, l0)
	if err != nil {
		return err
	}
	b.warmReady = true
	conns, verbs, bodyCmds, bodyUIDs := proxy.snapshot()
	b.profile = append(b.profile,
		fmt.Sprintf("cold backup: rsync %.2fs wall; CPU: mailfs %.2fs (user %.2f, sys %.2f), rsync %.2fs, Dovecot %.2fs; %d%% of 2 cores busy",
			rsyncRun.wall.Seconds(), m.st.user+m.st.sys, m.st.user, m.st.sys, rsyncRun.user+rsyncRun.sys, m.server,
			int(100*(m.st.user+m.st.sys+rsyncRun.user+rsyncRun.sys+m.server)/(2*rsyncRun.wall.Seconds()))),
		fmt.Sprintf("  IMAP: %d connections; commands: %s", conns, topOps(verbs, 8)),
		fmt.Sprintf("  bodies: %d UID FETCH … BODY.PEEK[] commands for %d UIDs (%.1f per command); %d bodies in mailfs's log; %.2f ms per body",
			bodyCmds, bodyUIDs, float64(bodyUIDs)/max(1, float64(bodyCmds)), m.bodies, 1000*rsyncRun.wall.Seconds()/max(1, float64(m.bodies))),
		fmt.Sprintf("  mailfs: %d threads, %d context switches (%.1f per body), VmHWM %s", m.st.threads, m.st.ctxSwitches, float64(m.st.ctxSwitches)/max(1, float64(m.bodies)), mb(m.st.hwmKB<<10)),
	)
	b.profile = append(b.profile, perfOut...)

	// Warm, with perf.
	progress("profile: warm backup%s", map[bool]string{true: " with perf", false: ""}[usePerf])
	dst := filepath.Join(b.work, "dst")
	if err := b.resetDir(dst); err != nil {
		return err
	}
	cpu0, l0 = b.serverCPU(), b.logins()
	p, err = b.mount(mountOpts{cache: b.cacheDir})
	if err != nil {
		return err
	}
	stopPerf = b.startPerf(p.pid(), "warm")
	rsyncRun, err = b.rsync("rsync from the mount", b.mnt, dst)
	perfOut = stopPerf()
	if err != nil {
		b.unmount()
		return err
	}
	m, err = b.finish(p, rsyncRun, cpu0, l0)
	if err != nil {
		return err
	}
	b.profile = append(b.profile,
		fmt.Sprintf("warm backup: rsync %.2fs wall; CPU: mailfs %.2fs (user %.2f, sys %.2f), rsync %.2fs (user %.2f, sys %.2f), Dovecot %.2fs",
			rsyncRun.wall.Seconds(), m.st.user+m.st.sys, m.st.user, m.st.sys, rsyncRun.user+rsyncRun.sys, rsyncRun.user, rsyncRun.sys, m.server),
		fmt.Sprintf("  mailfs: %d context switches (%.1f per file)", m.st.ctxSwitches, float64(m.st.ctxSwitches)/max(1, float64(b.total()))))
	b.profile = append(b.profile, perfOut...)

	// Warm again with every FUSE request logged, to count them.
	progress("profile: warm backup with --debug-fuse, counting FUSE requests")
	if err := b.resetDir(dst); err != nil {
		return err
	}
	cpu0, l0 = b.serverCPU(), b.logins()
	p, err = b.mount(mountOpts{cache: b.cacheDir, extra: []string{"--debug-fuse"}})
	if err != nil {
		return err
	}
	rsyncRun, err = b.rsync("rsync from the mount", b.mnt, dst)
	if err != nil {
		b.unmount()
		return err
	}
	if _, err := b.finish(p, rsyncRun, cpu0, l0); err != nil {
		return err
	}
	ops := p.fuseOps()
	total := 0
	for _, n := range ops {
		total += n
	}
	b.profile = append(b.profile, fmt.Sprintf("FUSE requests in a warm backup of %d files: %d (%.1f per file): %s",
		b.total(), total, float64(total)/max(1, float64(b.total())), topOps(ops, 10)))

	// Incremental, through the proxy and with --debug-fuse.
	progress("profile: incremental backup through the proxy, with --debug-fuse")
	var msgs []message
	for k := 0; k < 10; k++ {
		msgs = append(msgs, b.corpus.Message(b.corpus.n+b.added+k))
	}
	if err := appendMessages(b.srv, msgs); err != nil {
		return err
	}
	b.added += len(msgs)
	for _, m := range msgs {
		b.addedBytes += int64(len(m.raw))
	}
	b.settle()
	conns0, verbs0, _, _ := proxy.snapshot()
	p, err = b.mount(mountOpts{cache: b.cacheDir, addr: proxy.Addr(), extra: []string{"--debug-fuse"}})
	if err != nil {
		return err
	}
	time.Sleep(100 * time.Millisecond)
	ops0 := p.fuseOps()
	rsyncRun, err = b.rsync("rsync from the mount", b.mnt, b.copyDir)
	if err != nil {
		b.unmount()
		return err
	}
	m, err = b.finish(p, rsyncRun, b.serverCPU(), 0)
	if err != nil {
		return err
	}
	conns, verbs, _, _ = proxy.snapshot()
	for k, n := range verbs0 {
		verbs[k] -= n
	}
	ops = p.fuseOps()
	for k, n := range ops0 {
		ops[k] -= n
	}
	b.profile = append(b.profile, fmt.Sprintf("incremental (+10): rsync %.2fs with FUSE logging, %d bodies; IMAP: %d connections, commands: %s; FUSE: %s",
		rsyncRun.wall.Seconds(), m.bodies, conns-conns0, topOps(verbs, 8), topOps(ops, 8)))
	return nil
}

// startPerf records the process's on-CPU stacks (kernel included) until
// the returned function is called, which returns perf's summary lines.
func (b *bench) startPerf(pid int, name string) func() []string {
	if !b.perf {
		return func() []string { return nil }
	}
	if _, err := exec.LookPath("perf"); err != nil {
		return func() []string { return nil }
	}
	data := filepath.Join(b.work, "perf-"+name+".data")
	cmd := exec.Command("perf", "record", "-F", "999", "-g", "-p", strconv.Itoa(pid), "-o", data)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return func() []string { return []string{"  perf: " + err.Error()} }
	}
	time.Sleep(200 * time.Millisecond) // let it attach
	return func() []string {
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
		dso, err := exec.Command("perf", "report", "-i", data, "--stdio", "--no-children", "-g", "none", "--sort", "dso").CombinedOutput()
		if err != nil {
			return []string{"  perf report: " + tail(string(dso)+out.String(), 300)}
		}
		var split []string
		for _, l := range strings.Split(string(dso), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && strings.HasSuffix(f[0], "%") && !strings.HasPrefix(l, "#") {
				split = append(split, f[1]+" "+f[0])
			}
		}
		lines := []string{fmt.Sprintf("  perf (mailfs process, on-CPU samples; %s; data in %s); inclusive share of selected functions:", strings.Join(split, ", "), data)}
		rep, err := exec.Command("perf", "report", "-i", data, "--stdio", "--children", "-g", "none", "--sort", "sym").CombinedOutput()
		if err != nil {
			return append(lines, "  perf report: "+tail(string(rep), 300))
		}
		interesting := regexp.MustCompile(`mailfs/|go-fuse/v2/fuse\.\(\*Server\)\.handleRequest|__x64_sys_|ext4_create|ext4_release_file|ext4_rename|fuse_dev_do_(read|write)|finish_task_switch|runtime\.(sysmon|gcBgMarkWorker|mallocgc)$`)
		for _, l := range strings.Split(string(rep), "\n") {
			if strings.HasPrefix(l, "#") || !interesting.MatchString(l) {
				continue
			}
			f := strings.Fields(l)
			if len(f) < 4 {
				continue
			}
			if v, _ := strconv.ParseFloat(strings.TrimSuffix(f[0], "%"), 64); v < 3 {
				continue
			}
			lines = append(lines, "    "+f[0]+"  "+strings.Join(f[3:], " "))
			if len(lines) > 24 {
				break
			}
		}
		return lines
	}
}
