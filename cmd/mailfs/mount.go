package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"mailfs/cmd/mailfs/internal/account"
	"mailfs/fs"
)

const mountLong = `Serves mail at MOUNTPOINT (an existing, empty directory) in the foreground
until it is unmounted with 'mailfs umount MOUNTPOINT' (or fusermount3 -u)
or Ctrl-C; with --daemon, mailfs returns once the mount is ready and
serves it in the background. The mount appears once the folder list is
known; errors before that exit with status 1.

One account from flags is shown at MOUNTPOINT itself; the accounts of a
config file are shown as MOUNTPOINT/NAME/... An account that cannot be
reached is logged and shown from its cache, and retried at every poll.

The password is read from the MAILFS_PASSWORD environment variable, from
--password-file, or from the output of --password-cmd; never from argv.
With none of them and a terminal, mailfs asks for it (without echo).

Mount options as sshfs and rclone take them: -o ro,allow_other,uid=1000,
gid=1000,umask=022; any flag of this command also works as -o NAME[=VALUE]
(-o config=FILE, -o formats=eml,pdf, -o log_file=FILE). Options that FUSE
tools pass and mailfs has no use for (rw, dev, suid, nodev, nosuid, exec,
noexec, _netdev, noauto, auto, user, users, nofail, defaults, atime,
noatime, relatime, x-*) are ignored with a warning.

As a mount helper: mount.fuse3 (mount -t fuse.mailfs, an /etc/fstab line)
runs 'mailfs SOURCE MOUNTPOINT -o OPTIONS', which is 'mailfs mount --daemon'
with SOURCE = demo (the sample mailbox), a config FILE (a path with a /:
all its accounts), or an account NAME of the config file (-o config=FILE,
default $XDG_CONFIG_HOME/mailfs/config.toml of the user mount runs as).`

const mountExamples = `  MAILFS_PASSWORD=secret mailfs mount --server imap.example.com --user me@example.com ~/mail
  mailfs mount --provider gmail --user me@gmail.com --oauth-token-cmd 'oama access me@gmail.com' ~/mail
  mailfs mount --config ~/.config/mailfs/config.toml --formats eml,pdf ~/mail
  mailfs mount --demo /tmp/demo
  mailfs mount --daemon --log-file ~/mailfs.log --umask 022 --config ~/.config/mailfs/config.toml ~/mail
  mailfs mount -o allow_other,uid=1000,gid=1000,umask=022 --config /etc/mailfs.toml /srv/mail
  mailfs mount --read-write --config ~/.config/mailfs/config.toml --account new ~/new   # then: rsync -a /backup/mail/ ~/new/

  mount -t fuse.mailfs work /srv/mail -o config=/etc/mailfs.toml,allow_other
  an /etc/fstab line (mailfs in /usr/local/bin):
  work  /srv/mail  fuse.mailfs  config=/etc/mailfs.toml,allow_other,umask=022,_netdev  0  0`

type mountFlags struct {
	accountFlags
	formats, logLevel string
	poll              time.Duration
	debugFUSE         bool
	readWrite         bool
	allowDelete       bool
	owner             ownerFlags
	daemon            bool
	logFile           string
}

func newMountCmd(cmdline []string) *cobra.Command {
	var f mountFlags
	cmd := &cobra.Command{
		Use:     "mount [flags] MOUNTPOINT",
		Short:   "serve mail at a directory until unmounted",
		Long:    mountLong,
		Example: mountExamples,
		Args:    cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want exactly one MOUNTPOINT, got %d arguments", len(args))
			}
			if err := applyMountOptions(c, f.owner.options); err != nil {
				return err
			}
			return mountCmd(c, &f, args[0], cmdline)
		},
		ValidArgsFunction: completeDirs,
	}
	fl := cmd.Flags()
	f.register(cmd)
	fl.StringVar(&f.formats, "formats", "eml", "files shown per message, comma-separated `LIST` of "+strings.Join(account.KnownFormats, ", ")+" (sums: a SHA256SUMS file per folder)")
	fl.DurationVar(&f.poll, "poll", 60*time.Second, "look for new and deleted messages every `DURATION`")
	fl.StringVar(&f.logLevel, "log-level", "info", "log `LEVEL`: error, warn, info or debug")
	fl.StringVar(&f.logFile, "log-file", "", "append the log to `FILE` instead of stderr")
	fl.BoolVar(&f.daemon, "daemon", false, "return once the mount is ready and serve it in the background")
	fl.BoolVar(&f.debugFUSE, "debug-fuse", false, "log every FUSE request")
	fl.BoolVar(&f.allowDelete, "allow-delete", false, "with --read-write: let rm delete messages (UID EXPUNGE of exactly that message) and rmdir empty folders")
	fl.BoolVar(&f.readWrite, "read-write", false, "let writes through the mount change the server: new .eml files are appended, mkdir creates folders (default read-only)")
	f.owner.register(cmd)
	cmd.RegisterFlagCompletionFunc("formats", completeFormats)
	cmd.RegisterFlagCompletionFunc("log-level", fixedWords(account.LogLevels))
	cmd.MarkFlagFilename("log-file")
	return cmd
}

func mountCmd(c *cobra.Command, f *mountFlags, mountpoint string, cmdline []string) error {
	set := func(name string) bool { return c.Flags().Changed(name) }
	if msg := account.CheckFormats(strings.Split(f.formats, ",")); msg != "" {
		return usagef("--formats: %s", msg)
	}
	if f.poll < time.Second {
		return usagef("--poll %v is too short (at least 1s)", f.poll)
	}
	if err := f.checkConns(c); err != nil {
		return err
	}
	owner, err := f.owner.resolve()
	if err != nil {
		return err
	}
	accts, cfg, single, err := f.resolve(c.ErrOrStderr())
	if err != nil {
		return err
	}
	if f.allowDelete && !f.readWrite && !slices.ContainsFunc(accts, func(a account.Account) bool { return a.ReadWrite }) {
		return usagef("--allow-delete needs --read-write (or read_write = true in the config file)")
	}
	if cfg != nil { // the file's defaults, unless a flag says otherwise
		if !set("poll") && cfg.Poll > 0 {
			f.poll = cfg.Poll
		}
		if !set("log-level") && cfg.LogLevel != "" {
			f.logLevel = cfg.LogLevel
		}
	}
	logw := c.ErrOrStderr()
	if f.logFile != "" {
		lf, err := os.OpenFile(f.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("--log-file: %w", err)
		}
		defer lf.Close()
		logw = lf
	}
	log, err := newLogger(logw, f.logLevel)
	if err != nil {
		return err
	}
	if err := checkMountpoint(mountpoint); err != nil {
		return err
	}
	if owner.AllowOther {
		if err := checkAllowOther(os.Geteuid(), fuseConf); err != nil {
			return err
		}
	}
	formats := strings.Split(f.formats, ",")
	for i := range accts {
		if set("formats") || len(accts[i].Formats) == 0 {
			accts[i].Formats = formats
		}
		if f.readWrite {
			accts[i].ReadWrite = true
		}
	}
	ready := func() {}
	if f.daemon {
		child, err := daemonChild()
		if err != nil {
			return err
		}
		if child == nil { // the caller: start the server, wait until it is ready
			return startDaemon(cmdline, f.logFile, c.ErrOrStderr())
		}
		ready = child.ready
	}
	return serve(*f, owner, accts, single, mountpoint, log, ready)
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("unknown log level %q (want error, warn, info or debug)", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// serve logs in, mounts, calls ready, and serves until unmounted or
// signalled.
func serve(f mountFlags, owner fs.Owner, accts []account.Account, single bool, mountpoint string, log *slog.Logger, ready func()) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Signals are caught from the start: before the mount they stop the
	// login, after it they unmount (also one that comes as soon as the
	// mount shows, before it is served).
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	var mounted atomic.Pointer[fs.Mount]
	done := make(chan struct{})
	defer func() { cancel(); <-done }()
	go func() {
		defer close(done)
		select {
		case s := <-sig:
			log.Info("unmounting", "signal", s.String())
			m := mounted.Load()
			if m == nil {
				cancel()
				return
			}
			if err := m.Unmount(); err != nil {
				log.Error("unmount failed; close files using it, then run mailfs umount", "mountpoint", mountpoint, "err", err)
			}
		case <-ctx.Done():
		}
	}()
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
	m, err := fs.New(mountpoint, fs.Args{Accounts: fsAccts, Log: log, Debug: f.debugFUSE, Owner: owner})
	if err != nil {
		return fmt.Errorf("%w (is fuse3 installed and /dev/fuse usable?)", err)
	}
	mounted.Store(m)
	if ctx.Err() != nil { // signalled while mounting
		m.Unmount()
	}
	for _, o := range opened {
		alog := log
		if o.name != "" {
			alog = log.With("account", o.name)
		}
		alog.Info("mounted", "mountpoint", mountpoint, "cache", o.dir)
		go o.cache.Run(ctx, f.poll)
	}
	ready()

	m.Wait()
	cancel() // stop syncs and IDLE; o.close waits for them (cache.Close) before the connections close
	log.Info("unmounted", "mountpoint", mountpoint)
	return nil
}

// checkMountpoint wants an existing empty directory and a usable /dev/fuse.
func checkMountpoint(dir string) error {
	dead := func(err error) bool { return errors.Is(err, syscall.ENOTCONN) }
	deadMsg := fmt.Errorf("mountpoint %s: a mount whose mailfs ended is still there (transport endpoint is not connected): run 'mailfs umount %s' first", dir, dir)
	fi, err := os.Stat(dir)
	if dead(err) {
		return deadMsg
	}
	if err != nil {
		return fmt.Errorf("mountpoint: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("mountpoint %s is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if dead(err) { // the kernel may still have the attributes of its root
		return deadMsg
	}
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
