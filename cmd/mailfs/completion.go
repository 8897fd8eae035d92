package main

// mailfs completion: shell completion scripts for bash, zsh and fish,
// written from the command table (cli.go), whose flags come from each
// command's own FlagSet. Flag values complete to files, directories or
// fixed words (TLS modes, log levels, provider presets, formats); the
// argument of umount to the mailfs mounts of /proc/self/mounts.

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"mailfs/imapsrc"
)

const completionUsage = `Usage: mailfs completion bash|zsh|fish

Prints a script that makes the shell complete mailfs's commands, their
flags and the flags' values (files, folders, TLS modes, log levels,
provider presets; for umount, the mailfs mounts).

Examples:
  source <(mailfs completion bash)                  (this bash only)
  mailfs completion bash > ~/.local/share/bash-completion/completions/mailfs
  mailfs completion zsh > ~/.zfunc/_mailfs          (with fpath=(~/.zfunc $fpath)
                                                    before compinit in ~/.zshrc)
  mailfs completion fish > ~/.config/fish/completions/mailfs.fish
`

func completionCmd(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("completion", flag.ContinueOnError)
	fl.Usage = func() { fmt.Fprint(fl.Output(), completionUsage) }
	pos, err := parseArgs(fl, args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one shell (%s), got %d arguments", strings.Join(shells, ", "), len(pos))
	}
	var script string
	switch pos[0] {
	case "bash":
		script = bashCompletion()
	case "zsh":
		script = zshCompletion()
	case "fish":
		script = fishCompletion()
	default:
		return usagef("no completion for %q (want %s)", pos[0], strings.Join(shells, ", "))
	}
	_, err = io.WriteString(stdout, script)
	return err
}

// argWords returns the fixed words a command's positional argument can
// be, or nil.
func argWords(c cliCommand) []string {
	switch c.args {
	case argProvider:
		return imapsrc.ProviderNames()
	case argShell:
		return shells
	case argSubcommand:
		return subcommands(c.path)
	}
	return nil
}

func flagWords(c cliCommand) []string {
	var out []string
	for _, f := range commandFlags(c.path) {
		out = append(out, "--"+f.name)
	}
	return append(out, "--help")
}

// ---- bash ----

func bashCompletion() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w(`# bash completion for mailfs, written by 'mailfs completion bash'.
# In this shell:   source <(mailfs completion bash)
# In every shell:  mailfs completion bash > ~/.local/share/bash-completion/completions/mailfs

_mailfs_words() { mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur"); }
_mailfs_files() { compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); }
_mailfs_dirs() { compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur"); }
_mailfs_mounts() {
    local _src dir type _rest mounts=()
    while read -r _src dir type _rest; do
        [[ $type == fuse.mailfs ]] && mounts+=("$(printf '%%b' "$dir")")
    done </proc/self/mounts
    mapfile -t COMPREPLY < <(compgen -W "${mounts[*]}" -- "$cur")
    ((${#COMPREPLY[@]})) || _mailfs_dirs
}

_mailfs() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev= flag=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    # bash splits --flag=value at the "=".
    if [[ $cur == = ]]; then
        flag=$prev cur=
    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
        flag=${COMP_WORDS[COMP_CWORD - 2]}
    elif [[ $prev == -* ]]; then
        flag=$prev
    fi
    flag=${flag#-}
    flag=${flag#-}
    local cmd= i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -*) ;;
        *)
            cmd=${COMP_WORDS[i]}
            break
            ;;
        esac
    done
    if [[ $cmd == accounts && ${COMP_WORDS[i + 1]} == import ]] && ((i + 1 < COMP_CWORD)); then
        cmd="accounts import"
    fi
    COMPREPLY=()
    case $cmd in
    "")
        _mailfs_words %q
        ;;
`, strings.Join(append(topCommands(), "--help", "--version"), " "))
	for _, c := range commands {
		flags := commandFlags(c.path)
		w("    %q)\n", c.path)
		var files, dirs, free []string
		words := map[string][]string{}
		for _, f := range flags {
			switch {
			case f.value == "":
			case flagTakesFile(f):
				files = append(files, f.name)
			case flagTakesDir(f):
				dirs = append(dirs, f.name)
			case flagValues(f) != nil:
				words[f.name] = flagValues(f)
			default:
				free = append(free, f.name)
			}
		}
		if len(flags) > 0 {
			w("        case $flag in\n")
			if len(files) > 0 {
				w("        %s) _mailfs_files; return ;;\n", strings.Join(files, " | "))
			}
			if len(dirs) > 0 {
				w("        %s) _mailfs_dirs; return ;;\n", strings.Join(dirs, " | "))
			}
			for _, f := range flags {
				if v, ok := words[f.name]; ok {
					w("        %s) _mailfs_words %q; return ;;\n", f.name, strings.Join(v, " "))
				}
			}
			if len(free) > 0 {
				w("        %s) return ;;\n", strings.Join(free, " | "))
			}
			w("        esac\n")
		}
		w("        if [[ $cur == -* ]]; then\n")
		w("            _mailfs_words %q\n", strings.Join(flagWords(c), " "))
		switch c.args {
		case argDir:
			w("        else\n            _mailfs_dirs\n")
		case argFile:
			w("        else\n            _mailfs_files\n")
		case argMountpoint:
			w("        else\n            _mailfs_mounts\n")
		default:
			if words := argWords(c); words != nil {
				w("        elif [[ $prev == %s ]]; then\n            _mailfs_words %q\n", lastWord(c.path), strings.Join(words, " "))
			}
		}
		w("        fi\n        ;;\n")
	}
	w(`    esac
}

complete -F _mailfs mailfs
`)
	return b.String()
}

func lastWord(path string) string {
	f := strings.Fields(path)
	return f[len(f)-1]
}

// ---- zsh ----

func zshCompletion() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w(`#compdef mailfs
# zsh completion for mailfs, written by 'mailfs completion zsh'.
# In every shell: mailfs completion zsh > ~/.zfunc/_mailfs, with
#   fpath=(~/.zfunc $fpath) before compinit in ~/.zshrc
# In this shell (after compinit): source <(mailfs completion zsh)

_mailfs_mounts() {
  local line
  local -a mounts fields
  for line in ${(f)"$(</proc/self/mounts)"}; do
    fields=(${=line})
    [[ $fields[3] == fuse.mailfs ]] && mounts+=("${(g::)fields[2]}")
  done
  if (( $#mounts )); then
    _describe -t mounts 'mailfs mount' mounts
  else
    _files -/
  fi
}

`)
	for _, c := range commands {
		w("_mailfs_%s() {\n", zshName(c.path))
		var specs []string
		for _, f := range commandFlags(c.path) {
			desc := zshQuote(shortUsage(f.usage))
			switch {
			case f.value == "":
				specs = append(specs, fmt.Sprintf("'--%s[%s]'", f.name, desc))
			default:
				action := " "
				switch {
				case flagTakesFile(f):
					action = "_files"
				case flagTakesDir(f):
					action = "_files -/"
				case flagValues(f) != nil:
					action = "(" + strings.Join(flagValues(f), " ") + ")"
				}
				specs = append(specs, fmt.Sprintf("'--%s=[%s]:%s:%s'", f.name, desc, f.name, action))
			}
		}
		specs = append(specs, "'(- *)--help[show the help]'")
		switch c.args {
		case argDir:
			specs = append(specs, "':mountpoint:_files -/'")
		case argFile:
			specs = append(specs, "':file:_files'")
		case argMountpoint:
			specs = append(specs, "':mountpoint:_mailfs_mounts'")
		case argProvider, argShell:
			specs = append(specs, fmt.Sprintf("':%s:(%s)'", strings.ReplaceAll(c.args.String(), " ", "_"), strings.Join(argWords(c), " ")))
		case argSubcommand:
			if c.path == "help" {
				specs = append(specs, fmt.Sprintf("':command:(%s)'", strings.Join(argWords(c), " ")))
			}
		}
		if c.args == argSubcommand && c.path != "help" {
			w("  if (( CURRENT == 2 )); then\n")
			w("    local -a subs\n    subs=(\n")
			for _, s := range subcommands(c.path) {
				sc, _ := findCommand(c.path + " " + s)
				w("      '%s:%s'\n", s, zshQuote(sc.summary))
			}
			w("    )\n    _describe -t commands 'mailfs %s command' subs\n", c.path)
			w("    return\n  fi\n")
			w("  local sub=$words[2]\n  shift words\n  (( CURRENT-- ))\n")
			w("  curcontext=\"${curcontext%%:*}-$sub:\"\n")
			w("  case $sub in\n")
			for _, s := range subcommands(c.path) {
				w("  %s) _mailfs_%s ;;\n", s, zshName(c.path+" "+s))
			}
			w("  esac\n}\n\n")
			continue
		}
		w("  _arguments -s -S \\\n    %s\n}\n\n", strings.Join(specs, " \\\n    "))
	}
	w(`_mailfs() {
  local curcontext="$curcontext" state line
  typeset -A opt_args
  _arguments -C \
    '(- *)--help[show the help]' \
    '(- *)--version[print the version]' \
    '1:command:->command' \
    '*::argument:->argument'
  case $state in
  command)
    local -a cmds
    cmds=(
`)
	for _, c := range commands {
		if !strings.Contains(c.path, " ") {
			w("      '%s:%s'\n", c.path, zshQuote(c.summary))
		}
	}
	w(`    )
    _describe -t commands 'mailfs command' cmds
    ;;
  argument)
    curcontext="${curcontext%%:*}-$words[1]:"
    case $words[1] in
`)
	for _, c := range commands {
		if !strings.Contains(c.path, " ") {
			w("    %s) _mailfs_%s ;;\n", c.path, zshName(c.path))
		}
	}
	w(`    esac
    ;;
  esac
}

if [[ $funcstack[1] == _mailfs ]]; then
  _mailfs "$@"   # autoloaded from $fpath
else
  compdef _mailfs mailfs
fi
`)
	return b.String()
}

func zshName(path string) string { return strings.ReplaceAll(path, " ", "_") }

// shortUsage is a flag's usage without a closing parenthesised remark,
// for menus.
func shortUsage(s string) string {
	if strings.HasSuffix(s, ")") {
		if i := strings.LastIndex(s, " ("); i > 0 {
			return s[:i]
		}
	}
	return s
}

// zshQuote makes s safe inside a single-quoted _arguments description.
func zshQuote(s string) string {
	return strings.NewReplacer(`'`, `'\''`, `[`, `\[`, `]`, `\]`, `:`, `\:`).Replace(s)
}

func (k argKind) String() string {
	switch k {
	case argProvider:
		return "provider"
	case argShell:
		return "shell"
	}
	return "argument"
}

// findCommand returns the command at path.
func findCommand(path string) (cliCommand, bool) {
	i := slices.IndexFunc(commands, func(c cliCommand) bool { return c.path == path })
	if i < 0 {
		return cliCommand{}, false
	}
	return commands[i], true
}

// ---- fish ----

func fishCompletion() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w(`# fish completion for mailfs, written by 'mailfs completion fish'.
# In every shell: mailfs completion fish > ~/.config/fish/completions/mailfs.fish
# In this shell:  mailfs completion fish | source

function __mailfs_mounts
    while read -l _src dir type _rest
        test "$type" = fuse.mailfs; and printf '%%b\n' $dir
    end </proc/self/mounts
end

complete -c mailfs -f
complete -c mailfs -n __fish_use_subcommand -l help -d 'show the help'
complete -c mailfs -n __fish_use_subcommand -l version -d 'print the version'
`)
	for _, c := range commands {
		if !strings.Contains(c.path, " ") {
			w("complete -c mailfs -n __fish_use_subcommand -a %s -d %s\n", c.path, fishQuote(c.summary))
		}
	}
	for _, c := range commands {
		cond := "__fish_seen_subcommand_from " + lastWord(c.path)
		if c.args == argSubcommand && c.path != "help" {
			subs := subcommands(c.path)
			cond += "; and not __fish_seen_subcommand_from " + strings.Join(subs, " ")
			for _, s := range subs {
				sc, _ := findCommand(c.path + " " + s)
				w("complete -c mailfs -n %s -a %s -d %s\n", fishQuote(cond), s, fishQuote(sc.summary))
			}
		}
		w("\n# mailfs %s\n", c.path)
		for _, f := range append(commandFlags(c.path), cliFlag{name: "help", usage: "show the help"}) {
			opts := ""
			switch {
			case f.value == "":
			case flagTakesFile(f):
				opts = " -r -F"
			case flagTakesDir(f):
				opts = " -x -a '(__fish_complete_directories (commandline -ct))'"
			case flagValues(f) != nil:
				opts = " -x -a " + fishQuote(strings.Join(flagValues(f), " "))
			default:
				opts = " -x"
			}
			w("complete -c mailfs -n %s -l %s%s -d %s\n", fishQuote(cond), f.name, opts, fishQuote(shortUsage(f.usage)))
		}
		switch c.args {
		case argDir:
			w("complete -c mailfs -n %s -a '(__fish_complete_directories (commandline -ct))'\n", fishQuote(cond))
		case argFile:
			w("complete -c mailfs -n %s -F\n", fishQuote(cond))
		case argMountpoint:
			w("complete -c mailfs -n %s -a '(__mailfs_mounts)'\n", fishQuote(cond))
		case argProvider, argShell:
			w("complete -c mailfs -n %s -a %s\n", fishQuote(cond), fishQuote(strings.Join(argWords(c), " ")))
		case argSubcommand:
			if c.path == "help" {
				w("complete -c mailfs -n %s -a %s\n", fishQuote(cond), fishQuote(strings.Join(argWords(c), " ")))
			}
		}
	}
	return b.String()
}

// fishQuote quotes s for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
