package main

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"mailfs/fs/mountinfo"
	"mailfs/imapsrc/dovecottest"
)

// mountOpts are the choices of one mailfs mount.
type mountOpts struct {
	cache   string              // --cache
	addr    string              // server address; default the Dovecot's
	srv     *dovecottest.Server // the account to mount; default b.srv
	formats string              // --formats, "" for the default
	extra   []string            // more flags (--debug-fuse)
}

// mailfsProc is a running `mailfs mount`.
type mailfsProc struct {
	cmd     *exec.Cmd
	mnt     string
	logPath string
	ready   time.Duration // from start until the mount appeared
	exited  chan struct{}
}

// mount starts mailfs in the foreground at b.mnt and waits until the mount
// appears in /proc/mounts.
func (b *bench) mount(o mountOpts) (*mailfsProc, error) {
	if mountinfo.IsMounted(b.mnt) {
		return nil, fmt.Errorf("%s is still mounted", b.mnt)
	}
	if err := os.MkdirAll(b.mnt, 0o755); err != nil {
		return nil, err
	}
	srv := cmp.Or(o.srv, b.srv)
	addr := cmp.Or(o.addr, b.serverAddr(srv))
	args := []string{"mount", "--server", addr, "--tls", "none", "--user", srv.User,
		"--cache", o.cache, "--poll", "10m", "--log-level", "debug"}
	if o.formats != "" {
		args = append(args, "--formats", o.formats)
	}
	if b.conns > 0 {
		args = append(args, "--conns", fmt.Sprint(b.conns))
	}
	args = append(args, o.extra...)
	args = append(args, b.mnt)
	b.printCommand("mailfs", "MAILFS_PASSWORD=… "+b.mailfsBin+" "+strings.Join(args, " "))

	b.runs++
	logPath := filepath.Join(b.work, fmt.Sprintf("mailfs-%03d.log", b.runs))
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(b.mailfsBin, args...)
	cmd.Env = append(os.Environ(), "MAILFS_PASSWORD="+srv.Password)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &mailfsProc{cmd: cmd, mnt: b.mnt, logPath: logPath, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }()
	b.live = p
	deadline := t0.Add(5 * time.Minute)
	for !mountinfo.IsMounted(b.mnt) {
		select {
		case <-p.exited:
			b.live = nil
			return nil, fmt.Errorf("mailfs exited before mounting (%v): %s", cmd.ProcessState, tail(p.log(), 1500))
		default:
		}
		if time.Now().After(deadline) {
			p.stop()
			b.live = nil
			return nil, fmt.Errorf("mailfs did not mount within 5 minutes: %s", tail(p.log(), 1500))
		}
		time.Sleep(2 * time.Millisecond)
	}
	p.ready = time.Since(t0)
	return p, nil
}

func (p *mailfsProc) pid() int { return p.cmd.Process.Pid }

func (p *mailfsProc) stat() procStat {
	st, _ := readProc(p.pid())
	return st
}

func (p *mailfsProc) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// bodies counts the bodies downloaded (one debug line each).
func (p *mailfsProc) bodies() int {
	return strings.Count(p.log(), `msg="fetch body"`)
}

// fuseOps counts FUSE requests by opcode in a --debug-fuse log.
func (p *mailfsProc) fuseOps() map[string]int {
	ops := map[string]int{}
	re := regexp.MustCompile(`rx \d+: ([A-Z_]+)`)
	for _, m := range re.FindAllStringSubmatch(p.log(), -1) {
		ops[m[1]]++
	}
	return ops
}

// stop unmounts with SIGTERM (a clean unmount) and waits for the process;
// after 20 s it unmounts lazily and kills it.
func (p *mailfsProc) stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		exec.Command("fusermount3", "-u", "-z", p.mnt).Run()
		p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("mailfs did not exit within 20 s of SIGTERM; killed")
	}
	if mountinfo.IsMounted(p.mnt) {
		exec.Command("fusermount3", "-u", "-z", p.mnt).Run()
		return fmt.Errorf("mailfs exited but %s is still mounted", p.mnt)
	}
	if !p.cmd.ProcessState.Success() {
		return fmt.Errorf("mailfs exited with %v: %s", p.cmd.ProcessState, tail(p.log(), 800))
	}
	return nil
}

// unmount stops the live mount, if any (used on errors and interrupts).
func (b *bench) unmount() {
	if b.live != nil {
		b.live.stop()
		b.live = nil
	}
}

// mailfsRun is the outcome of one run against a mount.
type mailfsRun struct {
	run
	ready  time.Duration
	st     procStat // of mailfs, just before it was stopped
	bodies int
	server float64 // Dovecot CPU seconds (all IMAP sessions of the run)
	logins int
}

// measure mounts mailfs with o, runs work against the mount and stops
// mailfs, giving work's run with mailfs's figures; mailfs is unmounted
// whatever work returns.
func (b *bench) measure(o mountOpts, work func() (run, error)) (mailfsRun, error) {
	cpu0, l0 := b.serverCPU(), b.logins()
	p, err := b.mount(o)
	if err != nil {
		return mailfsRun{}, err
	}
	r, err := work()
	if err != nil {
		b.unmount()
		return mailfsRun{}, err
	}
	return b.finish(p, r, cpu0, l0)
}

// finish records the mount's stats, stops it, and fills in the server's.
func (b *bench) finish(p *mailfsProc, r run, cpu0 float64, logins0 int) (mailfsRun, error) {
	mr := mailfsRun{run: r, ready: p.ready, st: p.stat()}
	err := p.stop()
	b.live = nil
	mr.bodies = p.bodies()
	mr.server = b.serverCPU() - cpu0
	mr.logins = b.logins() - logins0
	if err != nil {
		return mr, err
	}
	if errs := logErrors(p.log()); errs != "" {
		progress("  mailfs logged errors: %s", errs)
	}
	return mr, nil
}

// logErrors returns the first few level=ERROR or WARN lines of a log.
func logErrors(log string) string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") {
			out = append(out, line)
			if len(out) == 3 {
				break
			}
		}
	}
	return strings.Join(out, "\n    ")
}

// topOps formats the largest counts of a map.
func topOps(m map[string]int, n int) string {
	type kv struct {
		k string
		v int
	}
	var l []kv
	for k, v := range m {
		l = append(l, kv{k, v})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v || l[i].v == l[j].v && l[i].k < l[j].k })
	var b bytes.Buffer
	for i, e := range l {
		if i == n || e.v <= 0 {
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", e.k, e.v)
	}
	return b.String()
}
