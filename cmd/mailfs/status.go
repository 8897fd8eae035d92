package main

// mailfs status: what each chosen account's cache holds and when it was
// last in step with the server (cache.Cache.Status), read from the cache
// alone: no login, nothing changes.

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"mailfs/cache"
	"mailfs/cmd/mailfs/internal/account"
)

const statusLong = `Shows, for every account (or --account NAME), each folder's messages on
the server (as of the last sync) and in the cache, the last successful
sync and the last error, read from the cache without logging in. With
--json it prints the JSON of the mount's .status file (one object per
account, keyed by account name; the schema is in the README), for a
monitoring script.

The cache of a running mount is in use by it: read MOUNTPOINT/.status
(MOUNTPOINT/ACCOUNT/.status with several accounts) instead.

Exit status: 0 on success; 1 when a cache cannot be read; 2 for a
mistake in the command line.`

const statusExamples = `  mailfs status
  mailfs status --json --config ~/.config/mailfs/config.toml --account work
  mailfs status --server imap.example.com --user me --cache ~/mailcache
  cat ~/mail/.status                    (a running mount)`

// noLoginToken stands for the credential of an account whose command
// never logs in, so that its settings pass account.Check.
const noLoginToken = "false"

type statusFlags struct {
	accountFlags
	json bool
}

func newStatusCmd() *cobra.Command {
	f := statusFlags{accountFlags: accountFlags{noLogin: true}}
	cmd := &cobra.Command{
		Use:               "status [flags]",
		Short:             "show what the cache holds and when it last synced",
		Long:              statusLong,
		Example:           statusExamples,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE:              func(c *cobra.Command, args []string) error { return statusCmd(c, &f) },
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON (the schema of .status) instead of a summary")
	return cmd
}

func statusCmd(c *cobra.Command, f *statusFlags) error {
	if f.demo {
		return usagef("status has no --demo: the demo's cache ends with its mount")
	}
	stderr, stdout := c.ErrOrStderr(), c.OutOrStdout()
	accts, _, single, err := f.resolve(stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, "warn")
	if err != nil {
		return err
	}
	reports := map[string]cache.StatusReport{}
	var names []string
	var errs []error
	for _, a := range accts {
		name := a.Name
		if single {
			name = a.User + "@" + cmp.Or(a.Server, a.Provider)
		}
		r, err := accountStatus(a, log)
		if err != nil {
			errs = append(errs, fmt.Errorf("account %q: %w", name, trimAccount(err)))
			continue
		}
		reports[name] = r
		names = append(names, name)
	}
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(reports); err != nil {
			return err
		}
	} else {
		for _, name := range names {
			printStatus(stdout, name, reports[name])
		}
	}
	return errors.Join(errs...)
}

// accountStatus opens the account's cache, without a source (nothing is
// asked of the server), for its status.
func accountStatus(a account.Account, log *slog.Logger) (cache.StatusReport, error) {
	dir := a.CacheDir
	if dir == "" {
		// Only the address and the user name the default cache: no
		// secret is read (the token command is only stored).
		a.PasswordEnv, a.PasswordFile, a.PasswordCmd, a.OAuthTokenCmd = "", "", "", noLoginToken
		cfg, err := a.SourceConfig()
		if err != nil {
			return cache.StatusReport{}, err
		}
		if dir, err = defaultCacheDir(cfg, a, log); err != nil {
			return cache.StatusReport{}, err
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "meta.db")); err != nil {
		return cache.StatusReport{}, fmt.Errorf("no cache in %s (not synced or mounted yet?)", dir)
	}
	c, err := cache.Open(dir, nil, log)
	if err != nil {
		return cache.StatusReport{}, err
	}
	defer c.Close()
	return c.Status(), nil
}

func printStatus(w io.Writer, name string, r cache.StatusReport) {
	ago := func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.Local().Format("2006-01-02 15:04:05") + " (" + time.Since(*t).Round(time.Second).String() + " ago)"
	}
	fmt.Fprintf(w, "account %q: last complete sync %s\n", name, ago(r.LastSync))
	if r.LastError != "" {
		fmt.Fprintf(w, "  last error %s: %s\n", ago(r.LastErrorAt), r.LastError)
	}
	for _, f := range r.Folders {
		fmt.Fprintf(w, "  %s: %d on the server, %d cached (%s of %s), synced %s\n",
			f.Name, f.ServerMessages, f.CachedMessages, formatSize(f.CachedBytes), formatSize(f.ServerBytes), ago(f.LastSync))
		if f.LastError != "" {
			fmt.Fprintf(w, "    last error %s: %s\n", ago(f.LastErrorAt), f.LastError)
		}
	}
}
