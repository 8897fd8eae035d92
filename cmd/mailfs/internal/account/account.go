package account

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"mailfs/imapsrc"
)

// Account is one [[account]] of the config file. Paths are absolute
// (relative ones are taken from the config file's folder, "~/" from the
// home folder). Exactly one credential field is set.
type Account struct {
	Name     string // the account's directory in a multi-account mount; unique
	Provider string // a preset name (imapsrc.LookupProvider), canonical
	Server   string // HOST[:PORT]; overrides the preset's host
	Protocol string // "" or ProtoIMAP; ProtoPOP3 for a POP3 maildrop (imapsrc/pop3)
	Region   string // for presets whose host depends on a region (workmail)
	TLS      string // implicit, starttls or none; "" for the preset's or implicit
	TLSCA    string // extra CA file
	User     string

	PasswordCmd   string // command printing the password (sh -c)
	PasswordFile  string // file holding the password; mode 0600 or stricter
	PasswordEnv   string // environment variable holding the password
	OAuthTokenCmd string // command printing an OAuth2 access token
	Auth          string // "", password, xoauth2 or oauthbearer (imapsrc.Config.Auth)

	CacheDir string   // its cache: its own cache_dir, else <top cache_dir>/<name>, else ""
	Formats  []string // its own formats, else the top-level ones
	Conns    int      // its own conns, else the top-level value

	Include, Exclude []string  // folder globs (imapsrc.Filter)
	Since, Before    time.Time // dates (midnight UTC); zero when not set
	ShowAllMail      bool      // show folders the preset hides (Gmail's All Mail)
	ReadWrite        bool      // writes through the mount change the server (read_write)

	Line int // line of its [[account]] header in the file; 0 if not known

	// FromFlags is set for the account of mount's and sync's flags: its
	// errors name the flags (--password-file), not the config's keys.
	FromFlags bool
}

// PasswordEnv is the environment variable the password of an account
// from flags is read from.
const PasswordEnv = "MAILFS_PASSWORD"

// flagNames are the flags of the config keys an account from flags has.
var flagNames = map[string]string{
	"password_file": "--password-file", "password_cmd": "--password-cmd",
	"password_env": PasswordEnv, "oauth_token_cmd": "--oauth-token-cmd",
	"tls_ca": "--tls-ca", "tls": "--tls", "server": "--server", "user": "--user",
	"provider": "--provider", "region": "--region", "auth": "--auth", "conns": "--conns",
	"protocol": "--protocol",
}

// flagWords rewrites a problem message "KEY: text" of an account from
// flags into "--FLAG: text".
func (a Account) flagWords(msg string) string {
	if !a.FromFlags {
		return msg
	}
	key, rest, ok := strings.Cut(msg, ": ")
	if f, known := flagNames[key]; ok && known {
		return f + ": " + rest
	}
	return msg
}

// accountProblem is something wrong with an account, at one of its keys
// ("" for the account as a whole).
type accountProblem struct {
	key  string
	text string
}

func (p accountProblem) msg(name string) string {
	s := p.text
	if p.key != "" {
		s = p.key + ": " + s
	}
	if name != "" {
		s = fmt.Sprintf("account %q: %s", name, s)
	}
	return s
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Check returns the first thing wrong with a, named as in the config file
// (account "NAME": KEY: …) or, for an account from flags, by its flag.
func (a Account) Check() error {
	if ps := a.check(); len(ps) > 0 {
		return a.fail("%s", ps[0].msg(""))
	}
	return nil
}

// fail is an error about a, worded for where a comes from.
func (a Account) fail(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if a.FromFlags {
		return errors.New(a.flagWords(msg))
	}
	return fmt.Errorf("account %q: %s", a.Name, msg)
}

// check reports everything wrong with a, without contacting any server or
// running any command. It is shared by the config file and CSV import.
func (a Account) check() []accountProblem {
	var ps []accountProblem
	bad := func(key, format string, args ...any) {
		ps = append(ps, accountProblem{key, fmt.Sprintf(format, args...)})
	}
	if a.Name == "" {
		bad("name", "missing: every account needs a name (its directory in the mount)")
	} else if msg := checkDirName(a.Name); msg != "" {
		bad("name", "%q %s", a.Name, msg)
	}
	if a.User == "" {
		bad("user", "missing: the login name")
	}

	var preset imapsrc.Provider
	hasPreset := false
	switch {
	case a.Provider == "" && a.Server == "":
		bad("", "neither provider nor server: set provider (see 'mailfs providers') or server")
	case a.Provider != "":
		p, ok := imapsrc.LookupProvider(a.Provider)
		if !ok {
			bad("provider", "unknown provider %q (known: %s)", a.Provider, strings.Join(imapsrc.ProviderNames(), ", "))
			break
		}
		preset, hasPreset = p, true
		if p.NeedsRegion() && a.Server == "" {
			if _, err := p.Addr(a.Region); err != nil {
				bad("region", "%v", err)
			}
		}
	}
	if a.Region != "" && !preset.NeedsRegion() {
		bad("region", "only for a provider whose host depends on a region (workmail)")
	}
	if a.Server != "" {
		if strings.ContainsAny(a.Server, "/ \t") || strings.Contains(a.Server, "://") {
			bad("server", "want HOST or HOST:PORT, got %q", a.Server)
		}
	}
	switch a.Protocol {
	case "", ProtoIMAP:
	case ProtoPOP3:
		if a.Provider != "" {
			bad("provider", "presets are for IMAP: give the POP3 server with server")
		}
	default:
		bad("protocol", "unknown protocol %q (want imap or pop3)", a.Protocol)
	}
	if err := imapsrc.TLSMode(a.TLS).Check(); err != nil {
		bad("tls", "%v", err)
	}

	var creds []string
	for _, k := range credentialKeys {
		if a.credential(k) != "" {
			creds = append(creds, k)
		}
	}
	switch len(creds) {
	case 0:
		bad("", "no credential: set one of %s", strings.Join(credentialKeys, ", "))
	case 1:
	default:
		bad(creds[1], "two credential sources (%s and %s): keep one", creds[0], creds[1])
	}
	oauth := a.OAuthTokenCmd != ""
	if err := imapsrc.CheckAuth(a.Auth, oauth); err != nil {
		bad("auth", "%v", err)
	}
	if hasPreset && len(creds) > 0 {
		switch {
		case !preset.Password && !oauth:
			bad(creds[0], "%s accepts only OAuth2: use oauth_token_cmd (a command printing an access token)", preset.Title)
		case !preset.OAuth2 && oauth:
			bad("oauth_token_cmd", "%s takes no OAuth2 tokens from mailfs: use an app password (%s)", preset.Title, "password_cmd, password_file or password_env")
		}
	}
	if a.PasswordFile != "" {
		if fi, err := os.Stat(a.PasswordFile); err == nil {
			if fi.IsDir() {
				bad("password_file", "%s is a folder", a.PasswordFile)
			} else if perm := fi.Mode().Perm(); perm&0o077 != 0 {
				bad("password_file", "%s is readable by group or others (mode %04o): chmod 600 it", a.PasswordFile, perm)
			}
		}
	}
	if a.PasswordEnv != "" && !envNameRE.MatchString(a.PasswordEnv) {
		bad("password_env", "%q is not an environment variable name", a.PasswordEnv)
	}
	if msg := CheckFormats(a.Formats); msg != "" {
		bad("formats", "%s", msg)
	}
	if msg := CheckConns(a.Conns); msg != "" {
		bad("conns", "%s", msg)
	}
	if err := (imapsrc.Filter{Include: a.Include}).Validate(); err != nil {
		bad("include", "%v", err)
	}
	if err := (imapsrc.Filter{Exclude: a.Exclude}).Validate(); err != nil {
		bad("exclude", "%v", err)
	}
	if !a.Since.IsZero() && !a.Before.IsZero() && !a.Since.Before(a.Before) {
		bad("before", "%s is not after since %s: no message could match",
			a.Before.Format(time.DateOnly), a.Since.Format(time.DateOnly))
	}
	if a.ShowAllMail && (!hasPreset || len(preset.HideFolders)+len(preset.HideSpecialUse) == 0) {
		bad("show_all_mail", "only for a provider that hides folders (gmail)")
	}
	return ps
}

// credential returns the value of one of credentialKeys.
func (a Account) credential(key string) string {
	switch key {
	case "password_cmd":
		return a.PasswordCmd
	case "password_file":
		return a.PasswordFile
	case "password_env":
		return a.PasswordEnv
	case "oauth_token_cmd":
		return a.OAuthTokenCmd
	}
	return ""
}

// checkDirName says why name cannot be a directory name in the mount, or "".
func checkDirName(name string) string {
	switch {
	case !utf8.ValidString(name):
		return "is not valid UTF-8"
	case len(name) > 255:
		return "is longer than 255 bytes"
	case name == "." || name == "..":
		return "is not a usable directory name"
	case strings.HasPrefix(name, "."):
		return "starts with a dot (a hidden directory)"
	case strings.TrimSpace(name) != name:
		return "starts or ends with a space"
	case strings.ContainsAny(name, `/\:*?"<>|`):
		return `holds one of / \ : * ? " < > | (not usable in a directory name everywhere)`
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "holds a control character"
	}
	return ""
}

func CheckFormats(formats []string) string {
	if len(formats) == 0 {
		return "empty: want one or more of " + strings.Join(KnownFormats, ", ")
	}
	for _, f := range formats {
		if !slices.Contains(KnownFormats, f) {
			return fmt.Sprintf("unknown format %q (want %s)", f, strings.Join(KnownFormats, ", "))
		}
	}
	return ""
}

func CheckConns(n int) string {
	if n < 1 || n > MaxConns {
		return fmt.Sprintf("%d is out of range (1 to %d)", n, MaxConns)
	}
	return ""
}

// expandPath makes p absolute: "~/" from the home folder, a relative path
// from base.
func expandPath(p, base string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
		return p
	}
	if !filepath.IsAbs(p) {
		abs, err := filepath.Abs(filepath.Join(base, p))
		if err == nil {
			return abs
		}
	}
	return filepath.Clean(p)
}

// Account returns the account named name.
func (c *Config) Account(name string) (Account, bool) {
	for _, a := range c.Accounts {
		if a.Name == name {
			return a, true
		}
	}
	return Account{}, false
}

// Filter is the account's folder and date filter, with the folders its
// preset hides (Gmail's All Mail) excluded unless show_all_mail is set.
// The preset's HideSpecialUse attributes are for the folder listing.
func (a Account) Filter() imapsrc.Filter {
	f := imapsrc.Filter{Include: a.Include, Exclude: a.Exclude, Since: a.Since, Before: a.Before}
	if p, ok := imapsrc.LookupProvider(a.Provider); ok && !a.ShowAllMail {
		f.Exclude = slices.Clone(f.Exclude)
		for _, name := range p.HideFolders {
			f.Exclude = append(f.Exclude, imapsrc.QuoteGlob(name))
		}
	}
	return f
}
