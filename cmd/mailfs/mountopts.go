package main

// The mount conventions of sshfs and rclone mount: -o OPTION[,OPTION…]
// (ro, allow_other, uid=, gid=, umask=, and every flag of 'mailfs mount'
// by name), --allow-other, --uid, --gid, --umask, and the mount.fuse3
// helper form 'mailfs SOURCE MOUNTPOINT -o OPTIONS' that mount -t
// fuse.mailfs and /etc/fstab use.

import (
	"bufio"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"mailfs/cmd/mailfs/internal/account"
	"mailfs/fs"
)

// ownerFlags are the flags that become fs.Owner, and the -o options.
type ownerFlags struct {
	options    []string
	uid, gid   string
	umask      string
	allowOther bool
}

func (o *ownerFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVarP(&o.options, "options", "o", nil, "mount `OPTIONS`, comma-separated: ro, allow_other, uid=N, gid=N, umask=NNN, or any flag of this command as NAME[=VALUE]")
	fl.BoolVar(&o.allowOther, "allow-other", false, "let other users read the mount (needs user_allow_other in /etc/fuse.conf unless root)")
	fl.StringVar(&o.uid, "uid", "", "show every file as owned by user `ID` (a number or a name; default: yours)")
	fl.StringVar(&o.gid, "gid", "", "show every file as owned by group `ID` (a number or a name; default: yours)")
	fl.StringVar(&o.umask, "umask", "", "permission bits: directories 0777 and files 0666 less `UMASK` (octal, e.g. 022; default: directories 0555, files 0444)")
}

// resolve checks the values and returns the fs.Owner they describe.
func (o *ownerFlags) resolve() (fs.Owner, error) {
	var out fs.Owner
	out.AllowOther = o.allowOther
	if o.uid != "" {
		id, err := lookupID(o.uid, func(name string) (string, error) {
			u, err := user.Lookup(name)
			if err != nil {
				return "", err
			}
			return u.Uid, nil
		})
		if err != nil {
			return out, usagef("--uid %s: %v", o.uid, err)
		}
		out.UID = &id
	}
	if o.gid != "" {
		id, err := lookupID(o.gid, func(name string) (string, error) {
			g, err := user.LookupGroup(name)
			if err != nil {
				return "", err
			}
			return g.Gid, nil
		})
		if err != nil {
			return out, usagef("--gid %s: %v", o.gid, err)
		}
		out.GID = &id
	}
	if o.umask != "" {
		m, err := strconv.ParseUint(o.umask, 8, 32)
		if err != nil || m > 0o777 {
			return out, usagef("--umask %s: want an octal mask from 000 to 777, such as 022", o.umask)
		}
		u := uint32(m)
		out.Umask = &u
	}
	return out, nil
}

// lookupID reads a numeric ID, or looks a name up.
func lookupID(s string, lookup func(string) (string, error)) (uint32, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return uint32(n), nil
	}
	v, err := lookup(s)
	if err != nil {
		return 0, fmt.Errorf("no such user or group")
	}
	n, err := strconv.ParseUint(v, 10, 32)
	return uint32(n), err
}

// ignoredOptions are mount options that mount(8), mount.fuse3 and fstab
// pass to every FUSE file system and that mailfs has no use for.
var ignoredOptions = []string{"rw", "dev", "nodev", "suid", "nosuid", "exec", "noexec",
	"_netdev", "noauto", "auto", "user", "users", "nouser", "owner", "nofail", "defaults",
	"atime", "noatime", "relatime", "strictatime", "nodiratime", "async", "sync"}

// applyMountOptions sets the flags the -o options name: ro (the default),
// allow_other, uid=, gid=, umask=, and any flag of cmd as NAME[=VALUE]
// with _ or - between words. Options FUSE tools pass are ignored with a
// warning on stderr; anything else is a usage error.
func applyMountOptions(cmd *cobra.Command, options []string) error {
	for _, list := range options {
		for _, opt := range strings.Split(list, ",") {
			if opt == "" || opt == "ro" {
				continue
			}
			key, value, hasValue := strings.Cut(opt, "=")
			if slices.Contains(ignoredOptions, key) || strings.HasPrefix(key, "x-") {
				fmt.Fprintf(cmd.ErrOrStderr(), "mailfs: ignoring mount option %q (mailfs has no use for it)\n", opt)
				continue
			}
			name := strings.ReplaceAll(key, "_", "-")
			f := cmd.Flags().Lookup(name)
			if f == nil || name == "options" || name == "help" {
				msg := fmt.Sprintf("unknown mount option %q", key)
				var names []string
				cmd.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, strings.ReplaceAll(f.Name, "-", "_")) })
				if s := account.Suggest(key, names); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				return usageError{msg}
			}
			if !hasValue {
				if f.Value.Type() != "bool" {
					return usagef("mount option %s needs a value (%s=…)", key, key)
				}
				value = "true"
			}
			if err := cmd.Flags().Set(name, value); err != nil {
				return usagef("mount option %s: %v", opt, err)
			}
		}
	}
	return nil
}

// fuseConf is FUSE's configuration file, read for user_allow_other.
const fuseConf = "/etc/fuse.conf"

// checkAllowOther explains, before fusermount3 refuses, that allow_other
// needs user_allow_other in fuse.conf for a user other than root.
func checkAllowOther(euid int, conf string) error {
	if euid == 0 {
		return nil
	}
	if f, err := os.Open(conf); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "user_allow_other" {
				return nil
			}
		}
	}
	return fmt.Errorf("--allow-other (allow_other) needs the line user_allow_other in %s for users other than root: add it as root (echo user_allow_other | sudo tee -a %s), or mount as root", conf, conf)
}

// helperArgs recognises the form mount.fuse3 runs a FUSE file system
// with, 'mailfs SOURCE MOUNTPOINT [-o OPTIONS]…', and returns the
// 'mailfs mount --daemon …' command line it stands for. SOURCE is demo, a
// config file (a path with a /: all its accounts) or an account name of
// the config file. A first word that is a command, or close to one
// (a typo), is no SOURCE.
func helperArgs(root *cobra.Command, args []string) ([]string, bool) {
	var pos, opts []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" && i+1 < len(args):
			opts = append(opts, "-o", args[i+1])
			i++
		case strings.HasPrefix(a, "-o") && len(a) > 2:
			opts = append(opts, "-o", a[2:])
		case strings.HasPrefix(a, "-"):
			return nil, false
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) != 2 {
		return nil, false
	}
	if c, _, err := root.Find(pos[:1]); err != nil || c != root || account.Suggest(pos[0], commandNames(root)) != "" {
		return nil, false
	}
	if fi, err := os.Stat(pos[1]); err != nil || !fi.IsDir() {
		return nil, false
	}
	out := []string{"mount", "--daemon"}
	switch {
	case pos[0] == "demo":
		out = append(out, "--demo")
	case strings.Contains(pos[0], "/"):
		out = append(out, "--config", pos[0])
	default:
		out = append(out, "--account", pos[0])
	}
	return append(append(out, opts...), "--", pos[1]), true
}
