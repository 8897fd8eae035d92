package main

// mailfs verify: compare each chosen account's cache with its server
// (cache.Check) and report every difference; nothing changes on either
// side.

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"mailfs/cache"
)

const verifyLong = `Compares the cache of every account (or of --account NAME) with the
server, and reports each difference; nothing changes on either side.

For each folder: the messages the cache lists against those on the
server, and their sizes; every cached message against the hash it was
stored with (a file damaged on disk is found whatever the sample); and
the bytes of a sample of cached messages (--sample, per folder; --all
for every one), downloaded again and compared with the cached copy.
Messages not downloaded yet are no difference: a mount fetches them when
read, 'mailfs sync' fetches them all. The folder list is brought in step
with the server when the cache is opened, as for 'mailfs sync'.

Each folder gets a line on stdout with its counts, each difference a line
naming the file (FOLDER/NAME.eml). 'mailfs sync --verify' repairs what
is damaged in the cache. A cache in use by a running mount cannot be
verified at the same time.

Exit status: 0 when the cache agrees with the server; 1 when anything
differs or could not be compared; 2 for a mistake in the command line.`

const verifyExamples = `  mailfs verify
  mailfs verify --config ~/.config/mailfs/config.toml --account work --all
  MAILFS_PASSWORD=secret mailfs verify --server imap.example.com --user me --cache ~/mailcache`

type verifyFlags struct {
	batchFlags
	all    bool
	sample int
}

func newVerifyCmd() *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:               "verify [flags]",
		Short:             "compare the cache with the server and report differences",
		Long:              verifyLong,
		Example:           verifyExamples,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE:              func(c *cobra.Command, args []string) error { return verifyCmd(c, &f) },
	}
	f.register(cmd, "warn", "log `LEVEL`: error, warn, info or debug")
	fl := cmd.Flags()
	fl.BoolVar(&f.all, "all", false, "download every cached message and compare its bytes (default: a sample)")
	fl.IntVar(&f.sample, "sample", 10, "cached messages per folder downloaded and compared, `N` chosen at random")
	cmd.RegisterFlagCompletionFunc("sample", cobra.NoFileCompletions)
	return cmd
}

func verifyCmd(c *cobra.Command, f *verifyFlags) error {
	if f.sample < 0 {
		return usagef("--sample %d is negative", f.sample)
	}
	b, err := f.start(c)
	if err != nil {
		return err
	}
	defer b.stop()
	sample := f.sample
	if f.all {
		sample = -1
	}
	var errs []error
	diffs := 0
	for _, j := range b.jobs {
		n, err := verifyAccount(b, j, sample, c.OutOrStdout())
		diffs += n
		if err != nil {
			errs = append(errs, fmt.Errorf("account %q: %w", j.name, trimAccount(err)))
		}
		if b.ctx.Err() != nil {
			return errors.New("interrupted")
		}
	}
	if diffs > 0 {
		errs = append(errs, fmt.Errorf("the cache differs from the server: %s", plural(diffs, "difference")))
	}
	return errors.Join(errs...)
}

// trimAccount drops the account prefix of an error that has one.
func trimAccount(err error) error { return errors.New(trimAccountPrefix(err.Error())) }

// verifyAccount checks one account's cache, printing a line per folder
// and per difference to w; it returns how many differences it found.
func verifyAccount(b *batch, j job, sample int, w io.Writer) (int, error) {
	o, err := b.open(j)
	if err != nil {
		return 0, err
	}
	defer o.close()
	fmt.Fprintf(w, "account %q:\n", j.name)
	n := 0
	byFolder := map[string][]string{}
	fcs, err := o.cache.Check(b.ctx, sample, func(d cache.Difference) {
		n++
		where := d.Folder
		if d.Name != "" {
			where += "/" + d.Name
		}
		byFolder[d.Folder] = append(byFolder[d.Folder], fmt.Sprintf("    DIFFERS %s: %s\n", where, d.What))
	})
	for _, fc := range fcs {
		verdict := "ok"
		if fc.Differences > 0 {
			verdict = plural(fc.Differences, "difference")
		}
		fmt.Fprintf(w, "  %s: %d on the server, %d in the cache, %d downloaded, %d compared: %s\n",
			fc.Folder, fc.Server, fc.Cached, fc.Bodies, fc.Compared, verdict)
		for _, line := range byFolder[fc.Folder] {
			io.WriteString(w, line)
		}
	}
	return n, err
}
