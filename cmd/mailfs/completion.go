package main

// mailfs completion: the shell completion scripts are cobra's, for bash,
// zsh, fish and PowerShell. They ask the binary itself for candidates
// ('mailfs __complete ARGS…'), so the values below come from Go: provider
// presets, the account names of the config file, the mailfs mounts of
// the mount table, formats, TLS modes and log levels.

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"mailfs/cmd/mailfs/internal/account"
	"mailfs/fs/mountinfo"
	"mailfs/imapsrc"
)

// shells are the shells 'mailfs completion' writes scripts for.
var shells = []string{"bash", "zsh", "fish", "powershell"}

const completionLong = `Prints a script that makes the shell complete mailfs's commands, their
flags and the flags' values: files and folders where a flag takes one,
TLS modes, log levels, formats, provider presets, the account names of
the config file, and for umount the mailfs mounts. The values are asked
from mailfs itself at each TAB, so they are never out of date.`

const completionExamples = `  source <(mailfs completion bash)                  (this bash only)
  mailfs completion bash > ~/.local/share/bash-completion/completions/mailfs
  mailfs completion zsh > ~/.zfunc/_mailfs          (with fpath=(~/.zfunc $fpath)
                                                    before compinit in ~/.zshrc)
  mailfs completion fish > ~/.config/fish/completions/mailfs.fish
  mailfs completion powershell >> $PROFILE`

func newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:               "completion " + strings.Join(shells, "|"),
		Short:             "print a shell completion script",
		Long:              completionLong,
		Example:           completionExamples,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: fixedWords(shells),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one shell (%s), got %d arguments", strings.Join(shells, ", "), len(args))
			}
			root, w := c.Root(), c.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(w, true)
			case "zsh":
				return root.GenZshCompletion(w)
			case "fish":
				return root.GenFishCompletion(w, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(w)
			}
			return usagef("no completion for %q (want %s)", args[0], strings.Join(shells, ", "))
		},
	}
}

type completeFunc = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)

// fixedWords completes to words.
func fixedWords(words []string) completeFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return words, cobra.ShellCompDirectiveNoFileComp
	}
}

func completeProviders(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if c.Name() == "providers" && len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, p := range imapsrc.Providers() {
		out = append(out, p.Name+"\t"+p.Title)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeAccounts offers the account names of the config file: the one
// given with --config on the line so far, else the default one.
func completeAccounts(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	path, _ := c.Flags().GetString("config")
	cfg, err := account.Load(path)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, a := range cfg.Accounts {
		out = append(out, a.Name+"\t"+a.User+" at "+a.Server+a.Provider)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeFormats completes a comma-separated list: the formats not yet
// in it, after what is typed so far.
func completeFormats(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	head := ""
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		head = toComplete[:i+1]
	}
	var out []string
	for _, f := range account.KnownFormats {
		if !strings.Contains(","+head, ","+f+",") {
			out = append(out, head+f)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// completeMounts offers the mailfs mounts of the mount table.
func completeMounts(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	mounts, err := mountinfo.Read()
	if err != nil {
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
	var out []string
	for _, m := range mounts {
		if m.FSType == "fuse.mailfs" {
			out = append(out, m.Dir)
		}
	}
	if len(out) == 0 {
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeDirs offers directories, for a mountpoint.
func completeDirs(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// completeCommands offers the commands, for help.
func completeCommands(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, sub := range c.Root().Commands() {
		if sub.IsAvailableCommand() && sub != c {
			out = append(out, fmt.Sprintf("%s\t%s", sub.Name(), sub.Short))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
