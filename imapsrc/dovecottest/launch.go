package dovecottest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Options configure Launch.
type Options struct {
	// RawLog makes Dovecot write a rawlog of every IMAP session, for
	// Commands. It writes a copy of all traffic, bodies included, to
	// disk: benchmarks leave it off. Start turns it on.
	RawLog bool
	// Quota, when set (e.g. "1M"), turns on Dovecot's quota plugin with
	// this storage limit for User: an APPEND beyond it gets NO
	// [OVERQUOTA]. SetQuota changes it.
	Quota string
	// MaxMailSize, when set (e.g. "10k"), makes Dovecot refuse messages
	// bigger than that (quota_max_mail_size).
	MaxMailSize string
	// POP3 makes the server also speak POP3 (dovecot-pop3d) on POP3Addr,
	// to the same user and maildrop, with stable UIDLs; with RawLog, its
	// sessions are logged for POP3Commands.
	POP3 bool
}

// errNotInstalled is wrapped by Launch's error when dovecot or doveadm is
// missing.
var errNotInstalled = errors.New("not installed")

// Launch starts a fresh server with an empty mailbox for User, for code
// that is not a test (the benchmark). The caller must Close it. Tests use
// Start, which also skips them when Dovecot is missing.
func Launch(opts Options) (*Server, error) {
	dovecot, err := findBinary("dovecot")
	if err != nil {
		return nil, err
	}
	doveadm, err := findBinary("doveadm")
	if err != nil {
		return nil, err
	}
	uid, gid, rootless, err := mailOwner()
	if err != nil {
		return nil, err
	}
	dir, err := makeDir()
	if err != nil {
		return nil, err
	}
	s := &Server{
		CAFile:   filepath.Join(dir, "cert.pem"),
		User:     "alice",
		Password: "secret-" + strconv.Itoa(os.Getpid()),
		dir:      dir,
		conf:     filepath.Join(dir, "dovecot.conf"),
		logPath:  filepath.Join(dir, "dovecot.log"),
		rawlog:   filepath.Join(dir, "mail", "rawlog"),
		instance: "mailfstest-" + filepath.Base(dir),
		dovecot:  dovecot,
		doveadm:  doveadm,
		uid:      uid,
		gid:      gid,
	}
	s.home = filepath.Join(dir, "mail", "home", s.User)
	if err := s.launch(opts, rootless); err != nil {
		s.Stop()
		if log := s.Log(); !strings.HasPrefix(log, "(no log") {
			err = fmt.Errorf("%w\ndovecot log:\n%s", err, log)
		}
		s.removeDir()
		return nil, err
	}
	return s, nil
}

// launch writes the instance's files and starts it.
func (s *Server) launch(opts Options, rootless bool) error {
	if err := writeCert(s.CAFile, filepath.Join(s.dir, "key.pem")); err != nil {
		return err
	}
	for _, d := range []string{"mail", "mail/home", s.home, "mail/index", s.rawlog, s.rawlog + "-pop3"} {
		if !filepath.IsAbs(d) {
			d = filepath.Join(s.dir, d)
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.Chown(d, s.uid, s.gid); err != nil {
			return err
		}
	}
	if err := s.writeUsers(opts.Quota); err != nil {
		return err
	}

	// Free ports are picked by listening and closing, so another process may
	// take one before Dovecot binds it: try again with new ports then.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		cfg := config{dir: s.dir, instance: s.instance, uid: s.uid, gid: s.gid, rootless: rootless, rawlog: opts.RawLog, quota: opts.Quota != "" || opts.MaxMailSize != "", maxMailSize: opts.MaxMailSize}
		ports, perr := freePorts(3)
		if perr != nil {
			return perr
		}
		cfg.port, cfg.tlsPort = ports[0], ports[1]
		if opts.POP3 {
			cfg.pop3Port = ports[2]
			s.POP3Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.pop3Port))
		}
		if err = os.WriteFile(s.conf, []byte(cfg.String()), 0o644); err != nil {
			return err
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.port))
		s.TLSAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.tlsPort))
		if err = s.start(); err == nil {
			return nil
		}
		s.Stop()
		if !strings.Contains(err.Error()+s.Log(), "Address already in use") {
			break
		}
		os.Remove(s.logPath)
	}
	return err
}

// Close stops a server from Launch and removes its files.
func (s *Server) Close() error {
	s.Stop()
	return s.removeDir()
}

// removeDir removes the instance's folder. A process of a failed start
// may still be writing: it tries again for a while.
func (s *Server) removeDir() error {
	for try := 0; ; try++ {
		err := os.RemoveAll(s.dir)
		if err == nil || try == 10 {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// MailDir returns User's Maildir (Maildir++ layout: INBOX at the top,
// folder "A/B" in ".A.B" with names in modified UTF-7). Files written there
// must belong to MailOwner; run `doveadm force-resync` (RunDoveadm) after.
func (s *Server) MailDir() string { return filepath.Join(s.home, "Maildir") }

// MailOwner returns the uid and gid that Dovecot's mail processes run as.
func (s *Server) MailOwner() (uid, gid int) { return s.uid, s.gid }

// MasterPID returns the pid of the running master process, 0 when stopped.
// Its children (one imap process per session) are reaped by it, so their
// CPU time adds up in its /proc/PID/stat cutime and cstime.
func (s *Server) MasterPID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// RunDoveadm runs doveadm -c CONF with args and returns its output.
func (s *Server) RunDoveadm(args ...string) (string, error) {
	cmd := exec.Command(s.doveadm, append([]string{"-c", s.conf}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("doveadm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// writeUsers writes the passwd-file of the one user, with its storage
// quota if any (a userdb extra field; Dovecot rereads the file when it
// changes).
func (s *Server) writeUsers(quota string) error {
	extra := ""
	if quota != "" {
		extra = "userdb_quota_rule=*:storage=" + quota
	}
	users := fmt.Sprintf("%s:{PLAIN}%s:%d:%d::%s::%s\n", s.User, s.Password, s.uid, s.gid, s.home, extra)
	path, tmp := filepath.Join(s.dir, "users"), filepath.Join(s.dir, "users.tmp")
	if err := os.WriteFile(tmp, []byte(users), 0o644); err != nil {
		return err
	}
	// Dovecot rereads the file when its mtime (in seconds) changes: make
	// sure it does, also within the same second.
	if fi, err := os.Stat(path); err == nil {
		t := time.Now()
		if !t.After(fi.ModTime().Add(time.Second)) {
			t = fi.ModTime().Add(time.Second)
		}
		if err := os.Chtimes(tmp, t, t); err != nil {
			return err
		}
	}
	return os.Rename(tmp, path)
}
