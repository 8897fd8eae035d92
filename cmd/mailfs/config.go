package main

// The config file: defaults and accounts, in TOML, at
// $XDG_CONFIG_HOME/mailfs/config.toml unless --config names another.
// testdata/config.example.toml shows every key.
//
// Library: github.com/pelletier/go-toml/v2. It is pure Go, maintained, and
// the one Go TOML decoder that reports unknown keys with their line and
// column (Decoder.DisallowUnknownFields → *toml.StrictMissingError, one
// DecodeError with Position and Key per key), which the config's promise
// ("unknown keys are errors that name the key and line") needs.
// BurntSushi/toml only lists undecoded keys, without positions. Its
// unstable parser also gives the line of every key, so that the checks
// made after decoding (bad provider, two credentials, …) point at a line
// too.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"mailfs/imapsrc"
	"mailfs/render"
)

// Config is a loaded, checked config file. Account values already carry
// the top-level defaults.
type Config struct {
	Path      string        // the file read
	CacheDir  string        // base folder of the caches: one subfolder per account; "" for the default
	Formats   []string      // default files per message
	Poll      time.Duration // how often to look for new and deleted messages
	Conns     int           // default IMAP connections per account
	LogLevel  string        // error, warn, info or debug
	ReadWrite bool          // default of the accounts' read_write
	Accounts  []Account
}

// Account is one [[account]] of the config file. Paths are absolute
// (relative ones are taken from the config file's folder, "~/" from the
// home folder). Exactly one credential field is set.
type Account struct {
	Name     string // the account's directory in a multi-account mount; unique
	Provider string // a preset name (imapsrc.LookupProvider), canonical
	Server   string // HOST[:PORT]; overrides the preset's host
	Protocol string // "" or imap; pop3 for a POP3 maildrop (imapsrc/pop3)
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

// flagNames are the flags of the config keys an account from flags has.
var flagNames = map[string]string{
	"password_file": "--password-file", "password_cmd": "--password-cmd",
	"password_env": passwordEnv, "oauth_token_cmd": "--oauth-token-cmd",
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

// Defaults of the top-level keys.
var (
	defaultFormats = []string{"eml"}
	knownFormats   = render.FormatNames()
	logLevels      = []string{"error", "warn", "info", "debug"}
)

const (
	defaultPoll  = 60 * time.Second
	defaultConns = 4
	maxConns     = 64
)

// fileConfig is the file as decoded. Every field is a key users may write;
// any other key is an error.
type fileConfig struct {
	CacheDir  string        `toml:"cache_dir,omitempty"`
	Formats   []string      `toml:"formats,omitempty"`
	Poll      string        `toml:"poll,omitempty"`
	Conns     *int          `toml:"conns,omitempty"`
	LogLevel  string        `toml:"log_level,omitempty"`
	ReadWrite *bool         `toml:"read_write,omitempty"`
	Account   []fileAccount `toml:"account,omitempty"`
}

type fileAccount struct {
	Name          string          `toml:"name,omitempty"`
	Provider      string          `toml:"provider,omitempty"`
	Server        string          `toml:"server,omitempty"`
	Protocol      string          `toml:"protocol,omitempty"`
	Region        string          `toml:"region,omitempty"`
	TLS           string          `toml:"tls,omitempty"`
	TLSCA         string          `toml:"tls_ca,omitempty"`
	User          string          `toml:"user,omitempty"`
	PasswordCmd   string          `toml:"password_cmd,omitempty"`
	PasswordFile  string          `toml:"password_file,omitempty"`
	PasswordEnv   string          `toml:"password_env,omitempty"`
	OAuthTokenCmd string          `toml:"oauth_token_cmd,omitempty"`
	Auth          string          `toml:"auth,omitempty"`
	CacheDir      string          `toml:"cache_dir,omitempty"`
	Formats       []string        `toml:"formats,omitempty"`
	Conns         *int            `toml:"conns,omitempty"`
	Include       []string        `toml:"include,omitempty"`
	Exclude       []string        `toml:"exclude,omitempty"`
	Since         *toml.LocalDate `toml:"since,omitempty"`
	Before        *toml.LocalDate `toml:"before,omitempty"`
	ShowAllMail   bool            `toml:"show_all_mail,omitempty"`
	ReadWrite     *bool           `toml:"read_write,omitempty"`
}

// accountKeys are the keys of an [[account]], for suggestions.
var accountKeys = []string{"name", "provider", "server", "protocol", "region", "tls", "tls_ca", "user",
	"password_cmd", "password_file", "password_env", "oauth_token_cmd", "auth",
	"cache_dir", "formats", "conns", "include", "exclude", "since", "before", "show_all_mail", "read_write"}

var topKeys = []string{"cache_dir", "formats", "poll", "conns", "log_level", "read_write", "account"}

// credentialKeys are the credential sources, of which an account has one.
var credentialKeys = []string{"password_cmd", "password_file", "password_env", "oauth_token_cmd"}

// DefaultConfigPath is $XDG_CONFIG_HOME/mailfs/config.toml (~/.config/… when
// XDG_CONFIG_HOME is not set).
func DefaultConfigPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config folder: use --config FILE (%v)", err)
	}
	return filepath.Join(dir, "mailfs", "config.toml"), nil
}

// LoadConfig reads and checks the config file at path (DefaultConfigPath
// when empty). Every problem found is reported, each with the file, line
// and key, in one *fileError. Passwords are not read here: see
// Account.SourceConfig.
func LoadConfig(path string) (*Config, error) {
	if path == "" {
		var err error
		if path, err = DefaultConfigPath(); err != nil {
			return nil, err
		}
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	cfg, _, err := parseConfig(path, doc)
	return cfg, err
}

// fileError lists problems found in one file, each with its line.
type fileError struct {
	File     string
	Problems []problem
}

type problem struct {
	Line int    // 1-based; 0 when not known
	Msg  string // names the key
}

func (e *fileError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.File)
		if p.Line > 0 {
			b.WriteString(":" + strconv.Itoa(p.Line))
		}
		b.WriteString(": " + p.Msg)
	}
	return b.String()
}

func (e *fileError) add(line int, format string, a ...any) {
	e.Problems = append(e.Problems, problem{line, fmt.Sprintf(format, a...)})
}

func (e *fileError) err() error {
	if len(e.Problems) == 0 {
		return nil
	}
	sort.SliceStable(e.Problems, func(i, j int) bool { return e.Problems[i].Line < e.Problems[j].Line })
	return e
}

// parseConfig decodes and checks doc, read from path.
func parseConfig(path string, doc []byte) (*Config, *fileConfig, error) {
	ferr := &fileError{File: path}
	var fc fileConfig
	dec := toml.NewDecoder(bytes.NewReader(doc)).DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		var strict *toml.StrictMissingError
		var de *toml.DecodeError
		switch {
		case errors.As(err, &strict):
			for _, e := range strict.Errors {
				line, _ := e.Position()
				ferr.add(line, "%s", unknownKeyMsg(e.Key()))
			}
		case errors.As(err, &de):
			line, _ := de.Position()
			msg := friendlyDecodeMsg(strings.TrimPrefix(de.Error(), "toml: "))
			if k := de.Key(); len(k) > 0 {
				if last := k[len(k)-1]; (last == "since" || last == "before") && !strings.Contains(msg, "YYYY") {
					msg += " (want a date YYYY-MM-DD)"
				}
				msg = fmt.Sprintf("%s: %s", keyName(k), msg)
			}
			ferr.add(line, "%s", msg)
		default:
			ferr.add(0, "%v", err)
		}
		return nil, nil, ferr.err()
	}
	lines := mapLines(doc)
	base := filepath.Dir(path)

	cfg := &Config{Path: path, Formats: defaultFormats, Poll: defaultPoll, Conns: defaultConns, LogLevel: "info"}
	if fc.CacheDir != "" {
		cfg.CacheDir = expandPath(fc.CacheDir, base)
	}
	if fc.Formats != nil {
		if msg := checkFormats(fc.Formats); msg != "" {
			ferr.add(lines.line("formats"), "formats: %s", msg)
		}
		cfg.Formats = fc.Formats
	}
	if fc.Poll != "" {
		d, err := time.ParseDuration(fc.Poll)
		switch {
		case err != nil:
			ferr.add(lines.line("poll"), "poll: want a duration such as \"60s\" or \"5m\", got %q", fc.Poll)
		case d < time.Second:
			ferr.add(lines.line("poll"), "poll: %v is too short (at least 1s)", d)
		}
		cfg.Poll = d
	}
	if fc.Conns != nil {
		if msg := checkConns(*fc.Conns); msg != "" {
			ferr.add(lines.line("conns"), "conns: %s", msg)
		}
		cfg.Conns = *fc.Conns
	}
	if fc.LogLevel != "" {
		if !slices.Contains(logLevels, fc.LogLevel) {
			ferr.add(lines.line("log_level"), "log_level: unknown level %q (want %s)", fc.LogLevel, strings.Join(logLevels, ", "))
		}
		cfg.LogLevel = fc.LogLevel
	}

	if fc.ReadWrite != nil {
		cfg.ReadWrite = *fc.ReadWrite
	}

	seen := map[string]int{} // folded name → line
	for i, fa := range fc.Account {
		at := func(key string) int { return lines.line("account", strconv.Itoa(i), key) }
		a := fa.account(base, cfg)
		a.Line = lines.line("account", strconv.Itoa(i))
		for _, p := range a.check() {
			ferr.add(at(p.key), "%s", p.msg(a.Name))
		}
		if a.Name != "" {
			k := strings.ToLower(a.Name)
			if l, dup := seen[k]; dup {
				ferr.add(at("name"), "account %q: name already used by the account at line %d (names must differ, also in case)", a.Name, l)
			} else {
				seen[k] = at("name")
			}
		}
		cfg.Accounts = append(cfg.Accounts, a)
	}
	if err := ferr.err(); err != nil {
		return nil, nil, err
	}
	return cfg, &fc, nil
}

// account turns a decoded [[account]] into an Account with the defaults of
// cfg; relative paths are taken from base.
func (fa fileAccount) account(base string, cfg *Config) Account {
	a := Account{
		Name: fa.Name, Server: fa.Server, Protocol: fa.Protocol, Region: fa.Region, TLS: fa.TLS, User: fa.User,
		PasswordCmd: fa.PasswordCmd, PasswordEnv: fa.PasswordEnv,
		OAuthTokenCmd: fa.OAuthTokenCmd, Auth: fa.Auth,
		Formats: cfg.Formats, Conns: cfg.Conns,
		Include: fa.Include, Exclude: fa.Exclude, ShowAllMail: fa.ShowAllMail,
		Provider: fa.Provider,
	}
	if p, ok := imapsrc.LookupProvider(fa.Provider); ok {
		a.Provider = p.Name
	}
	if fa.TLSCA != "" {
		a.TLSCA = expandPath(fa.TLSCA, base)
	}
	if fa.PasswordFile != "" {
		a.PasswordFile = expandPath(fa.PasswordFile, base)
	}
	switch {
	case fa.CacheDir != "":
		a.CacheDir = expandPath(fa.CacheDir, base)
	case cfg.CacheDir != "" && fa.Name != "":
		a.CacheDir = filepath.Join(cfg.CacheDir, fa.Name)
	}
	if fa.Formats != nil {
		a.Formats = fa.Formats
	}
	if fa.Conns != nil {
		a.Conns = *fa.Conns
	}
	a.ReadWrite = cfg.ReadWrite
	if fa.ReadWrite != nil {
		a.ReadWrite = *fa.ReadWrite
	}
	if fa.Since != nil {
		a.Since = fa.Since.AsTime(time.UTC)
	}
	if fa.Before != nil {
		a.Before = fa.Before.AsTime(time.UTC)
	}
	return a
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
	case "", protoIMAP:
	case protoPOP3:
		if a.Provider != "" {
			bad("provider", "presets are for IMAP: give the POP3 server with server")
		}
	default:
		bad("protocol", "unknown protocol %q (want imap or pop3)", a.Protocol)
	}
	switch imapsrc.TLSMode(a.TLS) {
	case "", imapsrc.TLSImplicit, imapsrc.TLSStartTLS, imapsrc.TLSNone:
	default:
		bad("tls", "unknown mode %q (want implicit, starttls or none)", a.TLS)
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
	switch a.Auth {
	case "":
	case imapsrc.AuthPassword:
		if oauth {
			bad("auth", "%q, but oauth_token_cmd gives a token: drop one", a.Auth)
		}
	case imapsrc.AuthXOAuth2, imapsrc.AuthOAuthBearer:
		if !oauth && len(creds) > 0 {
			bad("auth", "%q needs oauth_token_cmd, not %s", a.Auth, creds[0])
		}
	default:
		bad("auth", "unknown method %q (want password, xoauth2 or oauthbearer)", a.Auth)
	}
	if hasPreset && len(creds) > 0 {
		switch {
		case preset.Auth == imapsrc.AuthKindOAuth2 && !oauth:
			bad(creds[0], "%s accepts only OAuth2: use oauth_token_cmd (a command printing an access token)", preset.Title)
		case preset.Auth == imapsrc.AuthKindPassword && oauth:
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
	if msg := checkFormats(a.Formats); msg != "" {
		bad("formats", "%s", msg)
	}
	if msg := checkConns(a.Conns); msg != "" {
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

func checkFormats(formats []string) string {
	if len(formats) == 0 {
		return "empty: want one or more of " + strings.Join(knownFormats, ", ")
	}
	for _, f := range formats {
		if !slices.Contains(knownFormats, f) {
			return fmt.Sprintf("unknown format %q (want %s)", f, strings.Join(knownFormats, ", "))
		}
	}
	return ""
}

func checkConns(n int) string {
	if n < 1 || n > maxConns {
		return fmt.Sprintf("%d is out of range (1 to %d)", n, maxConns)
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

// secretCmdTimeout bounds a password command; it may wait for a passphrase.
var secretCmdTimeout = 2 * time.Minute

// SourceConfig resolves the preset and reads the password (running
// password_cmd, reading password_file or password_env now), giving what
// imapsrc.Dial needs. An OAuth2 token command is passed on, not run: the
// source runs it when it logs in. Errors name the account, never a secret.
func (a Account) SourceConfig() (imapsrc.Config, error) {
	fail := func(format string, args ...any) (imapsrc.Config, error) {
		msg := fmt.Sprintf(format, args...)
		if a.FromFlags {
			return imapsrc.Config{}, errors.New(a.flagWords(msg))
		}
		return imapsrc.Config{}, fmt.Errorf("account %q: %s", a.Name, msg)
	}
	if ps := a.check(); len(ps) > 0 {
		return fail("%s", ps[0].msg(""))
	}
	cfg := imapsrc.Config{
		Addr: a.Server, TLS: imapsrc.TLSMode(a.TLS), CAFile: a.TLSCA,
		User: a.User, Conns: a.Conns, Auth: a.Auth,
	}
	if p, ok := imapsrc.LookupProvider(a.Provider); ok {
		if cfg.TLS == "" {
			cfg.TLS = p.TLS
		}
		if cfg.Addr == "" {
			addr, err := p.Addr(a.Region)
			if err != nil {
				return fail("%v", err)
			}
			cfg.Addr = addr
		}
	}
	if cfg.TLS == "" {
		cfg.TLS = imapsrc.TLSImplicit
	}
	switch {
	case a.OAuthTokenCmd != "":
		cfg.TokenCmd = a.OAuthTokenCmd
	case a.PasswordEnv != "":
		pw, ok := os.LookupEnv(a.PasswordEnv)
		if !ok || pw == "" {
			return fail("password_env: environment variable %s is not set", a.PasswordEnv)
		}
		cfg.Password = pw
	case a.PasswordFile != "":
		pw, err := readPasswordFile(a.PasswordFile)
		if err != nil {
			return fail("password_file: %v", err)
		}
		cfg.Password = pw
	case a.PasswordCmd != "":
		pw, err := runSecretCmd(a.PasswordCmd)
		if err != nil {
			return fail("password_cmd: %v", err)
		}
		cfg.Password = pw
	}
	return cfg, nil
}

// readPasswordFile reads the first line of a file only its owner can read.
func readPasswordFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("%s is readable by group or others (mode %04o): chmod 600 it", path, perm)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return "", err
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", fmt.Errorf("%s holds no password on its first line", path)
	}
	return pw, nil
}

// runSecretCmd runs cmdline with sh -c and returns the first line of its
// output (the rest is ignored, as pass(1) puts other data there). Its
// error output goes to our stderr, where a passphrase prompt can be seen;
// its standard output never goes into an error.
func runSecretCmd(cmdline string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), secretCmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", cmdline)
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return "", fmt.Errorf("command did not finish within %v", secretCmdTimeout)
	}
	if err != nil {
		return "", fmt.Errorf("command failed: %v", err)
	}
	pw, _, _ := strings.Cut(string(out), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", errors.New("command printed no password")
	}
	return pw, nil
}

var typeMismatchRE = regexp.MustCompile(`^cannot decode TOML ([a-z ]+) into .*of type (\S+)$`)

// friendlyDecodeMsg rewords go-toml's type errors, which name Go types.
func friendlyDecodeMsg(msg string) string {
	m := typeMismatchRE.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	want := map[string]string{
		"int": "a whole number", "*int": "a whole number", "string": "a string in quotes",
		"[]string": `a list of strings, like ["a", "b"]`, "bool": "true or false",
		"*toml.LocalDate": "a date YYYY-MM-DD",
	}[m[2]]
	if want == "" {
		return msg
	}
	return fmt.Sprintf("want %s, not a TOML %s", want, m[1])
}

// unknownKeyMsg describes an unknown key, suggesting a known one.
func unknownKeyMsg(k toml.Key) string {
	last := k[len(k)-1]
	where, known := "", topKeys
	if len(k) > 1 && k[0] == "account" {
		where, known = " in [[account]]", accountKeys
	}
	msg := fmt.Sprintf("unknown key %q%s", keyName(k), where)
	if s := suggest(last, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

func keyName(k toml.Key) string {
	var parts []string
	for _, p := range k {
		if _, err := strconv.Atoi(p); err == nil {
			continue // go-toml puts array indexes into keys
		}
		parts = append(parts, p)
	}
	if len(parts) > 1 && parts[0] == "account" {
		parts = parts[1:]
	}
	return strings.Join(parts, ".")
}

// suggest returns the known key closest to s if it is close enough.
func suggest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// keyLines maps a key path ("poll", "account.2", "account.2.since") to the
// line it is on.
type keyLines map[string]int

// line returns the line of the key path, or of its nearest parent found.
func (m keyLines) line(path ...string) int {
	for n := len(path); n > 0; n-- {
		if path[n-1] == "" {
			continue
		}
		if l, ok := m[strings.Join(path[:n], ".")]; ok {
			return l
		}
	}
	return 0
}

// mapLines finds the line of every key and table header of doc, which
// must parse. [[t]] headers count: the n-th is "t.N" (from 0).
func mapLines(doc []byte) keyLines {
	m := keyLines{}
	var p unstable.Parser
	p.Reset(doc)
	var prefix []string
	counts := map[string]int{}
	keyOf := func(n *unstable.Node) ([]string, int) {
		var parts []string
		line := 0
		it := n.Key()
		for it.Next() {
			k := it.Node()
			if line == 0 {
				line = p.Shape(k.Raw).Start.Line
			}
			parts = append(parts, string(k.Data))
		}
		return parts, line
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			parts, line := keyOf(e)
			prefix = parts
			m[strings.Join(prefix, ".")] = line
		case unstable.ArrayTable:
			parts, line := keyOf(e)
			k := strings.Join(parts, ".")
			prefix = []string{k, strconv.Itoa(counts[k])}
			counts[k]++
			m[strings.Join(prefix, ".")] = line
		case unstable.KeyValue:
			parts, line := keyOf(e)
			full := strings.Join(append(slices.Clone(prefix), parts...), ".")
			if _, ok := m[full]; !ok {
				m[full] = line
			}
		}
	}
	return m
}

// headerOffsets returns the byte offsets of the starts of the lines
// holding top-level [table] and [[array]] headers, and for each header
// whether it is [[account]].
func headerOffsets(doc []byte) (offsets []int, isAccount []bool) {
	var p unstable.Parser
	p.Reset(doc)
	for p.NextExpression() {
		e := p.Expression()
		if e.Kind != unstable.Table && e.Kind != unstable.ArrayTable {
			continue
		}
		it := e.Key()
		if !it.Next() {
			continue
		}
		first := it.Node()
		off := int(first.Raw.Offset)
		start := bytes.LastIndexByte(doc[:off], '\n') + 1
		offsets = append(offsets, start)
		isAccount = append(isAccount, e.Kind == unstable.ArrayTable && string(first.Data) == "account" && !it.Next())
	}
	return offsets, isAccount
}
