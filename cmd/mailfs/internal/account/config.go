package account

// The config file: defaults and accounts, in TOML (see doc.go).

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"mailfs/cache"
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

// The protocols an account can speak.
const (
	ProtoIMAP = "imap"
	ProtoPOP3 = "pop3" // a read-only maildrop shown as INBOX (imapsrc/pop3)
)

// Defaults of the top-level keys.
var (
	DefaultFormats = []string{"eml"}
	KnownFormats   = append(render.FormatNames(), cache.SumsFormat) // a message's files, then the folder's checksum file
	LogLevels      = []string{"error", "warn", "info", "debug"}
)

const (
	defaultPoll  = 60 * time.Second
	DefaultConns = 4
	MaxConns     = 64
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

// DefaultPath is $XDG_CONFIG_HOME/mailfs/config.toml (~/.config/… when
// XDG_CONFIG_HOME is not set).
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config folder: use --config FILE (%v)", err)
	}
	return filepath.Join(dir, "mailfs", "config.toml"), nil
}

// Load reads and checks the config file at path (DefaultPath
// when empty). Every problem found is reported, each with the file, line
// and key, in one *fileError. Passwords are not read here: see
// Account.SourceConfig.
func Load(path string) (*Config, error) {
	if path == "" {
		var err error
		if path, err = DefaultPath(); err != nil {
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

	cfg := &Config{Path: path, Formats: DefaultFormats, Poll: defaultPoll, Conns: DefaultConns, LogLevel: "info"}
	if fc.CacheDir != "" {
		cfg.CacheDir = expandPath(fc.CacheDir, base)
	}
	if fc.Formats != nil {
		if msg := CheckFormats(fc.Formats); msg != "" {
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
		if msg := CheckConns(*fc.Conns); msg != "" {
			ferr.add(lines.line("conns"), "conns: %s", msg)
		}
		cfg.Conns = *fc.Conns
	}
	if fc.LogLevel != "" {
		if !slices.Contains(LogLevels, fc.LogLevel) {
			ferr.add(lines.line("log_level"), "log_level: unknown level %q (want %s)", fc.LogLevel, strings.Join(LogLevels, ", "))
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
	if s := Suggest(last, known); s != "" {
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
func Suggest(s string, known []string) string {
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
		if l, ok := m[strings.ToLower(strings.Join(path[:n], "."))]; ok {
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
			// Lower case: go-toml matches keys to fields regardless of case.
			parts = append(parts, strings.ToLower(string(k.Data)))
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
		isAccount = append(isAccount, e.Kind == unstable.ArrayTable && strings.EqualFold(string(first.Data), "account") && !it.Next())
	}
	return offsets, isAccount
}
