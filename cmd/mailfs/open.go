package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"mailfs/cache"
	"mailfs/cmd/mailfs/internal/account"
	"mailfs/imapsrc"
	"mailfs/imapsrc/demo"
	"mailfs/imapsrc/pop3"
)

// accountFlags are the flags that say which account(s) to use; mount and
// sync share them.
type accountFlags struct {
	config, account                                     string
	server, provider, region, tls, tlsCA, user          string
	protocol                                            string
	passwordFile, passwordCmd, tokenCmd, auth, cacheDir string
	conns                                               int
	noLogin                                             bool // the command never logs in (status): no password asked
	demo                                                bool
}

func (af *accountFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&af.config, "config", "", "use the accounts of config `FILE` (default $XDG_CONFIG_HOME/mailfs/config.toml when no --server or --provider is given)")
	fl.StringVar(&af.account, "account", "", "with a config file: only the account `NAME`")
	fl.StringVar(&af.server, "server", "", "IMAP server as `HOST[:PORT]` (port 993 for implicit TLS, 143 otherwise)")
	fl.StringVar(&af.protocol, "protocol", "", "`PROTOCOL` of --server: imap (default) or pop3 (one read-only folder, INBOX; port 995 for implicit TLS, 110 otherwise)")
	fl.StringVar(&af.provider, "provider", "", "a provider preset `NAME` such as gmail or outlook (see 'mailfs providers')")
	fl.StringVar(&af.region, "region", "", "`REGION` for presets that need one (workmail)")
	fl.StringVar(&af.tls, "tls", "", "TLS `MODE`: implicit (default), starttls, or none (loopback servers only)")
	fl.StringVar(&af.tlsCA, "tls-ca", "", "PEM `FILE` with a CA to trust besides the system's")
	fl.StringVar(&af.user, "user", "", "login `NAME`")
	fl.StringVar(&af.passwordFile, "password-file", "", "read the password from `FILE` (must not be readable by group or others)")
	fl.StringVar(&af.passwordCmd, "password-cmd", "", "run `COMMAND` with sh -c and use its output as the password")
	fl.StringVar(&af.tokenCmd, "oauth-token-cmd", "", "run `COMMAND` with sh -c for an OAuth2 access token (XOAUTH2/OAUTHBEARER)")
	fl.StringVar(&af.auth, "auth", "", "login `METHOD`: password, xoauth2 or oauthbearer (default: from the credential and the server)")
	fl.StringVar(&af.cacheDir, "cache", "", "cache `DIR` (default $XDG_CACHE_HOME/mailfs/NAME for an account of the config file, USER@HOST:PORT for one from flags)")
	fl.IntVar(&af.conns, "conns", account.DefaultConns, "IMAP connections per account at most")
	fl.BoolVar(&af.demo, "demo", false, "serve a bundled sample mailbox from an in-process IMAP server")
	for _, name := range []string{"config", "tls-ca", "password-file"} {
		cmd.MarkFlagFilename(name)
	}
	cmd.MarkFlagDirname("cache")
	cmd.RegisterFlagCompletionFunc("account", completeAccounts)
	cmd.RegisterFlagCompletionFunc("provider", completeProviders)
	cmd.RegisterFlagCompletionFunc("protocol", fixedWords([]string{account.ProtoIMAP, account.ProtoPOP3}))
	cmd.RegisterFlagCompletionFunc("tls", fixedWords([]string{string(imapsrc.TLSImplicit), string(imapsrc.TLSStartTLS), string(imapsrc.TLSNone)}))
	cmd.RegisterFlagCompletionFunc("auth", fixedWords([]string{imapsrc.AuthPassword, imapsrc.AuthXOAuth2, imapsrc.AuthOAuthBearer}))
	for _, name := range []string{"server", "user", "region", "password-cmd", "oauth-token-cmd", "conns"} {
		cmd.RegisterFlagCompletionFunc(name, cobra.NoFileCompletions)
	}
}

// checkConns refuses a --conns out of range; without the flag, the
// config file's value (or the default) holds.
func (af *accountFlags) checkConns(c *cobra.Command) error {
	if !c.Flags().Changed("conns") {
		af.conns = 0
		return nil
	}
	if msg := account.CheckConns(af.conns); msg != "" {
		return usagef("--conns %s", msg)
	}
	return nil
}

// resolve turns the flags into accounts. single is true when the accounts
// come from the command line (one account, shown at the mount's root).
// Such an account without a credential gets a password typed at the
// terminal, when stdin is one; the prompt goes to stderr.
func (af accountFlags) resolve(stderr io.Writer) (accts []account.Account, cfg *account.Config, single bool, err error) {
	if af.demo {
		return nil, nil, true, nil
	}
	fromFlags := af.server != "" || af.provider != "" || af.user != ""
	if af.config == "" && fromFlags {
		a := account.Account{
			Name: "account", Server: af.server, Protocol: af.protocol, Provider: af.provider, Region: af.region,
			TLS: af.tls, TLSCA: af.tlsCA, User: af.user, Auth: af.auth,
			PasswordFile: af.passwordFile, PasswordCmd: af.passwordCmd, OAuthTokenCmd: af.tokenCmd,
			CacheDir: af.cacheDir, Conns: cmp.Or(af.conns, account.DefaultConns), Formats: account.DefaultFormats,
			FromFlags: true,
		}
		if a.User == "" || (a.Server == "" && a.Provider == "") {
			return nil, nil, false, usagef("--user and --server (or --provider) are required, or --config, or --demo")
		}
		pw, envSet := os.LookupEnv(account.PasswordEnv)
		others := a.PasswordFile != "" || a.PasswordCmd != "" || a.OAuthTokenCmd != ""
		switch passwordSource(envSet, pw, others || af.noLogin, term.IsTerminal(int(os.Stdin.Fd()))) {
		case fromEnv:
			a.PasswordEnv = account.PasswordEnv
		case emptyEnv:
			return nil, nil, false, usagef("%s is set but empty: put the password in it, or unset it and use --password-file, --password-cmd or --oauth-token-cmd", account.PasswordEnv)
		case fromPrompt:
			if err := promptPassword(stderr, a); err != nil {
				return nil, nil, false, err
			}
			a.PasswordEnv = account.PasswordEnv // where the prompt put it (and a --daemon server finds it)
		case noPassword:
			return nil, nil, false, usagef("no password: set %s, or use --password-file, --password-cmd or --oauth-token-cmd (or run on a terminal to be asked)", account.PasswordEnv)
		}
		if af.noLogin && a.PasswordEnv == "" && !others {
			a.OAuthTokenCmd = noLoginToken // satisfies Check; never run
		}
		if err := a.Check(); err != nil {
			return nil, nil, false, usagef("%s", err)
		}
		return []account.Account{a}, nil, true, nil
	}
	cfg, err = account.Load(af.config)
	if errors.Is(err, os.ErrNotExist) && af.config == "" {
		return nil, nil, false, usagef("no account given: use --server and --user, --provider, --config FILE, or --demo")
	}
	if err != nil {
		return nil, nil, false, err
	}
	accts = cfg.Accounts
	if af.account != "" {
		a, ok := cfg.Account(af.account)
		if !ok {
			return nil, nil, false, fmt.Errorf("%s: no account named %q", cfg.Path, af.account)
		}
		accts = []account.Account{a}
	}
	if len(accts) == 0 {
		return nil, nil, false, fmt.Errorf("%s: no [[account]]", cfg.Path)
	}
	for i := range accts {
		if af.conns > 0 {
			accts[i].Conns = af.conns
		}
	}
	return accts, cfg, false, nil
}

// A credential source of an account from flags.
type pwSource int

const (
	fromEnv    pwSource = iota // MAILFS_PASSWORD
	fromFlag                   // --password-file, --password-cmd, --oauth-token-cmd
	emptyEnv                   // MAILFS_PASSWORD set to "": a mistake, said as such
	fromPrompt                 // typed at the terminal
	noPassword
)

// passwordSource decides where the password of an account from flags
// comes from: MAILFS_PASSWORD when set (and not empty), else a flag,
// else the terminal when stdin is one.
func passwordSource(envSet bool, env string, otherFlag, stdinTTY bool) pwSource {
	switch {
	case envSet && env != "":
		return fromEnv
	case envSet && !otherFlag:
		return emptyEnv
	case otherFlag:
		return fromFlag
	case stdinTTY:
		return fromPrompt
	}
	return noPassword
}

// promptPassword asks for the password of a on the terminal without
// echo and puts it into MAILFS_PASSWORD, from where it is read once.
func promptPassword(stderr io.Writer, a account.Account) error {
	host := cmp.Or(a.Server, a.Provider)
	fmt.Fprintf(stderr, "Password for %s at %s: ", a.User, host)
	pw, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return fmt.Errorf("read the password: %w", err)
	}
	if len(pw) == 0 {
		return usagef("no password typed")
	}
	return os.Setenv(account.PasswordEnv, string(pw))
}

// opened is one account ready to serve.
type opened struct {
	name  string // directory in a multi-account mount
	src   source
	cache *cache.Cache
	dir   string // the cache folder
	close func()
}

// openAccounts connects to every account and opens its cache. With one
// account (or strict) a failure is returned; otherwise a failing account is
// logged and served from its cache, retried at every poll. An account from
// the command line (single) has no name.
func openAccounts(ctx context.Context, af accountFlags, accts []account.Account, single, strict bool, log *slog.Logger) ([]*opened, error) {
	if af.demo {
		srv, err := demo.Start()
		if err != nil {
			return nil, fmt.Errorf("start demo server: %w", err)
		}
		cfg := imapsrc.Config{Addr: srv.Addr, TLS: imapsrc.TLSNone, User: srv.User, Password: srv.Password, Conns: af.conns}
		dir := af.cacheDir
		if dir == "" {
			if dir, err = os.MkdirTemp("", "mailfs-demo-cache-"); err != nil {
				return nil, err
			}
		}
		o, err := openOne(ctx, "", sourceConfig{Config: cfg}, dir, "--cache "+dir, true, log)
		if err != nil {
			srv.Close()
			return nil, err
		}
		inner := o.close
		o.close = func() {
			inner()
			srv.Close()
			if af.cacheDir == "" {
				os.RemoveAll(dir)
			}
		}
		return []*opened{o}, nil
	}
	var out []*opened
	closeAll := func() {
		for _, o := range out {
			o.close()
		}
	}
	strict = strict || len(accts) == 1
	for _, a := range accts {
		icfg, err := a.SourceConfig()
		cfg := sourceConfig{Config: icfg}
		if a.PasswordEnv == account.PasswordEnv {
			os.Unsetenv(account.PasswordEnv) // read once; not passed on to any command
		}
		if err != nil {
			closeAll()
			return nil, err
		}
		cfg.Filter = a.Filter()
		if p, ok := imapsrc.LookupProvider(a.Provider); ok && !a.ShowAllMail {
			cfg.HideSpecialUse = p.HideSpecialUse
		}
		dir, what := a.CacheDir, "cache_dir "+a.CacheDir
		if a.FromFlags {
			what = "--cache " + a.CacheDir
		}
		if dir == "" {
			if dir, err = defaultCacheDir(cfg.Config, a, log); err != nil {
				closeAll()
				return nil, err
			}
			what = "the default cache " + dir + " (choose another with --cache or cache_dir)"
		}
		name := a.Name
		if single {
			name = ""
		}
		if a.Protocol == account.ProtoPOP3 && a.ReadWrite {
			closeAll()
			if a.FromFlags {
				return nil, fmt.Errorf("%w: drop --read-write", pop3.ErrReadOnly)
			}
			return nil, fmt.Errorf("account %q: %w: drop read_write (or --read-write)", a.Name, pop3.ErrReadOnly)
		}
		cfg.StateDir, cfg.POP3 = dir, a.Protocol == account.ProtoPOP3
		o, err := openOne(ctx, name, cfg, dir, what, strict, log)
		if err != nil {
			closeAll()
			if len(accts) > 1 {
				return nil, fmt.Errorf("account %q: %w", a.Name, err)
			}
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// openOne logs in (failing if strict, else logging) and opens the cache
// with the folder list. what names the cache dir's origin in an error.
func openOne(ctx context.Context, name string, cfg sourceConfig, dir, what string, strict bool, log *slog.Logger) (*opened, error) {
	alog := log
	if name != "" {
		alog = log.With("account", name)
	}
	dialCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	src, err := cfg.dial(dialCtx, alog)
	if err != nil {
		if strict {
			return nil, err
		}
		alog.Error("account unavailable, showing its cache; will retry", "err", err)
		if src, err = cfg.new(alog); err != nil {
			return nil, err
		}
	}
	c, err := cache.Open(dir, src, alog)
	if err != nil {
		src.Close()
		return nil, cacheError(what, dir, err)
	}
	if err := c.RefreshFolders(dialCtx); err != nil {
		if strict {
			c.Close()
			src.Close()
			return nil, err
		}
		alog.Error("list folders failed, showing the cached list", "err", err)
	}
	return &opened{name: name, src: src, cache: c, dir: dir, close: func() { c.Close(); src.Close() }}, nil
}

// defaultCacheDir is the cache of an account without cache_dir or
// --cache: $XDG_CACHE_HOME/mailfs/NAME for an account of the config file,
// $XDG_CACHE_HOME/mailfs/USER@HOST:PORT for one from flags, so that two
// accounts of one user on one host (another port, or one server through
// two tunnels) never share one. mailfs before these keys used USER@HOST
// for both: where only that older cache exists, it is moved to the new
// name (migrateCache) rather than downloaded again. Accounts that shared
// it then (what the new keys prevent) do not share it any more: the
// first one used takes it, the others start their own. POP3 came after
// the change: an older cache is never a POP3 account's.
func defaultCacheDir(cfg imapsrc.Config, a account.Account, log *slog.Logger) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder: use --cache DIR (%v)", err)
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		host, port = cfg.Addr, "143"
		if cfg.TLS == imapsrc.TLSImplicit || cfg.TLS == "" {
			port = "993"
		}
		if a.Protocol == account.ProtoPOP3 {
			port = map[bool]string{true: "995", false: "110"}[port == "993"]
		}
	}
	clean := strings.NewReplacer("/", "_", "\x00", "_").Replace
	key := clean(cfg.User + "@" + net.JoinHostPort(host, port))
	if a.Protocol == account.ProtoPOP3 {
		return filepath.Join(base, "mailfs", "pop3_"+key), nil // never the cache of the same user's IMAP account
	}
	if !a.FromFlags && a.Name != "" {
		key = clean(a.Name)
	}
	dir := filepath.Join(base, "mailfs", key)
	old := filepath.Join(base, "mailfs", clean(cfg.User+"@"+host))
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) && old != dir {
		if err := migrateCache(old, dir, log); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// migrateCache moves an older mailfs's cache at old to dir, if there is
// one (its store, meta.db, is there) and no mailfs has it open: the move
// takes the store's lock (bbolt's flock) first. One that is in use is an
// error that names who holds it: started anew, the cache at dir would
// download everything again.
func migrateCache(old, dir string, log *slog.Logger) error {
	store, err := os.OpenFile(filepath.Join(old, "meta.db"), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil // none, or moved meanwhile by another mailfs
	}
	if err != nil {
		return fmt.Errorf("the older cache %s: %w", old, err)
	}
	defer store.Close()
	if err := unix.Flock(int(store.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return fmt.Errorf("the older cache %s, to become this account's cache %s, is in use by another mailfs: %s", old, dir, cacheHolders(old))
	}
	if err := os.Rename(old, dir); err != nil {
		if _, serr := os.Stat(dir); serr == nil {
			return nil // another mailfs made dir meanwhile: the older one stays
		}
		return fmt.Errorf("move the older cache %s to %s: %w", old, dir, err)
	}
	log.Info("moved the older cache to the account's own", "from", old, "to", dir)
	return nil
}
