package main

// mailfs accounts import: many accounts at once from a CSV file, merged
// into the config file. Every row is checked first; one bad row and
// nothing is written. The config file is replaced atomically.

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"mailfs/cmd/mailfs/internal/account"

	"github.com/spf13/cobra"
)

const accountsLong = `Adds the accounts listed in a CSV file to the config file (default
$XDG_CONFIG_HOME/mailfs/config.toml, created if missing).

The first row names the columns, in any order:
  name             the account's directory in the mount (required, unique)
  user             the login name (required)
  provider         a preset from 'mailfs providers' (or server)
  server           HOST[:PORT] (or provider)
  tls              implicit (default), starttls or none
  password_cmd     command printing the password
  password_file    file holding the password (chmod 600)
  oauth_token_cmd  command printing an OAuth2 access token
Empty cells are unset; one credential column per row. Lines starting with
# are skipped. Other columns are an error.

Every row is checked first. If any is bad, each bad row is reported with
its line number and nothing is written. Otherwise the accounts are added
to the config file, which is replaced in one step (mode 0600); the rest of
the file is kept. An account whose name is already in the file is an
error, unless --replace: then its row replaces the account's CSV columns
and credential, and its other settings (filters, formats, …) stay.`

const accountsExamples = `  mailfs accounts import accounts.csv
  mailfs accounts import --config ~/backup/mailfs.toml --replace accounts.csv

  accounts.csv:
    name,user,provider,server,password_cmd,oauth_token_cmd
    personal,me@gmail.com,gmail,,,oama access me@gmail.com
    work,me@example.com,outlook,,,pizauth show work
    home,me,,mail.home.example,pass show mail/home,`

func newAccountsCmd() *cobra.Command {
	accounts := &cobra.Command{
		Use:   "accounts COMMAND",
		Short: "manage the accounts of the config file",
		Long: `Manages the accounts of the config file ($XDG_CONFIG_HOME/mailfs/config.toml).
'mailfs accounts import --help' has the CSV columns.`,
		Example: accountsExamples,
		Args:    cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("want a subcommand: mailfs accounts import ACCOUNTS.csv")
			}
			return usagef("unknown subcommand %q of accounts (want import)", args[0])
		},
	}
	var configPath string
	var replace bool
	imp := &cobra.Command{
		Use:     "import [--config FILE] [--replace] ACCOUNTS.csv",
		Short:   "add accounts from a CSV file to the config file",
		Long:    accountsLong,
		Example: accountsExamples,
		Args:    cobra.ArbitraryArgs,
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return []string{"csv"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want exactly one ACCOUNTS.csv, got %d arguments", len(args))
			}
			return accountsImport(c.OutOrStdout(), configPath, args[0], replace)
		},
	}
	imp.Flags().StringVar(&configPath, "config", "", "the config `FILE` to add to (default $XDG_CONFIG_HOME/mailfs/config.toml)")
	imp.Flags().BoolVar(&replace, "replace", false, "replace accounts of the same name instead of refusing")
	imp.MarkFlagFilename("config", "toml")
	accounts.AddCommand(imp)
	return accounts
}

func accountsImport(stdout io.Writer, path, csvPath string, replace bool) error {
	var err error
	if path == "" {
		if path, err = account.DefaultPath(); err != nil {
			return err
		}
	}
	res, err := account.Import(path, csvPath, replace)
	if res.BadRows > 0 {
		verb := "are"
		if res.BadRows == 1 {
			verb = "is"
		}
		return fmt.Errorf("%w\n%d of %s %s bad; nothing was written", err, res.BadRows, plural(res.Rows, "row"), verb)
	}
	if err != nil {
		return err
	}
	if len(res.Added) > 0 {
		fmt.Fprintf(stdout, "added %s to %s: %s\n", plural(len(res.Added), "account"), path, strings.Join(res.Added, ", "))
	}
	if len(res.Replaced) > 0 {
		fmt.Fprintf(stdout, "replaced %s in %s: %s\n", plural(len(res.Replaced), "account"), path, strings.Join(res.Replaced, ", "))
	}
	if len(res.Added)+len(res.Replaced) == 0 {
		fmt.Fprintf(stdout, "no accounts in %s; %s unchanged\n", csvPath, path)
	}
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
