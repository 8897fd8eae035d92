package main

// The commands that go through the chosen accounts one at a time without
// mounting (sync, verify and export) share their setup, here: the account
// flags and --log-level, the accounts resolved, the log (above the
// progress line on a terminal), Ctrl-C, each account opened so that an
// interrupt ends its downloads, and the download of what a cache lacks
// (cache.Fill) with its progress shown.

import (
	"cmp"
	"context"
	"log/slog"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"mailfs/cache"
	"mailfs/cmd/mailfs/internal/account"
)

// batchFlags are the flags of sync, verify and export.
type batchFlags struct {
	accountFlags
	logLevel string
}

// register adds the account flags and --log-level, whose default is
// level; "" is info, or warn on a terminal (where the progress line
// shows the rest).
func (f *batchFlags) register(cmd *cobra.Command, level, usage string) {
	f.accountFlags.register(cmd)
	cmd.Flags().StringVar(&f.logLevel, "log-level", level, usage)
	cmd.RegisterFlagCompletionFunc("log-level", fixedWords(account.LogLevels))
}

// batch is one run of such a command.
type batch struct {
	f    *batchFlags
	ctx  context.Context // ends at Ctrl-C or SIGTERM
	stop func()          // call when done
	out  *syncOutput     // progress, on stderr
	log  *slog.Logger
	jobs []job // the accounts, in order
}

// job is one account of a batch.
type job struct {
	name   string            // as the output names it
	acct   []account.Account // nil: the demo
	single bool              // from the command line, or the demo
	conns  int
}

// start checks the flags and resolves the accounts. The log level is
// --log-level when given, else the config file's, else the flag's
// default.
func (f *batchFlags) start(c *cobra.Command) (*batch, error) {
	if err := f.checkConns(c); err != nil {
		return nil, err
	}
	stderr := c.ErrOrStderr()
	accts, cfg, single, err := f.resolve(stderr)
	if err != nil {
		return nil, err
	}
	out := newSyncOutput(stderr)
	if !c.Flags().Changed("log-level") && cfg != nil && cfg.LogLevel != "" {
		f.logLevel = cfg.LogLevel
	}
	if f.logLevel == "" {
		f.logLevel = "info"
		if out.tty {
			f.logLevel = "warn"
		}
	}
	log, err := newLogger(out.logWriter(), f.logLevel)
	if err != nil {
		return nil, err
	}
	var jobs []job
	if f.demo {
		jobs = append(jobs, job{name: "demo", single: true, conns: account.DefaultConns})
	}
	for _, a := range accts {
		name := a.Name
		if single {
			name = a.User + "@" + cmp.Or(a.Server, a.Provider)
		}
		jobs = append(jobs, job{name: name, acct: []account.Account{a}, single: single, conns: a.Conns})
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second Ctrl-C kills at once
	return &batch{f: f, ctx: ctx, stop: stop, out: out, log: log, jobs: jobs}, nil
}

// open logs in to the account of j and opens its cache. Until o.close,
// an interrupt closes the cache: that also ends a download in flight,
// which runs on the cache's own context (cache.Fill only stops handing
// out batches when its context ends). Bodies already complete stay; a
// partial one is dropped.
func (b *batch) open(j job) (*opened, error) {
	all, err := openAccounts(b.ctx, b.f.accountFlags, j.acct, j.single, true, b.log)
	if err != nil {
		return nil, err
	}
	o := all[0]
	stopAbort := context.AfterFunc(b.ctx, func() { o.cache.Close() })
	closeAll := o.close
	o.close = func() {
		stopAbort()
		closeAll()
	}
	return o, nil
}

// fill downloads what the cache of j lacks (cache.Fill; verify: also
// checks what it holds), showing the progress. When interrupted it says
// so and returns no error: the caller tells by b.ctx.
func (b *batch) fill(o *opened, j job, workers int, verify bool) (*progress, error) {
	workers = cmp.Or(workers, j.conns, account.DefaultConns)
	b.log.Debug("fill", "account", j.name, "cache", o.dir, "workers", workers)
	b.out.status(j.name, "looking for changes…")
	pr := newProgress(j.name, folderCounter(b.ctx, o.cache), time.Now())
	err := o.cache.Fill(b.ctx, workers, verify, func(p cache.Progress) {
		if b.ctx.Err() != nil {
			return // Fill counts the messages it gives up on as done
		}
		pr.update(p, time.Now())
		b.out.progress(pr, b.log)
	})
	if b.ctx.Err() != nil {
		b.out.interrupted(pr, j.name, b.log)
		return pr, nil
	}
	b.out.done(pr, err, b.log)
	return pr, err
}
