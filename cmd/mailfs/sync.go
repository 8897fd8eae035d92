package main

// mailfs sync: fill or refresh the cache of every chosen account without
// mounting, through cache.Fill, the same code the mount's reads go
// through. One account at a time, so that each gets its own progress
// line; an account that fails does not stop the others.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"mailfs/cache"
	"mailfs/cmd/mailfs/internal/account"
)

const syncLong = `Downloads every message of every account (or of --account NAME) that the
cache lacks, then exits. A later mount, or rsync over it, then reads from
disk. A second run only looks for changes and downloads what is new.
Nothing on the server changes.

The accounts are chosen as for 'mailfs mount': those of the config file
(default $XDG_CONFIG_HOME/mailfs/config.toml), or one from --server (or
--provider) and --user. An account that fails does not stop the others.
A cache in use by a running mount cannot be synced at the same time.

On a terminal, each account gets a progress line: folders, messages and
bytes done, the download rate and the time left. Otherwise (cron, a
pipe) progress is logged every 10% or 5 seconds, with a 'sync done' line
per account; --log-level warn leaves only the failures.

Ctrl-C (or SIGTERM) stops cleanly: what was downloaded stays, and the
next run goes on from there.

Exit status: 0 when every account was synced completely; 1 when anything
failed, with a summary naming each account, folder, message and reason,
or when the sync was interrupted; 2 for a mistake in the command line.`

const syncExamples = `  mailfs sync
  mailfs sync --config ~/.config/mailfs/config.toml --account work
  MAILFS_PASSWORD=secret mailfs sync --server imap.example.com --user me --cache ~/mailcache
  mailfs sync --log-level warn          (quiet unless something fails: for cron)
  mailfs sync --verify                  (also re-read the whole cache and repair it)

  a crontab line (crontab -e), every night at 03:17:
  17 3 * * * $HOME/go/bin/mailfs sync --log-level warn`

type syncFlags struct {
	batchFlags
	workers int
	verify  bool
}

func newSyncCmd() *cobra.Command {
	var f syncFlags
	cmd := &cobra.Command{
		Use:               "sync [flags]",
		Short:             "download every message into the cache, then exit",
		Long:              syncLong,
		Example:           syncExamples,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("sync takes no arguments, got %q (to mount, use 'mailfs mount')", args[0])
			}
			return syncCmd(c, &f)
		},
	}
	f.register(cmd, "", "log `LEVEL`: error, warn, info or debug (default info; warn on a terminal, where the progress line shows the rest)")
	fl := cmd.Flags()
	fl.IntVar(&f.workers, "workers", 0, "messages downloaded at once per account (default: the account's conns)")
	fl.BoolVar(&f.verify, "verify", false, "also check every cached message against the hash it was stored with, and download damaged ones again")
	cmd.RegisterFlagCompletionFunc("workers", cobra.NoFileCompletions)
	return cmd
}

// errInterrupted ends a sync stopped by a signal.
var errInterrupted = errors.New("interrupted; run mailfs sync again to resume")

func syncCmd(c *cobra.Command, f *syncFlags) error {
	if f.workers < 0 || f.workers > account.MaxConns {
		return usagef("--workers %d is out of range (1 to %d)", f.workers, account.MaxConns)
	}
	b, err := f.start(c)
	if err != nil {
		return err
	}
	defer b.stop()
	var results []syncResult
	for _, j := range b.jobs {
		results = append(results, syncAccount(b, j, f.workers, f.verify))
		if b.ctx.Err() != nil {
			break
		}
	}
	return syncSummary(results, len(results), b.ctx.Err() != nil)
}

// syncResult is how the sync of one account went.
type syncResult struct {
	name     string
	openErr  error // no login, no cache: nothing was synced
	fillErr  error // what cache.Fill returned (folders and messages that failed)
	progress cache.Progress
}

// syncAccount opens one account, fills its cache and closes it again.
func syncAccount(b *batch, j job, workers int, verify bool) syncResult {
	res := syncResult{name: j.name}
	b.out.status(j.name, "connecting…")
	o, err := b.open(j)
	if err != nil {
		if b.ctx.Err() != nil {
			b.out.interrupted(nil, j.name, b.log)
			return res
		}
		res.openErr = err
		b.out.failed(j.name, err, b.log)
		return res
	}
	defer o.close()
	pr, err := b.fill(o, j, workers, verify)
	res.fillErr, res.progress = err, pr.p
	return res
}

// folderCounter returns a function counting the messages of each
// selectable folder of c (-1 for one that cannot be listed). Called once
// Fill has synced them, it reads what is in memory.
func folderCounter(ctx context.Context, c *cache.Cache) func() map[string]int {
	return func() map[string]int {
		n := map[string]int{}
		for _, info := range c.Folders() {
			if info.NoSelect {
				continue
			}
			msgs, err := c.Messages(ctx, info.Name)
			if err != nil {
				n[info.Name] = -1
				continue
			}
			n[info.Name] = len(msgs)
		}
		return n
	}
}

// maxErrorsShown bounds the failures listed per account; a server gone
// mid-sync fails every message left.
const maxErrorsShown = 20

// syncSummary returns nil when every account synced completely, else an
// error listing what failed: the account, and for each failure the
// folder, the message and the reason.
func syncSummary(results []syncResult, total int, interrupted bool) error {
	var b strings.Builder
	failed := 0
	for _, r := range results {
		switch {
		case r.openErr != nil:
			failed++
			fmt.Fprintf(&b, "  account %q: %s\n", r.name, trimAccountPrefix(r.openErr.Error()))
		case r.fillErr != nil:
			failed++
			errs := flattenErrors(r.fillErr)
			what := []string{}
			if r.progress.Failed > 0 {
				what = append(what, fmt.Sprintf("%d of %s failed", r.progress.Failed, plural(r.progress.Messages, "message")))
			}
			if n := len(errs) - r.progress.Failed; n > 0 {
				what = append(what, plural(n, "folder error"))
			}
			fmt.Fprintf(&b, "  account %q: %s:\n", r.name, strings.Join(what, ", "))
			for i, err := range errs {
				if i == maxErrorsShown {
					fmt.Fprintf(&b, "    … and %d more\n", len(errs)-i)
					break
				}
				fmt.Fprintf(&b, "    %s\n", err)
			}
		}
	}
	var msg string
	if failed > 0 {
		msg = fmt.Sprintf("sync failed for %d of %s:\n%s", failed, plural(total, "account"), b.String())
	}
	if interrupted {
		msg += errInterrupted.Error()
	}
	if msg == "" {
		return nil
	}
	return errors.New(strings.TrimSuffix(msg, "\n"))
}

// flattenErrors lists the errors joined (errors.Join) in err.
func flattenErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flattenErrors(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// trimAccountPrefix drops the `account "NAME": ` that the config's errors
// start with; the summary names the account itself.
func trimAccountPrefix(s string) string {
	if rest, ok := strings.CutPrefix(s, "account "); ok && strings.HasPrefix(rest, `"`) {
		if i := strings.Index(rest, `": `); i > 0 {
			return rest[i+3:]
		}
	}
	return s
}
