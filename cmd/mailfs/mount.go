package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"mailfs/fs"
)

const mountUsage = `Usage: mailfs mount [flags] MOUNTPOINT

Serves mail at MOUNTPOINT (an existing, empty directory) in the foreground
until it is unmounted with 'mailfs umount MOUNTPOINT' (or fusermount3 -u)
or Ctrl-C. The mount appears once the folder list is known; errors before
that exit with status 1.

One account from flags is shown at MOUNTPOINT itself; the accounts of a
config file are shown as MOUNTPOINT/NAME/... An account that cannot be
reached is logged and shown from its cache, and retried at every poll.

The password is read from the MAILFS_PASSWORD environment variable, from
--password-file, or from the output of --password-cmd; never from argv.

Examples:
  MAILFS_PASSWORD=secret mailfs mount --server imap.example.com --user me@example.com ~/mail
  mailfs mount --provider gmail --user me@gmail.com --oauth-token-cmd 'oama access me@gmail.com' ~/mail
  mailfs mount --config ~/.config/mailfs/config.toml --formats eml,pdf ~/mail
  mailfs mount --demo /tmp/demo
  mailfs mount --read-write --config ~/.config/mailfs/config.toml --account new ~/new   # then: rsync -a /backup/mail/ ~/new/

Flags:
`

type mountFlags struct {
	accountFlags
	formats, logLevel string
	poll              time.Duration
	debugFUSE         bool
	readWrite         bool
	allowDelete       bool
}

func mountCmd(args []string, stdout, stderr io.Writer) error {
	var f mountFlags
	fl := flag.NewFlagSet("mount", flag.ContinueOnError)
	fl.Usage = func() {
		fmt.Fprint(fl.Output(), mountUsage)
		fl.PrintDefaults()
	}
	f.register(fl)
	fl.StringVar(&f.formats, "formats", "eml", "files shown per message, comma-separated `LIST` of "+strings.Join(knownFormats, ", "))
	fl.DurationVar(&f.poll, "poll", 60*time.Second, "look for new and deleted messages every `DURATION`")
	fl.StringVar(&f.logLevel, "log-level", "info", "log `LEVEL`: error, warn, info or debug")
	fl.BoolVar(&f.debugFUSE, "debug-fuse", false, "log every FUSE request")
	fl.BoolVar(&f.allowDelete, "allow-delete", false, "with --read-write: let rm delete messages (UID EXPUNGE of exactly that message) and rmdir empty folders")
	fl.BoolVar(&f.readWrite, "read-write", false, "let writes through the mount change the server: new .eml files are appended, mkdir creates folders (default read-only)")
	pos, err := parseArgs(fl, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one MOUNTPOINT, got %d arguments", len(pos))
	}
	set := map[string]bool{}
	fl.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if msg := checkFormats(strings.Split(f.formats, ",")); msg != "" {
		return usagef("--formats: %s", msg)
	}
	if f.poll < time.Second {
		return usagef("--poll %v is too short (at least 1s)", f.poll)
	}
	accts, cfg, single, err := f.resolve()
	if err != nil {
		return err
	}
	if f.allowDelete && !f.readWrite && !slices.ContainsFunc(accts, func(a Account) bool { return a.ReadWrite }) {
		return usagef("--allow-delete needs --read-write (or read_write = true in the config file)")
	}
	if cfg != nil { // the file's defaults, unless a flag says otherwise
		if !set["poll"] && cfg.Poll > 0 {
			f.poll = cfg.Poll
		}
		if !set["log-level"] && cfg.LogLevel != "" {
			f.logLevel = cfg.LogLevel
		}
	}
	log, err := newLogger(stderr, f.logLevel)
	if err != nil {
		return err
	}
	if err := checkMountpoint(pos[0]); err != nil {
		return err
	}
	formats := strings.Split(f.formats, ",")
	for i := range accts {
		if set["formats"] || len(accts[i].Formats) == 0 {
			accts[i].Formats = formats
		}
		if f.readWrite {
			accts[i].ReadWrite = true
		}
	}

	return serve(f, accts, single, pos[0], log)
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("unknown log level %q (want error, warn, info or debug)", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// serve logs in, mounts, and serves until unmounted or signalled.
func serve(f mountFlags, accts []Account, single bool, mountpoint string, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opened, err := openAccounts(ctx, f.accountFlags, accts, single, false, log)
	if err != nil {
		return err
	}
	defer func() {
		for _, o := range opened {
			o.close()
		}
	}()
	var fsAccts []fs.Account
	for i, o := range opened {
		formats, rw := strings.Split(f.formats, ","), f.readWrite
		if i < len(accts) {
			formats, rw = accts[i].Formats, accts[i].ReadWrite
		}
		fsAccts = append(fsAccts, fs.Account{Name: o.name, Store: o.cache, Formats: formats, ReadWrite: rw, AllowDelete: rw && f.allowDelete})
	}
	m, err := fs.New(mountpoint, fs.Args{Accounts: fsAccts, Log: log, Debug: f.debugFUSE})
	if err != nil {
		return fmt.Errorf("%w (is fuse3 installed and /dev/fuse usable?)", err)
	}
	for _, o := range opened {
		alog := log
		if o.name != "" {
			alog = log.With("account", o.name)
		}
		alog.Info("mounted", "mountpoint", mountpoint, "cache", o.dir)
		go o.cache.Run(ctx, f.poll)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sig
		log.Info("unmounting", "signal", s.String())
		if err := m.Unmount(); err != nil {
			log.Error("unmount " + mountpoint + ": " + err.Error() + "; close files using it, then run mailfs umount " + mountpoint)
		}
	}()
	m.Wait()
	cancel() // stop syncs and IDLE; o.close waits for them (cache.Close) before the connections close
	log.Info("unmounted", "mountpoint", mountpoint)
	return nil
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
