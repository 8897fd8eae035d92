package account

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, text string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

const goodCSV = `name,user,provider,server,tls,password_cmd,password_file,oauth_token_cmd
personal,me@gmail.com,gmail,,,,,oama access me@gmail.com
work,me@example.com,office365,,,,,pizauth show work
home,me,,mail.home.example:143,starttls,pass show mail/home,,
`

func TestImportIntoNewConfig(t *testing.T) {
	dir := t.TempDir()
	csvPath := writeFile(t, dir, "accounts.csv", goodCSV, 0o644)
	cfgPath := filepath.Join(dir, "conf", "mailfs", "config.toml")

	res, err := Import(cfgPath, csvPath, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"personal", "work", "home"}; !reflect.DeepEqual(res.Added, want) || res.Replaced != nil || res.Rows != 3 {
		t.Errorf("result %+v, want added %q", res, want)
	}
	fi, err := os.Stat(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("config mode %v, want 0600", fi.Mode().Perm())
	}
	cfg, err := Load(cfgPath)
	if err != nil {
		t.Fatalf("written config does not load: %v", err)
	}
	var got []string
	for _, a := range cfg.Accounts {
		got = append(got, a.Name+"|"+a.User+"|"+a.Provider+"|"+a.Server+"|"+a.TLS+"|"+a.PasswordCmd+"|"+a.OAuthTokenCmd)
	}
	want := []string{
		"personal|me@gmail.com|gmail||||oama access me@gmail.com",
		"work|me@example.com|outlook||||pizauth show work", // the alias is written as the preset's name
		"home|me||mail.home.example:143|starttls|pass show mail/home|",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("accounts:\n%q\nwant\n%q", got, want)
	}
	assertNoTempFiles(t, filepath.Dir(cfgPath))
}

func TestImportKeepsExistingConfig(t *testing.T) {
	dir := t.TempDir()
	existing := `# my mail
poll = "5m"   # slow

# the old one
[[account]]
name = "old"
server = "imap.old.example"
user = "me"
password_env = "OLD_PW"   # kept as it is
`
	cfgPath := writeFile(t, dir, "config.toml", existing, 0o600)
	csvPath := writeFile(t, dir, "a.csv", "user,name,provider\r\nme@gmail.com,new,gmail\r\n", 0o644)
	// No credential column: a row without credential is bad.
	if _, err := Import(cfgPath, csvPath, false); err == nil || !strings.Contains(err.Error(), "a.csv:2: account \"new\": no credential") {
		t.Fatalf("Import: %v", err)
	}
	csvPath = writeFile(t, dir, "a.csv", "user,name,provider,password_cmd\r\nme@gmail.com,new,gmail,pass gmail\r\n", 0o644)
	if _, err := Import(cfgPath, csvPath, false); err != nil {
		t.Fatal(err)
	}
	doc, _ := os.ReadFile(cfgPath)
	if !strings.HasPrefix(string(doc), existing) {
		t.Errorf("the existing text was not kept:\n%s", doc)
	}
	cfg, err := Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Accounts) != 2 || cfg.Accounts[1].Name != "new" || cfg.Accounts[1].PasswordCmd != "pass gmail" {
		t.Errorf("accounts %+v", cfg.Accounts)
	}
}

func TestImportBadRows(t *testing.T) {
	dir := t.TempDir()
	open := writeFile(t, dir, "open.pass", "pw", 0o644)
	existing := "[[account]]\nname = \"taken\"\nserver = \"x\"\nuser = \"u\"\npassword_cmd = \"x\"\n"
	cfgPath := writeFile(t, dir, "config.toml", existing, 0o600)
	before, _ := os.Stat(cfgPath)
	csv := "name,user,provider,server,tls,password_cmd,password_file,oauth_token_cmd\n" +
		"ok,u,gmail,,,pass x,,\n" + // 2: fine
		",u,gmail,,,pass x,,\n" + // 3: no name
		"nouser,,gmail,,,pass x,,\n" + // 4: no user
		"noserver,u,,,,pass x,,\n" + // 5: neither provider nor server
		"badprov,u,gmial,,,pass x,,\n" + // 6: unknown provider
		"twocreds,u,gmail,,,pass x,,oama x\n" + // 7: two credentials
		"openfile,u,,imap.x,,," + open + ",\n" + // 8: readable password file
		"taken,u,,imap.x,,pass x,,\n" + // 9: already in the config
		"ok,u,,imap.x,,pass x,,\n" + // 10: twice in the CSV
		"\"multi\nline\",u,,imap.x,ssl,pass x,,\n" + // 11-12: bad name and tls
		"short,u\n" // 13: too few cells
	csvPath := writeFile(t, dir, "accounts.csv", csv, 0o644)

	res, err := Import(cfgPath, csvPath, false)
	if err == nil {
		t.Fatal("Import succeeded with bad rows")
	}
	if res.BadRows != 10 || res.Rows != 11 || res.Added != nil {
		t.Errorf("result %+v, want 10 of 11 rows bad and nothing added", res)
	}
	errs := err.Error()
	t.Logf("error:\n%s", errs)
	wants := []string{
		"accounts.csv:3: name: missing",
		`accounts.csv:4: account "nouser": user: missing`,
		`accounts.csv:5: account "noserver": neither provider nor server`,
		`accounts.csv:6: account "badprov": provider: unknown provider "gmial"`,
		`accounts.csv:7: account "twocreds": oauth_token_cmd: two credential sources (password_cmd and oauth_token_cmd)`,
		`accounts.csv:8: account "openfile": password_file: ` + open + ` is readable by group or others`,
		`accounts.csv:9: account "taken": already in ` + cfgPath + ` (line 1): use --replace`,
		`accounts.csv:10: account "ok": name already used on line 2`,
		`accounts.csv:11: account "multi\nline": name: "multi\nline" holds a control character`,
		`accounts.csv:12: account "multi\nline": tls: unknown TLS mode "ssl"`,
		"accounts.csv:13: 2 cells, but the header has 8 columns",
	}
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	for _, w := range wants {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, csvPath+":") && strings.Contains(l, strings.ReplaceAll(w, "\n", `\n`)) {
				found = true
			}
		}
		if !found {
			t.Errorf("stderr lacks %q", w)
		}
	}
	after, _ := os.Stat(cfgPath)
	doc, _ := os.ReadFile(cfgPath)
	if string(doc) != existing || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the config changed although rows were bad:\n%s", doc)
	}
	assertNoTempFiles(t, dir)
}

func TestImportHeaderErrors(t *testing.T) {
	tests := []struct{ name, csv, want string }{
		{"unknown column", "name,user,provider,pasword_cmd\n", `x.csv:1: unknown column "pasword_cmd" (did you mean "password_cmd"?)`},
		{"missing user", "name,provider\n", `x.csv:1: no "user" column (required)`},
		{"no provider or server", "name,user,password_cmd\n", `x.csv:1: neither a "provider" nor a "server" column`},
		{"twice", "name,user,server,Name\n", `x.csv:1: column "name" appears twice`},
		{"empty", "", "x.csv:1: empty: want a header row"},
		{"bare quote", "name,user,server\na,b\"c,d\n", "x.csv:2: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			csvPath := writeFile(t, dir, "x.csv", tt.csv, 0o644)
			cfgPath := filepath.Join(dir, "config.toml")
			if _, err := Import(cfgPath, csvPath, false); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Import: %v\nwant %q", err, tt.want)
			}
			if _, err := os.Stat(cfgPath); err == nil {
				t.Error("a config file was written")
			}
		})
	}
}

func TestImportReplace(t *testing.T) {
	dir := t.TempDir()
	existing := `poll = "2m"

# Personal mail
[[account]]
name = "personal"
provider = "gmail"
user = "old@gmail.com"
password_cmd = "pass old"
exclude = ["[Gmail]/Spam"]   # my filter
since = 2020-01-01

# Work: keep this comment
[[account]]
name = "work"
server = "imap.work.example"
user = "me"
password_env = "WORK_PW"
`
	cfgPath := writeFile(t, dir, "config.toml", existing, 0o600)
	// A symlinked config (dotfiles) stays a symlink to the file written.
	link := filepath.Join(dir, "link.toml")
	if err := os.Symlink(cfgPath, link); err != nil {
		t.Fatal(err)
	}
	csvPath := writeFile(t, dir, "a.csv", "\ufeffname,user,provider,oauth_token_cmd\nPersonal,new@gmail.com,gmail,oama access new@gmail.com\nextra,x@gmail.com,gmail,oama access x\n", 0o644)

	if _, err := Import(link, csvPath, false); err == nil || !strings.Contains(err.Error(), `a.csv:2: account "Personal": already in`) {
		t.Fatalf("without replace: %v", err)
	}
	res, err := Import(link, csvPath, true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Added, []string{"extra"}) || !reflect.DeepEqual(res.Replaced, []string{"Personal"}) {
		t.Errorf("result %+v", res)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v, %v", fi.Mode(), err)
	}
	doc, _ := os.ReadFile(cfgPath)
	text := string(doc)
	t.Logf("merged:\n%s", text)
	for _, keep := range []string{"poll = \"2m\"\n\n# Personal mail\n[[account]]\n", "\n# Work: keep this comment\n[[account]]\nname = \"work\"\nserver = \"imap.work.example\"\nuser = \"me\"\npassword_env = \"WORK_PW\"\n"} {
		if !strings.Contains(text, keep) {
			t.Errorf("merged config lost %q", keep)
		}
	}
	cfg, err := Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Accounts) != 3 {
		t.Fatalf("%d accounts", len(cfg.Accounts))
	}
	p := cfg.Accounts[0]
	if p.Name != "Personal" || p.User != "new@gmail.com" || p.OAuthTokenCmd != "oama access new@gmail.com" || p.PasswordCmd != "" {
		t.Errorf("replaced account: %+v", p)
	}
	if !reflect.DeepEqual(p.Exclude, []string{"[Gmail]/Spam"}) || p.Since.IsZero() {
		t.Errorf("replaced account lost its filters: %+v", p)
	}
	if cfg.Accounts[1].Name != "work" || cfg.Accounts[2].Name != "extra" {
		t.Errorf("order: %q, %q", cfg.Accounts[1].Name, cfg.Accounts[2].Name)
	}
	fi, _ := os.Stat(cfgPath)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	assertNoTempFiles(t, dir)
}

func TestImportRefusesBrokenConfig(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "config.toml", "polll = \"1m\"\n", 0o600)
	csvPath := writeFile(t, dir, "a.csv", goodCSV, 0o644)
	_, err := Import(cfgPath, csvPath, false)
	if err == nil || !strings.Contains(err.Error(), "fix them first") || !strings.Contains(err.Error(), cfgPath+`:1: unknown key "polll"`) {
		t.Errorf("Import: %v", err)
	}
}

func TestImportRelativePasswordFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "pw", "secret", 0o600)
	t.Chdir(dir)
	csvPath := writeFile(t, dir, "a.csv", "name,user,server,password_file\nx,u,imap.x,pw\n", 0o644)
	cfgPath := filepath.Join(dir, "sub", "config.toml")
	if _, err := Import(cfgPath, csvPath, false); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Accounts[0].PasswordFile; got != filepath.Join(dir, "pw") {
		t.Errorf("password file %q, want the one next to the CSV", got)
	}
	sc, err := cfg.Accounts[0].SourceConfig()
	if err != nil || sc.Password != "secret" {
		t.Errorf("SourceConfig: %v", err)
	}
}

func TestTrimTrailingComments(t *testing.T) {
	doc := "[[account]]\nname = \"a\"\n# about b\n\n[[account]]\n"
	end := trimTrailingComments([]byte(doc), 0, strings.Index(doc, "[[account]]\n\n")+len(doc)-len("[[account]]\n"))
	if got := doc[:end]; got != "[[account]]\nname = \"a\"\n" {
		t.Errorf("block %q", got)
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".part-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}
