package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"mailfs/cache"
	"mailfs/imapsrc"
	"mailfs/imapsrc/demo"
)

// accountFlags are the flags that say which account(s) to use; mount and
// sync share them.
type accountFlags struct {
	config, account                                     string
	server, provider, region, tls, tlsCA, user          string
	passwordFile, passwordCmd, tokenCmd, auth, cacheDir string
	conns                                               int
	demo                                                bool
}

func (af *accountFlags) register(fl *flag.FlagSet) {
	fl.StringVar(&af.config, "config", "", "use the accounts of config `FILE` (default $XDG_CONFIG_HOME/mailfs/config.toml when no --server or --provider is given)")
	fl.StringVar(&af.account, "account", "", "with a config file: only the account `NAME`")
	fl.StringVar(&af.server, "server", "", "IMAP server as `HOST[:PORT]` (port 993 for implicit TLS, 143 otherwise)")
	fl.StringVar(&af.provider, "provider", "", "a provider preset `NAME` such as gmail or outlook (see 'mailfs providers')")
	fl.StringVar(&af.region, "region", "", "`REGION` for presets that need one (workmail)")
	fl.StringVar(&af.tls, "tls", "", "TLS `mode`: implicit (default), starttls, or none (loopback servers only)")
	fl.StringVar(&af.tlsCA, "tls-ca", "", "PEM `FILE` with a CA to trust besides the system's")
	fl.StringVar(&af.user, "user", "", "login `NAME`")
	fl.StringVar(&af.passwordFile, "password-file", "", "read the password from `FILE` (must not be readable by group or others)")
	fl.StringVar(&af.passwordCmd, "password-cmd", "", "run `COMMAND` with sh -c and use its output as the password")
	fl.StringVar(&af.tokenCmd, "oauth-token-cmd", "", "run `COMMAND` with sh -c for an OAuth2 access token (XOAUTH2/OAUTHBEARER)")
	fl.StringVar(&af.auth, "auth", "", "login `METHOD`: password, xoauth2 or oauthbearer (default: from the credential and the server)")
	fl.StringVar(&af.cacheDir, "cache", "", "cache `DIR` (default $XDG_CACHE_HOME/mailfs/USER@HOST)")
	fl.IntVar(&af.conns, "conns", 0, "IMAP connections per account at most (default 4)")
	fl.BoolVar(&af.demo, "demo", false, "serve a bundled sample mailbox from an in-process IMAP server")
}

// passwordEnv is the environment variable a command-line account's
// password is read from.
const passwordEnv = "MAILFS_PASSWORD"

// resolve turns the flags into accounts. single is true when the accounts
// come from the command line (one account, shown at the mount's root).
func (af accountFlags) resolve() (accts []Account, cfg *Config, single bool, err error) {
	if af.demo {
		return nil, nil, true, nil
	}
	fromFlags := af.server != "" || af.provider != "" || af.user != ""
	if af.config == "" && fromFlags {
		a := Account{
			Name: "account", Server: af.server, Provider: af.provider, Region: af.region,
			TLS: af.tls, TLSCA: af.tlsCA, User: af.user, Auth: af.auth,
			PasswordFile: af.passwordFile, PasswordCmd: af.passwordCmd, OAuthTokenCmd: af.tokenCmd,
			CacheDir: af.cacheDir, Conns: cmp.Or(af.conns, defaultConns), Formats: defaultFormats,
		}
		if _, ok := os.LookupEnv(passwordEnv); ok {
			a.PasswordEnv = passwordEnv
		}
		if a.User == "" || (a.Server == "" && a.Provider == "") {
			return nil, nil, false, usagef("--user and --server (or --provider) are required, or --config, or --demo")
		}
		if a.PasswordEnv == "" && a.PasswordFile == "" && a.PasswordCmd == "" && a.OAuthTokenCmd == "" {
			return nil, nil, false, usagef("no password: set %s, or use --password-file, --password-cmd or --oauth-token-cmd", passwordEnv)
		}
		if ps := a.check(); len(ps) > 0 {
			return nil, nil, false, usagef("%s", strings.TrimPrefix(ps[0].msg(""), "account: "))
		}
		return []Account{a}, nil, true, nil
	}
	cfg, err = LoadConfig(af.config)
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
		accts = []Account{a}
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

// opened is one account ready to serve.
type opened struct {
	name  string // directory in a multi-account mount
	src   *imapsrc.Source
	cache *cache.Cache
	dir   string // the cache folder
	close func()
}

// openAccounts connects to every account and opens its cache. With one
// account (or strict) a failure is returned; otherwise a failing account is
// logged and served from its cache, retried at every poll. An account from
// the command line (single) has no name.
func openAccounts(ctx context.Context, af accountFlags, accts []Account, single, strict bool, log *slog.Logger) ([]*opened, error) {
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
		o, err := openOne(ctx, "", cfg, dir, true, log)
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
		cfg, err := a.SourceConfig()
		if a.PasswordEnv == passwordEnv {
			os.Unsetenv(passwordEnv) // read once; not passed on to any command
		}
		if err != nil {
			closeAll()
			return nil, err
		}
		cfg.Filter = a.Filter()
		if p, ok := imapsrc.LookupProvider(a.Provider); ok && !a.ShowAllMail {
			cfg.HideSpecialUse = p.HideSpecialUse
		}
		dir := a.CacheDir
		if dir == "" {
			if dir, err = defaultCacheDir(cfg); err != nil {
				closeAll()
				return nil, err
			}
		}
		name := a.Name
		if single {
			name = ""
		}
		o, err := openOne(ctx, name, cfg, dir, strict, log)
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
// with the folder list.
func openOne(ctx context.Context, name string, cfg imapsrc.Config, dir string, strict bool, log *slog.Logger) (*opened, error) {
	alog := log
	if name != "" {
		alog = log.With("account", name)
	}
	dialCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	src, err := imapsrc.Dial(dialCtx, cfg, alog)
	if err != nil {
		if strict {
			return nil, err
		}
		alog.Error("account unavailable, showing its cache; will retry: " + err.Error())
		if src, err = imapsrc.New(cfg, alog); err != nil {
			return nil, err
		}
	}
	c, err := cache.Open(dir, src, alog)
	if err != nil {
		src.Close()
		return nil, err
	}
	if err := c.RefreshFolders(dialCtx); err != nil {
		if strict {
			c.Close()
			src.Close()
			return nil, err
		}
		alog.Error("list folders failed, showing the cached list: " + err.Error())
	}
	return &opened{name: name, src: src, cache: c, dir: dir, close: func() { c.Close(); src.Close() }}, nil
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
