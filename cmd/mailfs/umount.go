package main

// mailfs umount: unmount a mailfs mount with the system's FUSE helper,
// after checking that the directory really is one, so that a mistyped
// path never unmounts anything else.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"mailfs/fs/mountinfo"

	"github.com/spf13/cobra"
)

const umountLong = `Unmounts the mailfs mount at MOUNTPOINT; the 'mailfs mount' serving it
then exits with status 0. Runs fusermount3 -u (else fusermount -u; as
root without either, umount). A mount whose mailfs died ("transport
endpoint is not connected") is unmounted the same way.

Fails, changing nothing, when MOUNTPOINT is not a mailfs mount, and when
files in it are still open (a shell whose current directory is inside
counts): close them, or use --lazy to detach the mount now and let it
go when the last file is closed.`

func newUmountCmd() *cobra.Command {
	var lazy bool
	cmd := &cobra.Command{
		Use:   "umount [--lazy] MOUNTPOINT",
		Short: "unmount a mailfs mount",
		Long:  umountLong,
		Example: `  mailfs umount ~/mail
  mailfs umount --lazy ~/mail`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeMounts,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want exactly one MOUNTPOINT, got %d arguments", len(args))
			}
			return unmount(args[0], lazy)
		},
	}
	cmd.Flags().BoolVar(&lazy, "lazy", false, "detach the mount now, even with files open; it goes when they are closed")
	return cmd
}

// unmount unmounts the mailfs mount at dir.
func unmount(dir string, lazy bool) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	// Resolve symlinks in the parent only: the mountpoint itself may be
	// a dead mount that cannot be looked at.
	if parent, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(parent, filepath.Base(abs))
	}
	mounts, err := mountinfo.Read()
	if err != nil {
		return err
	}
	var m *mountinfo.Entry
	for i := range mounts {
		if mounts[i].Dir == abs {
			m = &mounts[i] // the last one is on top
		}
	}
	if m == nil {
		return fmt.Errorf("%s is not mounted", abs)
	}
	if m.FSType != "fuse.mailfs" && m.Source != "mailfs" {
		return fmt.Errorf("%s is not a mailfs mount (it is %s from %s); use umount(8) for it", abs, m.FSType, m.Source)
	}
	cmd, err := unmountCommand(abs, lazy)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if msg == "" {
			msg = err.Error()
		}
		if strings.Contains(msg, "busy") {
			msg += "; close the files open in it (see: fuser -vm " + abs + "), or use --lazy"
		}
		return fmt.Errorf("umount %s: %s", abs, msg)
	}
	return nil
}

// unmountCommand returns the command that unmounts dir: fusermount3,
// fusermount, or (as root) umount.
func unmountCommand(dir string, lazy bool) (*exec.Cmd, error) {
	for _, name := range []string{"fusermount3", "fusermount"} {
		if path, err := exec.LookPath(name); err == nil {
			args := []string{"-u"}
			if lazy {
				args = append(args, "-z")
			}
			return exec.Command(path, append(args, "--", dir)...), nil
		}
	}
	if os.Geteuid() == 0 {
		if path, err := exec.LookPath("umount"); err == nil {
			args := []string{}
			if lazy {
				args = append(args, "-l")
			}
			return exec.Command(path, append(args, "--", dir)...), nil
		}
	}
	return nil, errors.New("neither fusermount3 nor fusermount found: install fuse3")
}
