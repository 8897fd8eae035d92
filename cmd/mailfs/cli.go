package main

// The command table: what commands mailfs has and, for each, the flags it
// takes. Shell completion and the one-line flag errors of run are built
// from it. A command's flags are read from its own --help output (the
// real FlagSet's PrintDefaults), so they cannot drift from what the
// command accepts.

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"

	"mailfs/imapsrc"
)

// cliCommand is one command of mailfs.
type cliCommand struct {
	path    string // the words that name it: "mount", "accounts import"
	summary string // one line, for completion menus
	args    argKind
}

// argKind is what a command's positional arguments are, for completion.
type argKind int

const (
	argNone       argKind = iota
	argDir                // a directory (a mountpoint to be)
	argMountpoint         // a mailfs mount
	argFile               // any file
	argProvider           // a provider preset name
	argShell              // bash, zsh or fish
	argSubcommand         // one of the command's subcommands
)

// commands lists every command, in the order of the usage text.
var commands = []cliCommand{
	{"mount", "serve mail at a directory until unmounted", argDir},
	{"sync", "download every message into the cache, then exit", argNone},
	{"umount", "unmount a mailfs mount", argMountpoint},
	{"accounts", "manage the accounts of the config file", argSubcommand},
	{"accounts import", "add accounts from a CSV file to the config file", argFile},
	{"providers", "list the provider presets", argProvider},
	{"completion", "print a shell completion script", argShell},
	{"version", "print the version", argNone},
	{"help", "show the help of mailfs or of a command", argSubcommand},
}

// shells are the shells 'mailfs completion' writes scripts for.
var shells = []string{"bash", "zsh", "fish"}

// topCommands returns the names of the commands that follow "mailfs".
func topCommands() []string {
	var out []string
	for _, c := range commands {
		if !strings.Contains(c.path, " ") {
			out = append(out, c.path)
		}
	}
	return out
}

// subcommands returns the names of the subcommands of the command path.
func subcommands(path string) []string {
	if path == "help" {
		return slices.DeleteFunc(topCommands(), func(s string) bool { return s == "help" })
	}
	var out []string
	for _, c := range commands {
		if rest, ok := strings.CutPrefix(c.path, path+" "); ok && !strings.Contains(rest, " ") {
			out = append(out, rest)
		}
	}
	return out
}

// cliFlag is one flag of a command, as its --help shows it.
type cliFlag struct {
	name  string // without dashes
	value string // the value's placeholder (FILE, DIR, int); "" for a boolean flag
	usage string // the first line of its description
}

var (
	flagsMu    sync.Mutex
	flagsCache = map[string][]cliFlag{}
)

// commandFlags returns the flags of the command path, read from the output
// of 'mailfs PATH --help'. Commands with subcommands (accounts, help) and
// version have none.
func commandFlags(path string) []cliFlag {
	flagsMu.Lock()
	defer flagsMu.Unlock()
	if fs, ok := flagsCache[path]; ok {
		return fs
	}
	var fs []cliFlag
	if c, ok := findCommand(path); ok && c.args != argSubcommand && path != "version" {
		var out bytes.Buffer
		run(append(strings.Fields(path), "--help"), &out, &out)
		fs = parseDefaults(out.String())
	}
	flagsCache[path] = fs
	return fs
}

// parseDefaults reads the flags from the output of flag.PrintDefaults:
//
//	-name PLACEHOLDER
//	  	usage
//	-bool
//	  	usage
//
// after a line "Flags:", as every command's usage text ends.
func parseDefaults(help string) []cliFlag {
	var fs []cliFlag
	sc := bufio.NewScanner(strings.NewReader(help))
	inFlags := false
	for sc.Scan() {
		line := sc.Text()
		if line == "Flags:" {
			inFlags = true
			continue
		}
		if !inFlags {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "    \t"); ok && len(fs) > 0 && fs[len(fs)-1].usage == "" {
			fs[len(fs)-1].usage = strings.TrimSpace(rest)
			continue
		}
		rest, ok := strings.CutPrefix(line, "  -")
		if !ok || rest == "" || rest[0] == ' ' || rest[0] == '-' {
			continue
		}
		head, inline, _ := strings.Cut(rest, "\t") // one-letter flags keep their usage on the line
		name, value, _ := strings.Cut(head, " ")
		fs = append(fs, cliFlag{name: name, value: value, usage: strings.TrimSpace(inline)})
	}
	return fs
}

// flagValues returns the words a flag's value can be, or nil when any
// value goes (or it names a file).
func flagValues(f cliFlag) []string {
	switch f.name {
	case "tls":
		return []string{string(imapsrc.TLSImplicit), string(imapsrc.TLSStartTLS), string(imapsrc.TLSNone)}
	case "log-level":
		return logLevels
	case "provider":
		return imapsrc.ProviderNames()
	case "formats":
		return knownFormats
	case "auth":
		return []string{imapsrc.AuthPassword, imapsrc.AuthXOAuth2, imapsrc.AuthOAuthBearer}
	}
	return nil
}

// flagTakesFile and flagTakesDir say whether a flag's value is a path.
func flagTakesFile(f cliFlag) bool { return f.value == "FILE" }
func flagTakesDir(f cliFlag) bool  { return f.value == "DIR" }

// checkFlags reports the first unknown flag in args, or a flag missing its
// value, as a usage error of one line. The command's own parser still
// parses args; this only keeps a typo from printing the whole usage text.
func checkFlags(path string, args []string) error {
	flags := commandFlags(path)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return nil
		}
		if len(a) < 2 || a[0] != '-' || strings.HasPrefix(a, "---") {
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			return nil
		}
		k := slices.IndexFunc(flags, func(f cliFlag) bool { return f.name == name })
		if k < 0 {
			msg := fmt.Sprintf("unknown flag %s", a)
			var names []string
			for _, f := range flags {
				names = append(names, f.name)
			}
			if s := suggest(name, names); s != "" {
				msg += fmt.Sprintf(" (did you mean --%s?)", s)
			}
			if len(flags) == 0 {
				msg += fmt.Sprintf(" ('mailfs %s' has no flags)", path)
			}
			return usageError{msg}
		}
		if f := flags[k]; f.value != "" && !hasValue {
			if i+1 >= len(args) {
				return usagef("flag --%s needs a value (%s)", f.name, f.value)
			}
			i++
		}
	}
	return nil
}
