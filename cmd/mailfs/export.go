package main

// mailfs export: write an account's mail as files of a format made for a
// whole mailbox, from the cache (downloading what it lacks first, as
// mailfs sync does). --format mbox writes one mboxrd file per folder, the
// bytes a mount shows as the folder's .FOLDER.mbox (cache.Mbox).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"mailfs/cache"
	"mailfs/cache/atomicfile"
)

const exportLong = `Writes the mail of one account (of --server and --user, or of the config
file: one account, or --account NAME) into files, from the cache. It first
downloads what the cache lacks, with the progress of 'mailfs sync'.

--format mbox writes one mboxrd file per folder under --output DIR, with
the folder hierarchy as directories: DIR/INBOX.mbox, DIR/Archiv/2023.mbox.
Each file holds the same bytes as the folder's .FOLDER.mbox in a mount
(see the README): mutt, Thunderbird (ImportExportTools NG), Apple Mail and
Python's mailbox read it. A file is written beside its final name and
renamed when complete, so an interrupted export leaves no partial file.

Nothing on the server changes.`

const exportExamples = `  mailfs export --format mbox --output ~/mbox-backup
  mailfs export --format mbox --output ~/mbox-backup --config ~/.config/mailfs/config.toml --account work`

type exportFlags struct {
	batchFlags
	format, output string
}

func newExportCmd() *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:               "export --format mbox --output DIR [flags]",
		Short:             "write an account's mail as one mbox file per folder",
		Long:              exportLong,
		Example:           exportExamples,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE:              func(c *cobra.Command, args []string) error { return exportCmd(c, &f) },
	}
	f.register(cmd, "", "log `LEVEL`: error, warn, info or debug (default info; warn on a terminal)")
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "", "`FORMAT` to write: mbox")
	fl.StringVar(&f.output, "output", "", "`DIR` to write into (created when missing)")
	cmd.MarkFlagDirname("output")
	cmd.RegisterFlagCompletionFunc("format", fixedWords([]string{"mbox"}))
	return cmd
}

func exportCmd(c *cobra.Command, f *exportFlags) error {
	switch {
	case f.format == "":
		return usagef("--format is required: mbox")
	case f.format != "mbox":
		return usagef("--format %q: want mbox", f.format)
	case f.output == "":
		return usagef("--output DIR is required")
	}
	b, err := f.start(c)
	if err != nil {
		return err
	}
	defer b.stop()
	if n := len(b.jobs); n != 1 {
		return usagef("export writes one account, the config has %d: choose one with --account NAME", n)
	}
	j := b.jobs[0]
	b.out.status(j.name, "connecting…")
	o, err := b.open(j)
	if err != nil {
		return err
	}
	defer o.close()
	pr, fillErr := b.fill(o, j, 0, false)
	if b.ctx.Err() != nil {
		return errors.New("interrupted; nothing half written is left")
	}
	if fillErr != nil {
		return syncSummary([]syncResult{{name: j.name, fillErr: fillErr, progress: pr.p}}, 1, false)
	}
	return exportMbox(b.ctx, o.cache, f.output, b.log)
}

// exportMbox writes the mbox of every selectable folder of c under dir.
func exportMbox(ctx context.Context, c *cache.Cache, dir string, log *slog.Logger) error {
	start := time.Now()
	var total int64
	n := 0
	for _, info := range c.Folders() {
		if info.NoSelect {
			continue
		}
		path := filepath.Join(dir, mboxPath(info)+".mbox")
		m, err := c.Mbox(ctx, info.Name)
		if err != nil {
			return fmt.Errorf("mbox of %q: %w", info.Name, err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		err = atomicfile.Write(path, func(f *os.File) error {
			r := m.NewReader()
			defer r.Close()
			_, err := io.Copy(f, io.NewSectionReader(ctxReaderAt{ctx, r}, 0, m.Size()))
			return err
		})
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		log.Info("exported", "folder", info.Name, "file", path, "bytes", m.Size())
		total += m.Size()
		n++
	}
	log.Info("export done", "folders", n, "bytes", total, "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

// mboxPath is where a folder's mbox goes under the output directory,
// without the extension: its hierarchy as directories, each level named
// as a mount names it.
func mboxPath(info cache.FolderInfo) string {
	parts := []string{info.Name}
	if info.Delim != 0 {
		parts = strings.Split(info.Name, string(info.Delim))
	}
	for i, p := range parts {
		parts[i] = cache.FolderComponent(p)
	}
	return filepath.Join(parts...)
}

// ctxReaderAt is an MboxReader as an io.ReaderAt.
type ctxReaderAt struct {
	ctx context.Context
	r   *cache.MboxReader
}

func (c ctxReaderAt) ReadAt(p []byte, off int64) (int, error) { return c.r.ReadAt(c.ctx, p, off) }
