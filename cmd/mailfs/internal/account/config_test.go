package account

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"mailfs/imapsrc"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigExample(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	cfg, err := Load("testdata/config.example.toml")
	if err != nil {
		t.Fatalf("the example config does not load:\n%v", err)
	}
	if cfg.Poll != time.Minute || cfg.Conns != 4 || cfg.LogLevel != "info" || cfg.CacheDir != "/home/u/.cache/mailfs" {
		t.Errorf("defaults = poll %v, conns %d, log %q, cache %q", cfg.Poll, cfg.Conns, cfg.LogLevel, cfg.CacheDir)
	}
	var names []string
	for _, a := range cfg.Accounts {
		names = append(names, a.Name)
	}
	if want := []string{"gmail", "work", "fastmail", "aws", "home server"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("accounts %q, want %q", names, want)
	}
	gmail, work, fm, aws, home := cfg.Accounts[0], cfg.Accounts[1], cfg.Accounts[2], cfg.Accounts[3], cfg.Accounts[4]
	if gmail.CacheDir != "/home/u/.cache/mailfs/gmail" {
		t.Errorf("gmail cache %q", gmail.CacheDir)
	}
	if !work.Since.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("work since %v", work.Since)
	}
	if !reflect.DeepEqual(fm.Formats, []string{"eml", "pdf"}) || !reflect.DeepEqual(gmail.Formats, []string{"eml"}) {
		t.Errorf("formats: fastmail %q, gmail %q", fm.Formats, gmail.Formats)
	}
	if aws.PasswordFile != "/home/u/.config/mailfs/aws.pass" {
		t.Errorf("aws password file %q", aws.PasswordFile)
	}
	if home.Conns != 2 || home.CacheDir != "/var/backups/mail/home" || home.TLS != "starttls" ||
		!home.Before.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("home server: %+v", home)
	}
	if gmail.Line == 0 || work.Line <= gmail.Line {
		t.Errorf("account lines %d, %d", gmail.Line, work.Line)
	}

	// Filters: the preset hides All Mail; the user's excludes stay.
	f := gmail.Filter()
	for folder, want := range map[string]bool{"INBOX": true, "[Gmail]/All Mail": false, "[Gmail]/Spam": false, "[Gmail]/Sent Mail": true} {
		if got := f.Folder(folder, '/'); got != want {
			t.Errorf("gmail filter: Folder(%q) = %v, want %v", folder, got, want)
		}
	}
	for _, a := range cfg.Accounts {
		if a.ReadWrite {
			t.Errorf("account %q is read-write by default", a.Name)
		}
	}
	gmail.ShowAllMail = true
	if !gmail.Filter().Folder("[Gmail]/All Mail", '/') {
		t.Error("show_all_mail does not show All Mail")
	}

	// Source configs without reading any secret (tokens are not run here).
	sc, err := work.SourceConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sc.Addr != "outlook.office365.com:993" || sc.TLS != imapsrc.TLSImplicit || sc.TokenCmd != "pizauth show work" || sc.Password != "" {
		t.Errorf("work source config %+v", sc)
	}
	t.Setenv("HOME_MAIL_PASSWORD", "s3cret")
	sc, err = home.SourceConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sc.Addr != "mail.home.example:143" || sc.TLS != imapsrc.TLSStartTLS || sc.Password != "s3cret" || sc.Conns != 2 {
		t.Errorf("home source config %+v", sc)
	}
}

func TestConfigSourceConfig(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("file-secret\nignored\n"), 0o600)
	cfg, err := Load(writeConfig(t, `
[[account]]
name = "a"
provider = "workmail"
region = "us-west-2"
user = "u"
password_file = "`+pwFile+`"

[[account]]
name = "b"
server = "imap.example.com"
user = "u"
password_cmd = "printf 'cmd-secret\nmore\n'"

[[account]]
name = "c"
provider = "yandex"
server = "imap.yandex.ru"
user = "u"
password_env = "MAILFS_TEST_UNSET_VAR"
`))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := cfg.Account("a")
	sc, err := a.SourceConfig()
	if err != nil || sc.Addr != "imap.mail.us-west-2.awsapps.com:993" || sc.Password != "file-secret" {
		t.Errorf("a: %+v, %v", sc, err)
	}
	b, _ := cfg.Account("b")
	sc, err = b.SourceConfig()
	if err != nil || sc.Addr != "imap.example.com" || sc.TLS != imapsrc.TLSImplicit || sc.Password != "cmd-secret" || sc.Conns != 4 {
		t.Errorf("b: %+v, %v", sc, err)
	}
	c, _ := cfg.Account("c")
	if _, err = c.SourceConfig(); err == nil || !strings.Contains(err.Error(), "MAILFS_TEST_UNSET_VAR is not set") {
		t.Errorf("c: %v", err)
	}

	// The file became readable by others after loading: refused at read time.
	os.Chmod(pwFile, 0o644)
	if _, err := a.SourceConfig(); err == nil || !strings.Contains(err.Error(), "chmod 600") || strings.Contains(err.Error(), "file-secret") {
		t.Errorf("a after chmod 644: %v", err)
	}
	// A failing command: its output is not in the error.
	b.PasswordCmd = "echo leaked-secret; exit 1"
	if _, err := b.SourceConfig(); err == nil || strings.Contains(err.Error(), "leaked-secret") || !strings.Contains(err.Error(), `account "b": password_cmd: command failed`) {
		t.Errorf("b failing: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open.pass")
	os.WriteFile(open, []byte("pw"), 0o644)
	tests := []struct {
		name string
		text string
		want []string // substrings of the error, in order of lines
	}{
		{"unknown top-level key", "poll = \"5m\"\npol = \"5m\"\n",
			[]string{`:2: unknown key "pol" (did you mean "poll"?)`}},
		{"unknown account key", "[[account]]\nname = \"a\"\nserver = \"x\"\nuser = \"u\"\npassword_cmd = \"x\"\n\n[[account]]\nname = \"b\"\nserver = \"x\"\nuser = \"u\"\npasswrd_cmd = \"x\"\n",
			[]string{`:11: unknown key "passwrd_cmd" in [[account]] (did you mean "password_cmd"?)`}},
		{"unknown table", "[accounts]\nname = \"a\"\n",
			[]string{`:1: unknown key "accounts"`}},
		{"syntax error", "poll = \"5m\"\nconns = \n",
			[]string{`:2:`}},
		{"wrong type", "conns = \"four\"\n",
			[]string{`:1: conns:`}},
		{"list wanted", "formats = \"eml\"\n", []string{`:1: formats: want a list of strings`}},
		{"bool wanted", "[[account]]\nshow_all_mail = \"yes\"\n", []string{`:2: show_all_mail: want true or false`}},
		{"bad poll", "poll = \"often\"\n", []string{`:1: poll: want a duration`}},
		{"bad log level", "\n\nlog_level = \"loud\"\n", []string{`:3: log_level: unknown level "loud"`}},
		{"bad top formats", "formats = [\"eml\", \"doc\"]\n", []string{`:1: formats: unknown format "doc"`}},
		{"missing name and user", "[[account]]\nserver = \"x\"\npassword_cmd = \"x\"\n",
			[]string{`:1: name: missing`, `:1: user: missing`}},
		{"neither provider nor server", "[[account]]\nname = \"a\"\nuser = \"u\"\npassword_cmd = \"x\"\n",
			[]string{`:1: account "a": neither provider nor server`}},
		{"unknown provider", "[[account]]\nname = \"a\"\nuser = \"u\"\nprovider = \"gmial\"\npassword_cmd = \"x\"\n",
			[]string{`:4: account "a": provider: unknown provider "gmial" (known: gmail, outlook`}},
		{"two credentials", "[[account]]\nname = \"a\"\nuser = \"u\"\nserver = \"x\"\npassword_cmd = \"x\"\npassword_env = \"X\"\n",
			[]string{`:6: account "a": password_env: two credential sources (password_cmd and password_env): keep one`}},
		{"no credential", "[[account]]\nname = \"a\"\nuser = \"u\"\nserver = \"x\"\n",
			[]string{`:1: account "a": no credential`}},
		{"password file readable by others", "[[account]]\nname = \"a\"\nuser = \"u\"\nserver = \"x\"\npassword_file = \"" + open + "\"\n",
			[]string{`:5: account "a": password_file: ` + open + ` is readable by group or others (mode 0644): chmod 600 it`}},
		{"bad date", "[[account]]\nname = \"a\"\nuser = \"u\"\nserver = \"x\"\npassword_cmd = \"x\"\nsince = 2024-13-01\n",
			[]string{`:6:`}},
		{"bad date string", "[[account]]\nname = \"a\"\nuser = \"u\"\nserver = \"x\"\npassword_cmd = \"x\"\nsince = \"last year\"\n",
			[]string{`:6:`}},
		{"since after before", "[[account]]\nname = \"a\"\nuser = \"u\"\nserver = \"x\"\npassword_cmd = \"x\"\nsince = 2024-01-01\nbefore = 2023-01-01\n",
			[]string{`:7: account "a": before: 2023-01-01 is not after since 2024-01-01`}},
		{"duplicate names", "[[account]]\nname = \"a\"\nuser = \"u\"\nserver = \"x\"\npassword_cmd = \"x\"\n[[account]]\nname = \"A\"\nuser = \"u\"\nserver = \"x\"\npassword_cmd = \"x\"\n",
			[]string{`:7: account "A": name already used by the account at line 2`}},
		{"slash in name", "[[account]]\nname = \"a/b\"\nuser = \"u\"\nserver = \"x\"\npassword_cmd = \"x\"\n",
			[]string{`:2: account "a/b": name: "a/b" holds one of /`}},
		{"keys in another case", "[[Account]]\nNAME = \"a/b\"\nuser = \"u\"\nserver = \"x\"\npassword_cmd = \"x\"\n",
			[]string{`:2: account "a/b": name: "a/b" holds one of /`}},
		{"dot-dot name", "[[account]]\nname = \"..\"\nuser = \"u\"\nserver = \"x\"\npassword_cmd = \"x\"\n",
			[]string{`:2: account "..": name: ".." is not a usable directory name`}},
		{"hidden name", "[[account]]\nname = \".mail\"\nuser = \"u\"\nserver = \"x\"\npassword_cmd = \"x\"\n",
			[]string{`starts with a dot`}},
		{"outlook with password", "[[account]]\nname = \"a\"\nuser = \"u\"\nprovider = \"office365\"\npassword_cmd = \"x\"\n",
			[]string{`:5: account "a": password_cmd: Outlook.com / Microsoft 365 accepts only OAuth2`}},
		{"icloud with token", "[[account]]\nname = \"a\"\nuser = \"u\"\nprovider = \"icloud\"\noauth_token_cmd = \"x\"\n",
			[]string{`:5: account "a": oauth_token_cmd: iCloud Mail takes no OAuth2 tokens`}},
		{"workmail without region", "[[account]]\nname = \"a\"\nuser = \"u\"\nprovider = \"workmail\"\npassword_cmd = \"x\"\n",
			[]string{`:1: account "a": region: provider workmail needs a region`}},
		{"region for gmail", "[[account]]\nname = \"a\"\nuser = \"u\"\nprovider = \"gmail\"\nregion = \"us-east-1\"\npassword_cmd = \"x\"\n",
			[]string{`:5: account "a": region: only for a provider`}},
		{"bad tls", "[[account]]\nname = \"a\"\nuser = \"u\"\nserver = \"x\"\ntls = \"ssl\"\npassword_cmd = \"x\"\n",
			[]string{`:5: account "a": tls: unknown TLS mode "ssl"`}},
		{"bad auth", "[[account]]\nname = \"a\"\nuser = \"u\"\nserver = \"x\"\nauth = \"xoauth2\"\npassword_cmd = \"x\"\n",
			[]string{`:5: account "a": auth: login by XOAUTH2 needs a token command`}},
		{"bad glob", "[[account]]\nname = \"a\"\nuser = \"u\"\nserver = \"x\"\npassword_cmd = \"x\"\nexclude = [\"[a-\"]\n",
			[]string{`:6: account "a": exclude: bad folder pattern "[a-"`}},
		{"show_all_mail not gmail", "[[account]]\nname = \"a\"\nuser = \"u\"\nserver = \"x\"\npassword_cmd = \"x\"\nshow_all_mail = true\n",
			[]string{`:6: account "a": show_all_mail: only for`}},
		{"unknown protocol", "[[account]]\nname = \"a\"\nuser = \"u\"\nserver = \"x\"\npassword_cmd = \"x\"\nprotocol = \"imap4\"\n",
			[]string{`:6: account "a": protocol: unknown protocol "imap4"`}},
		{"pop3 with a preset", "[[account]]\nname = \"a\"\nuser = \"u\"\nprovider = \"gmail\"\noauth_token_cmd = \"x\"\nprotocol = \"pop3\"\n",
			[]string{`account "a": provider: presets are for IMAP`}},
		{"conns out of range", "[[account]]\nname = \"a\"\nuser = \"u\"\nserver = \"x\"\npassword_cmd = \"x\"\nconns = 0\n",
			[]string{`:6: account "a": conns: 0 is out of range`}},
		{"several problems, sorted by line", "log_level = \"loud\"\n[[account]]\nname = \"a\"\nuser = \"u\"\nserver = \"x\"\npassword_cmd = \"x\"\ntls = \"ssl\"\n",
			[]string{`:1: log_level`, `:7: account "a": tls`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.text)
			_, err := Load(path)
			if err == nil {
				t.Fatalf("LoadConfig succeeded, want errors %q", tt.want)
			}
			msg := err.Error()
			t.Logf("%s", msg)
			rest := msg
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("error\n%s\ndoes not contain %q (in order)", msg, w)
					break
				}
				rest = rest[i+len(w):]
			}
			for _, line := range strings.Split(msg, "\n") {
				if !strings.HasPrefix(line, path+":") {
					t.Errorf("error line %q does not start with the file name", line)
				}
			}
		})
	}
}

func TestConfigMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
}

func TestConfigDefaultPath(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	if p, err := DefaultPath(); err != nil || p != "/xdg/mailfs/config.toml" {
		t.Errorf("DefaultPath() = %q, %v", p, err)
	}
	// An empty path means the default.
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	os.MkdirAll(filepath.Join(dir, "mailfs"), 0o700)
	os.WriteFile(filepath.Join(dir, "mailfs", "config.toml"), []byte("poll = \"2m\"\n"), 0o600)
	cfg, err := Load("")
	if err != nil || cfg.Poll != 2*time.Minute {
		t.Errorf("Load(\"\") = %+v, %v", cfg, err)
	}
}

func TestCheckDirName(t *testing.T) {
	for name, ok := range map[string]bool{
		"gmail": true, "Work Mail": true, "ü@例え": true, "a.b": true,
		"": false, ".": false, "..": false, ".x": false, "a/b": false, "a\x00b": false,
		" a": false, "a:b": false, strings.Repeat("x", 256): false, "\xff": false,
	} {
		if got := checkDirName(name) == ""; got != ok && name != "" {
			t.Errorf("checkDirName(%q) = %q, want ok=%v", name, checkDirName(name), ok)
		}
	}
}

// read_write at the top level is every account's default; an account's
// own value wins.
func TestConfigReadWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.toml")
	acct := func(name, extra string) string {
		return "[[account]]\nname = \"" + name + "\"\nserver = \"x\"\nuser = \"u\"\npassword_cmd = \"x\"\n" + extra
	}
	body := "read_write = true\n" + acct("a", "") + acct("b", "read_write = false\n")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Accounts[0].ReadWrite || cfg.Accounts[1].ReadWrite {
		t.Errorf("read_write: a %v (want true), b %v (want false)", cfg.Accounts[0].ReadWrite, cfg.Accounts[1].ReadWrite)
	}
}

func TestConfigProtocol(t *testing.T) {
	cfg, err := Load(writeConfig(t, "[[account]]\nname = \"old\"\nuser = \"u\"\nserver = \"pop.example.com\"\npassword_cmd = \"echo x\"\nprotocol = \"pop3\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Accounts[0]; a.Protocol != ProtoPOP3 {
		t.Errorf("protocol = %q", a.Protocol)
	}
}

// "sums" (each folder's SHA256SUMS) is a format a config file may name.
func TestConfigFormatsSums(t *testing.T) {
	path := writeConfig(t, "formats = [\"eml\", \"sums\"]\n[[account]]\nname = \"a\"\nserver = \"x\"\nuser = \"u\"\npassword_cmd = \"x\"\n")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Accounts[0].Formats; !reflect.DeepEqual(got, []string{"eml", "sums"}) {
		t.Errorf("formats %q", got)
	}
}
