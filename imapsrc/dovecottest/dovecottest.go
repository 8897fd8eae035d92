// Package dovecottest starts a private Dovecot IMAP server (and, with
// Options.POP3, POP3 too) for Go tests and benchmarks.
//
// It owns one Dovecot instance per Start (tests) or Launch (the benchmark
// command, cmd/mailfs-bench): its own temporary folder, config, base_dir,
// state_dir, log, instance name and free ports on 127.0.0.1, so several
// instances (and several test binaries) run side by side. Nothing depends
// on /etc/dovecot or on the system's dovecot service, which is never
// touched. The mailfs binary must not import it.
//
// Choices:
//   - The master runs in the foreground (dovecot -F) as a child of the test
//     process with a parent-death signal, so an aborted test binary (panic,
//     timeout) still takes its Dovecot down; Stop also reaps any process left
//     with the instance's name.
//   - Dovecot refuses to run mail processes as root. As root (CI), mail files
//     belong to a system user "mailfstest", created once with useradd. Not as
//     root, the whole instance runs as the current user (Dovecot's "rootless"
//     mode: login and anvil processes without chroot); best effort.
//   - The certificate is generated in Go (ECDSA, SAN IP:127.0.0.1), so no
//     openssl binary is needed.
//   - The helpers that read or change mail use their own IMAP connections,
//     behind the back of any client under test; reads use EXAMINE and
//     BODY.PEEK so they change nothing.
package dovecottest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"mailfs/imapsrc/dovecottest/syncbuf"
)

// mailUser is the system user that owns the mail files when tests run as root.
const mailUser = "mailfstest"

// startTimeout is how long Start waits for the greeting.
const startTimeout = 10 * time.Second

// TB is what the helpers need of a test (testing.TB has it). An interface
// of its own keeps package testing out of the benchmark binary, which
// uses only Launch and Close.
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skip(args ...any)
	Logf(format string, args ...any)
	Failed() bool
	Cleanup(func())
}

// Server is a private Dovecot on 127.0.0.1 started for one test (or TestMain).
type Server struct {
	Addr     string // "127.0.0.1:PORT", plain IMAP (STARTTLS offered)
	TLSAddr  string // "127.0.0.1:PORT", implicit TLS (imaps)
	POP3Addr string // "127.0.0.1:PORT", plain POP3 (STLS offered), with Options.POP3
	CAFile   string // PEM file of the self-signed cert (SAN IP:127.0.0.1) to trust
	User     string // the one mail user, "alice"
	Password string

	dir      string // the instance's own folder, removed on cleanup
	conf     string // dovecot.conf
	logPath  string // dovecot's log_path
	rawlog   string // rawlog_dir (if enabled): per IMAP session, TIMESTAMP.PID.N.in holds what the client sent, .out what the server answered, each line prefixed with a Unix time
	home     string // User's home; the Maildir is below it
	uid, gid int    // owner of the mail files
	instance string // instance_name; also the prefix of its process titles
	dovecot  string // path of the dovecot binary
	doveadm  string // path of the doveadm binary

	mu     sync.Mutex      // guards cmd, exited, stderr
	cmd    *exec.Cmd       // running master, nil when stopped
	exited chan struct{}   // closed when cmd has been waited for
	stderr *syncbuf.Buffer // the master's stdout and stderr
}

// Start starts a fresh server with an empty mailbox for User. It registers
// t.Cleanup to stop it and remove its files.
//
// If dovecot is not installed it skips the test, except with CI=true, where
// it fails it: tests must never skip in CI.
func Start(t TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options (RawLog is always on).
func StartWith(t TB, opts Options) *Server {
	t.Helper()
	lookPath(t, "dovecot")
	lookPath(t, "doveadm")
	if opts.POP3 {
		lookPOP3(t)
	}
	opts.RawLog = true
	s, err := Launch(opts)
	if err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("dovecot log:\n%s", s.Log())
		}
		if err := s.removeDir(); err != nil {
			t.Logf("dovecottest: %v", err)
		}
	})
	return s
}

// Restart starts a stopped server again with the same ports, config and
// mail, for tests of recovery after an outage. It fails the test if the
// server is still running.
func (s *Server) Restart(t TB) {
	t.Helper()
	if err := s.start(); err != nil {
		s.Stop()
		t.Fatalf("dovecottest: restart: %v", err)
	}
}

// start runs the master in the foreground and waits for the greeting.
func (s *Server) start() error {
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		return fmt.Errorf("dovecot %s is already running", s.instance)
	}
	cmd := exec.Command(s.dovecot, "-F", "-c", s.conf)
	cmd.Dir = s.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	stderr := new(syncbuf.Buffer)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	// If the test binary dies without cleanup (panic, timeout), the kernel
	// sends the master SIGTERM and the master stops its children. (The
	// signal follows the OS thread that started it: Go keeps threads alive
	// unless a goroutine exits while locked to one with LockOSThread.)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("start dovecot: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited, s.stderr = cmd, exited, stderr
	s.mu.Unlock()

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			return fmt.Errorf("dovecot exited at start-up (%v): %s", cmd.ProcessState, stderr)
		default:
		}
		if err := greet(s.Addr); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("no greeting on %s after %v: %v", s.Addr, startTimeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// greet connects to addr and reads the IMAP greeting.
func greet(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "* OK") {
		return fmt.Errorf("unexpected greeting %q", line)
	}
	return nil
}

// Stop stops the instance, simulating an outage: the listeners close and
// every connection drops. It waits until all of the instance's processes are
// gone. Stop is idempotent; Restart starts the server again.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	// The master closes its listeners at once, but it waits ~10 s before
	// it stops busy IMAP processes, then ~1 s for its log process, then up
	// to another second before it notices it is alone. An outage is abrupt:
	// stop the IMAP processes now, kill the log process once it is all
	// that is left, and the master if it lingers after that.
	s.cmd.Process.Signal(syscall.SIGTERM)
	for _, pid := range instancePids(s.instance, "imap") {
		syscall.Kill(pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		pids := instancePids(s.instance, "")
		if logs := instancePids(s.instance, "log"); len(logs) == len(pids) {
			for _, pid := range logs {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-s.exited:
	case <-time.After(200 * time.Millisecond):
		s.cmd.Process.Kill()
		<-s.exited
		// A killed master leaves its pid file, whose pid a later process
		// may get: Restart would take that for a running Dovecot.
		os.Remove(filepath.Join(s.dir, "run", "master.pid"))
	}
	s.cmd = nil
	reapInstance(s.instance)
}

// Log returns the contents of dovecot's log file (or, if there is none yet,
// what the master printed), for debugging failed tests. Start registers a
// cleanup that prints it when the test failed.
func (s *Server) Log() string {
	b, err := os.ReadFile(s.logPath)
	if err == nil && len(b) > 0 {
		return string(b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if out := s.stderr.String(); out != "" {
		return out
	}
	return fmt.Sprintf("(no log: %v)\n", err)
}

// Kick drops every connection of User (doveadm kick).
// Having no connection to drop is not an error.
func (s *Server) Kick(t TB) {
	t.Helper()
	cmd := exec.Command(s.doveadm, "-c", s.conf, "kick", s.User)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err != nil && !strings.Contains(string(out), "no users kicked") {
		t.Fatalf("dovecottest: doveadm kick: %v\n%s", err, out)
	}
}

// Doveadm is RunDoveadm failing the test if doveadm fails.
func (s *Server) Doveadm(t TB, args ...string) string {
	t.Helper()
	out, err := s.RunDoveadm(args...)
	if err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	return out
}

// lookPath finds a Dovecot binary or skips (fails in CI) the test.
func lookPath(t TB, name string) string {
	t.Helper()
	p, err := findBinary(name)
	if err == nil {
		return p
	}
	msg := "dovecottest: " + err.Error()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
		return ""
	}
	t.Skip(msg)
	return ""
}

// findBinary finds a Dovecot binary in PATH or where Debian puts it.
func findBinary(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	// Debian puts dovecot in /usr/sbin, which a user's PATH may lack.
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin"} {
		if p = filepath.Join(dir, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found: install it with `apt-get install dovecot-imapd`: %w", name, errNotInstalled)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// makeDir makes the instance's folder. It is short, not t.TempDir: base_dir
// holds unix sockets, whose paths may not exceed 107 bytes. Every folder on
// the way is made traversable for Dovecot's unprivileged users.
func makeDir() (string, error) {
	parent := os.TempDir()
	if len(parent) > 40 {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "dovecottest-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.Remove(dir)
		return "", err
	}
	return dir, nil
}

// freePorts returns n distinct ports on 127.0.0.1 that were free a moment
// ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// userMu serializes the creation of mailUser within one test binary;
// several binaries racing are handled by looking the user up again.
var userMu sync.Mutex

// mailOwner returns the uid and gid that own the mail files, and whether
// Dovecot runs rootless as the current user.
func mailOwner() (uid, gid int, rootless bool, err error) {
	if os.Geteuid() != 0 {
		return os.Geteuid(), os.Getegid(), true, nil
	}
	userMu.Lock()
	defer userMu.Unlock()
	// Test binaries of several packages may race to create the user:
	// useradd then fails on the lock or because the user now exists.
	u, err := user.Lookup(mailUser)
	for try := 0; err != nil; try++ {
		out, uerr := exec.Command("useradd", "--system", "--user-group", "--no-create-home",
			"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", mailUser).CombinedOutput()
		if u, err = user.Lookup(mailUser); err != nil && try == 20 {
			return 0, 0, false, fmt.Errorf("create user %s: %v: %s", mailUser, uerr, out)
		} else if err != nil && uerr != nil {
			time.Sleep(100 * time.Millisecond)
		}
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return 0, 0, false, fmt.Errorf("user %s has uid %q gid %q", mailUser, u.Uid, u.Gid)
	}
	return uid, gid, false, nil
}

// reapInstance waits for the processes whose title starts with the
// instance name to exit, and kills those that don't within a few seconds.
func reapInstance(instance string) {
	deadline := time.Now().Add(3 * time.Second)
	for {
		pids := instancePids(instance, "")
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// instancePids lists the processes whose title is "dovecot-INSTANCE/service"
// (Dovecot 2.3's titles for a named instance) or "INSTANCE/service", of
// every service or only of the one named.
func instancePids(instance, service string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		title, _, _ := bytes.Cut(b, []byte{0})
		title, _, _ = bytes.Cut(title, []byte{' '})
		name, svc, ok := strings.Cut(string(title), "/")
		name = strings.TrimPrefix(name, "dovecot-")
		if ok && name == instance && (service == "" || svc == service) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// SetQuota changes the storage limit of a server started with a Quota
// (e.g. "10M"); sessions logged in from then on see it (Kick ends the
// others). Dovecot looks at the users file at most once a second, so it
// waits that long.
func (s *Server) SetQuota(t TB, quota string) {
	t.Helper()
	if err := s.writeUsers(quota); err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	time.Sleep(1100 * time.Millisecond)
}
