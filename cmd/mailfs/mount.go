package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"mailfs/cache"
	"mailfs/fs"
	"mailfs/imapsrc"
	"mailfs/imapsrc/demo"
)

const mountUsage = `Usage: mailfs mount [flags] MOUNTPOINT

Serves the account at MOUNTPOINT (an existing, empty directory) in the
foreground until it is unmounted with 'fusermount3 -u MOUNTPOINT' or
Ctrl-C. The mount appears once the folder list is known; errors before
that exit with status 1.

The password is read from the MAILFS_PASSWORD environment variable, from
--password-file, or from the output of --password-cmd; never from argv.

Flags:
`

type mountFlags struct {
	server, tls, tlsCA, user  string
	passwordFile, passwordCmd string
	cacheDir, logLevel        string
	formats                   string
	poll                      time.Duration
	conns                     int
	demo, debugFUSE           bool
}

func mountCmd(args []string, stdout, stderr io.Writer) error {
	var f mountFlags
	fl := flag.NewFlagSet("mount", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprint(fl.Output(), mountUsage)
		fl.PrintDefaults()
	}
	fl.StringVar(&f.server, "server", "", "IMAP server as `HOST[:PORT]` (port 993 for implicit TLS, 143 otherwise)")
	fl.StringVar(&f.tls, "tls", "implicit", "TLS `mode`: implicit, starttls, or none (loopback servers only)")
	fl.StringVar(&f.tlsCA, "tls-ca", "", "PEM `FILE` with a CA to trust besides the system's")
	fl.StringVar(&f.user, "user", "", "login `NAME`")
	fl.StringVar(&f.passwordFile, "password-file", "", "read the password from `FILE` (must not be readable by group or others)")
	fl.StringVar(&f.passwordCmd, "password-cmd", "", "run `COMMAND` with sh -c and use its output as the password")
	fl.StringVar(&f.cacheDir, "cache", "", "cache `DIR` (default $XDG_CACHE_HOME/mailfs/USER@HOST)")
	fl.StringVar(&f.formats, "formats", "eml", "files shown per message, comma-separated `LIST` of eml, html, pdf, txt")
	fl.DurationVar(&f.poll, "poll", 60*time.Second, "look for new and deleted messages every `DURATION`")
	fl.IntVar(&f.conns, "conns", 4, "IMAP connections at most")
	fl.BoolVar(&f.demo, "demo", false, "serve a bundled sample mailbox from an in-process IMAP server")
	fl.StringVar(&f.logLevel, "log-level", "info", "log `LEVEL`: error, warn, info or debug")
	fl.BoolVar(&f.debugFUSE, "debug-fuse", false, "log every FUSE request")
	pos, err := parseInterspersed(fl, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if len(pos) != 1 {
		return usagef("want exactly one MOUNTPOINT, got %d arguments", len(pos))
	}
	for _, format := range strings.Split(f.formats, ",") {
		switch format {
		case "eml", "html", "pdf", "txt":
		default:
			return usagef("unknown format %q in --formats (want eml, html, pdf, txt)", format)
		}
	}
	if f.poll < time.Second {
		return usagef("--poll %v is too short (at least 1s)", f.poll)
	}
	log, err := newLogger(stderr, f.logLevel)
	if err != nil {
		return err
	}
	return serve(f, pos[0], log)
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("unknown --log-level %q", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// serve logs in, mounts, and serves until unmounted or signalled.
func serve(f mountFlags, mountpoint string, log *slog.Logger) error {
	if err := checkMountpoint(mountpoint); err != nil {
		return err
	}
	cfg, cleanup, err := sourceConfig(f)
	if err != nil {
		return err
	}
	defer cleanup()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	startCtx, startCancel := context.WithTimeout(ctx, 60*time.Second)
	defer startCancel()
	src, err := imapsrc.Dial(startCtx, cfg, log)
	if err != nil {
		return err
	}
	defer src.Close()

	dir := f.cacheDir
	if dir == "" {
		if dir, err = defaultCacheDir(cfg); err != nil {
			return err
		}
	}
	if f.demo && f.cacheDir == "" {
		if dir, err = os.MkdirTemp("", "mailfs-demo-cache-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	c, err := cache.Open(dir, src, log)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.RefreshFolders(startCtx); err != nil {
		return err
	}

	m, err := fs.New(mountpoint, fs.Args{Store: c, Formats: strings.Split(f.formats, ","), Log: log, Debug: f.debugFUSE})
	if err != nil {
		return fmt.Errorf("%w (is fuse3 installed and /dev/fuse usable?)", err)
	}
	log.Info("mounted", "mountpoint", mountpoint, "cache", dir, "server", cfg.Addr)
	go c.Run(ctx, f.poll)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sig
		log.Info("unmounting", "signal", s.String())
		if err := m.Unmount(); err != nil {
			log.Error("unmount " + mountpoint + ": " + err.Error() + "; close files using it, then run fusermount3 -u")
		}
	}()
	m.Wait()
	log.Info("unmounted", "mountpoint", mountpoint)
	return nil
}

// sourceConfig turns the flags into an imapsrc.Config. With --demo it
// starts the in-process sample server; cleanup stops it.
func sourceConfig(f mountFlags) (imapsrc.Config, func(), error) {
	if f.demo {
		srv, err := demo.Start()
		if err != nil {
			return imapsrc.Config{}, nil, fmt.Errorf("start demo server: %w", err)
		}
		cfg := imapsrc.Config{Addr: srv.Addr, TLS: imapsrc.TLSNone, User: srv.User, Password: srv.Password, Conns: f.conns}
		return cfg, func() { srv.Close() }, nil
	}
	if f.server == "" || f.user == "" {
		return imapsrc.Config{}, nil, usagef("--server and --user are required (or --demo)")
	}
	pw, err := password(f)
	if err != nil {
		return imapsrc.Config{}, nil, err
	}
	cfg := imapsrc.Config{
		Addr: f.server, TLS: imapsrc.TLSMode(f.tls), CAFile: f.tlsCA,
		User: f.user, Password: pw, Conns: f.conns,
	}
	return cfg, func() {}, nil
}

// password reads the password from the one source given.
func password(f mountFlags) (string, error) {
	env, hasEnv := os.LookupEnv("MAILFS_PASSWORD")
	os.Unsetenv("MAILFS_PASSWORD") // not inherited by --password-cmd or anything else
	n := 0
	for _, set := range []bool{hasEnv, f.passwordFile != "", f.passwordCmd != ""} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return "", usagef("no password: set MAILFS_PASSWORD, or use --password-file or --password-cmd")
	case n > 1:
		return "", usagef("more than one password source: use only one of MAILFS_PASSWORD, --password-file, --password-cmd")
	case hasEnv:
		return env, nil
	case f.passwordFile != "":
		fi, err := os.Stat(f.passwordFile)
		if err != nil {
			return "", fmt.Errorf("password file: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return "", fmt.Errorf("password file %s is readable by others (mode %v): chmod 600 it", f.passwordFile, fi.Mode().Perm())
		}
		b, err := os.ReadFile(f.passwordFile)
		if err != nil {
			return "", fmt.Errorf("password file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	default:
		cmd := exec.Command("sh", "-c", f.passwordCmd)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("--password-cmd failed: %v", err)
		}
		return strings.TrimSpace(string(out)), nil
	}
}

func defaultCacheDir(cfg imapsrc.Config) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder: use --cache DIR (%v)", err)
	}
	host := cfg.Addr
	if h, _, err := net.SplitHostPort(cfg.Addr); err == nil {
		host = h
	}
	name := strings.NewReplacer("/", "_", "\x00", "_").Replace(cfg.User + "@" + host)
	return filepath.Join(base, "mailfs", name), nil
}

// checkMountpoint wants an existing empty directory and a usable /dev/fuse.
func checkMountpoint(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("mountpoint: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("mountpoint %s is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("mountpoint: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("mountpoint %s is not empty (or already mounted)", dir)
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return errors.New("/dev/fuse is missing: install fuse3 and load the fuse module (modprobe fuse)")
	}
	return nil
}
