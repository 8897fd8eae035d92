package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"mailfs/imapsrc"
)

const providersLong = `Lists the provider presets: what 'mount --provider NAME' and the config
file's provider = "NAME" fill in (host, port, TLS) and how the service
lets mailfs log in. With NAME, shows that preset only.

LOGIN is password (often an app password the service makes for you),
oauth2 (an access token from oauth_token_cmd / --oauth-token-cmd, such as
'oama access ME' or 'pizauth show ACCOUNT') or password-or-oauth2.`

func newProvidersCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "providers [NAME]",
		Short: "list the provider presets",
		Long:  providersLong,
		Example: `  mailfs providers
  mailfs providers gmail`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeProviders,
		RunE: func(c *cobra.Command, args []string) error {
			return providers(c.OutOrStdout(), args)
		},
	}
}

func providers(stdout io.Writer, pos []string) error {
	list := imapsrc.Providers()
	switch len(pos) {
	case 0:
	case 1:
		p, ok := imapsrc.LookupProvider(pos[0])
		if !ok {
			return usagef("unknown provider %q (known: %s)", pos[0], strings.Join(imapsrc.ProviderNames(), ", "))
		}
		list = []imapsrc.Provider{p}
	default:
		return usagef("want at most one provider NAME, got %d arguments", len(pos))
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSERVICE\tHOST\tPORT\tTLS\tLOGIN")
	for _, p := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", p.Name, p.Title, p.Host, p.Port, p.TLS, p.Login())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	for _, p := range list {
		text := p.Notes
		if len(p.HideFolders) > 0 {
			q := make([]string, len(p.HideFolders))
			for i, f := range p.HideFolders {
				q[i] = strconv.Quote(f)
			}
			text += " Hidden by default: " + strings.Join(q, ", ") + "."
		}
		fmt.Fprint(stdout, wrap(p.Name+": "+text, 78, "  "))
	}
	return nil
}

// wrap breaks s into lines of at most width bytes where it can, indenting
// every line after the first.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	line := 0
	for i, w := range strings.Fields(s) {
		switch {
		case i == 0:
		case line+1+len(w) > width:
			b.WriteString("\n" + indent)
			line = len(indent)
		default:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	b.WriteByte('\n')
	return b.String()
}
