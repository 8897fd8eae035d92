package imapsrc

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// Provider is the IMAP setup of a well-known mail service, so that a user
// can say "--provider gmail" instead of looking up host, port and TLS mode.
type Provider struct {
	Name  string // what --provider and the config file's provider take
	Title string // the service as its users know it
	Host  string // IMAP host; may hold RegionPlaceholder (see Addr)
	Port  int
	TLS   TLSMode
	// Password and OAuth2 say what the service accepts: a password
	// (AuthPassword; often an app password) and an OAuth2 access token
	// (AuthXOAuth2, AuthOAuthBearer). Login words them for people.
	Password, OAuth2 bool
	Notes            string // quirks worth knowing before setting an account up
	// HideFolders are folders (full names, "/"-separated as in Filter)
	// hidden unless the user asks for them, because every message in them
	// is also in another folder.
	HideFolders []string
	// HideSpecialUse are RFC 6154 special-use attributes (e.g. `\All`) of
	// folders hidden like HideFolders. The attribute is what identifies the
	// folder when the service localises its name (Gmail shows
	// "[Gmail]/Alle Nachrichten" to German users).
	HideSpecialUse []string
}

// Login says how the service lets mailfs log in: "password", "oauth2" or
// "password-or-oauth2".
func (p Provider) Login() string {
	switch {
	case p.Password && p.OAuth2:
		return "password-or-oauth2"
	case p.OAuth2:
		return "oauth2"
	}
	return "password"
}

// RegionPlaceholder stands in a Provider.Host for the region the account
// lives in (Amazon WorkMail).
const RegionPlaceholder = "{region}"

// providers is the preset table. Only hosts and ports documented by the
// services themselves belong here; quirks go into Notes.
var providers = []Provider{
	{
		Name: "gmail", Title: "Gmail / Google Workspace",
		Host: "imap.gmail.com", Port: 993, TLS: TLSImplicit, Password: true, OAuth2: true,
		Notes: "OAuth2 (XOAUTH2/OAUTHBEARER) via oauth_token_cmd, or an app password (needs 2-step verification; Workspace admins may forbid it). " +
			"[Gmail]/All Mail repeats every labelled message and is hidden unless show_all_mail is set; a message with several labels appears in each label's folder.",
		HideFolders:    []string{"[Gmail]/All Mail", "[Google Mail]/All Mail"},
		HideSpecialUse: []string{`\All`},
	},
	{
		Name: "outlook", Title: "Outlook.com / Microsoft 365",
		Host: "outlook.office365.com", Port: 993, TLS: TLSImplicit, OAuth2: true,
		Notes: "OAuth2 only (Microsoft turned off password logins); the token needs the IMAP.AccessAsUser.All scope of outlook.office.com. " +
			"Microsoft 365 admins must leave IMAP enabled for the mailbox.",
	},
	{
		Name: "yahoo", Title: "Yahoo Mail",
		Host: "imap.mail.yahoo.com", Port: 993, TLS: TLSImplicit, Password: true, OAuth2: true,
		Notes: "use an app password from the Yahoo account security page; the normal password is refused. OAuth2 needs a client registered with Yahoo.",
	},
	{
		Name: "aol", Title: "AOL Mail",
		Host: "imap.aol.com", Port: 993, TLS: TLSImplicit, Password: true, OAuth2: true,
		Notes: "use an app password from the AOL account security page; the normal password is refused. OAuth2 needs a client registered with AOL.",
	},
	{
		Name: "icloud", Title: "iCloud Mail",
		Host: "imap.mail.me.com", Port: 993, TLS: TLSImplicit, Password: true,
		Notes: "needs an app-specific password (appleid.apple.com, two-factor authentication on). " +
			"The user is the address's name part (jane, not jane@icloud.com); if that is refused, the full address.",
	},
	{
		Name: "fastmail", Title: "Fastmail",
		Host: "imap.fastmail.com", Port: 993, TLS: TLSImplicit, Password: true,
		Notes: "needs an app password with IMAP access, made in Fastmail's settings; the login password is refused.",
	},
	{
		Name: "zoho", Title: "Zoho Mail",
		Host: "imap.zoho.com", Port: 993, TLS: TLSImplicit, Password: true,
		Notes: "enable IMAP access in Zoho Mail's settings first; with two-factor authentication use an app-specific password. " +
			"Accounts in other data centres use their own host (server = imap.zoho.eu, imap.zoho.in, imap.zoho.com.au); organisation accounts use imappro.zoho.com (.eu, .in, …).",
	},
	{
		Name: "gmx", Title: "GMX",
		Host: "imap.gmx.net", Port: 993, TLS: TLSImplicit, Password: true,
		Notes: "for gmx.net, gmx.de, gmx.at and gmx.ch; gmx.com accounts use server = imap.gmx.com. " +
			"IMAP access must be switched on in the web mailer's settings (POP3/IMAP).",
	},
	{
		Name: "yandex", Title: "Yandex Mail",
		Host: "imap.yandex.com", Port: 993, TLS: TLSImplicit, Password: true, OAuth2: true,
		Notes: "allow IMAP access in Yandex Mail's settings and use an app password made in Yandex ID; OAuth2 needs a registered client. Russian accounts may also use server = imap.yandex.ru.",
	},
	{
		Name: "workmail", Title: "Amazon WorkMail",
		Host: "imap.mail." + RegionPlaceholder + ".awsapps.com", Port: 993, TLS: TLSImplicit, Password: true,
		Notes: "the host depends on the organisation's AWS region: set region (e.g. us-east-1, us-west-2, eu-west-1) or server = imap.mail.REGION.awsapps.com.",
	},
}

// aliases are other names users reach for.
var aliases = map[string]string{
	"google":         "gmail",
	"googlemail":     "gmail",
	"workspace":      "gmail",
	"gsuite":         "gmail",
	"office365":      "outlook",
	"microsoft365":   "outlook",
	"m365":           "outlook",
	"o365":           "outlook",
	"hotmail":        "outlook",
	"live":           "outlook",
	"microsoft":      "outlook",
	"me":             "icloud",
	"apple":          "icloud",
	"amazon":         "workmail",
	"amazonworkmail": "workmail",
	"aws":            "workmail",
}

// Providers returns every preset, in a stable order.
func Providers() []Provider {
	out := make([]Provider, len(providers))
	for i, p := range providers {
		p.HideFolders = append([]string(nil), p.HideFolders...)
		p.HideSpecialUse = append([]string(nil), p.HideSpecialUse...)
		out[i] = p
	}
	return out
}

// LookupProvider finds a preset by its name or a common alias ("office365",
// "google", …), ignoring case.
func LookupProvider(name string) (Provider, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	if a, ok := aliases[name]; ok {
		name = a
	}
	for _, p := range Providers() {
		if p.Name == name {
			return p, true
		}
	}
	return Provider{}, false
}

// ProviderNames returns the presets' names, for messages and completion.
func ProviderNames() []string {
	names := make([]string, len(providers))
	for i, p := range providers {
		names[i] = p.Name
	}
	return names
}

// NeedsRegion reports whether Host holds RegionPlaceholder.
func (p Provider) NeedsRegion() bool { return strings.Contains(p.Host, RegionPlaceholder) }

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// Addr returns "host:port" for the preset. region fills RegionPlaceholder
// and is required exactly when NeedsRegion; it is ignored otherwise.
func (p Provider) Addr(region string) (string, error) {
	host := p.Host
	if p.NeedsRegion() {
		if region == "" {
			return "", fmt.Errorf("provider %s needs a region (e.g. us-east-1) or a server", p.Name)
		}
		if !regionRE.MatchString(region) {
			return "", fmt.Errorf("region %q does not look like an AWS region such as us-east-1", region)
		}
		host = strings.ReplaceAll(host, RegionPlaceholder, region)
	}
	return net.JoinHostPort(host, strconv.Itoa(p.Port)), nil
}
