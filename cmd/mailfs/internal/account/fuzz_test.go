package account

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// checkFileError fails unless err is a *fileError for file whose every
// problem has a line within doc (1 to its line count + 1).
func checkFileError(t *testing.T, err error, file string, doc []byte) {
	t.Helper()
	var ferr *fileError
	if !errors.As(err, &ferr) {
		t.Fatalf("error %T is not a *fileError: %v", err, err)
	}
	if ferr.File != file || len(ferr.Problems) == 0 {
		t.Fatalf("fileError of %q with %d problems", ferr.File, len(ferr.Problems))
	}
	maxLine := strings.Count(string(doc), "\n") + 1
	for _, p := range ferr.Problems {
		if p.Line < 1 || p.Line > maxLine || p.Msg == "" {
			t.Errorf("problem at line %d of %d: %q", p.Line, maxLine, p.Msg)
		}
	}
}

// FuzzParseConfig: the config parser never panics; what it refuses it
// refuses with a line; what it accepts is a config whose accounts check
// out, and whose [[account]] tables, written as Import writes them, load
// back the same.
func FuzzParseConfig(f *testing.F) {
	if doc, err := os.ReadFile("testdata/config.example.toml"); err == nil {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		const path = "/fuzz/config.toml"
		cfg, fc, err := parseConfig(path, doc)
		if err != nil {
			checkFileError(t, err, path, doc)
			return
		}
		for _, a := range cfg.Accounts {
			if err := a.Check(); err != nil {
				t.Fatalf("accepted account does not check: %v", err)
			}
		}
		if len(fc.Account) == 0 {
			return
		}
		text, err := marshalAccounts(fc.Account)
		if err != nil {
			t.Fatalf("marshal accepted accounts: %v", err)
		}
		_, fc2, err := parseConfig(path, text)
		if err != nil {
			t.Fatalf("written accounts do not load: %v\n%s", err, text)
		}
		if !reflect.DeepEqual(fc.Account, fc2.Account) {
			t.Fatalf("written accounts load differently:\n%+v\n%+v\n%s", fc.Account, fc2.Account, text)
		}
	})
}

// FuzzImportCSV: the CSV import never panics; a refused file is refused
// with lines and writes nothing; an accepted one gives a config file that
// loads with every row's account.
func FuzzImportCSV(f *testing.F) {
	f.Add([]byte(goodCSV))
	f.Add([]byte("\ufeffname,user,server,password_file\r\nx,u,imap.x,pw\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		csvPath := filepath.Join(dir, "a.csv")
		cfgPath := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(csvPath, data, 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := Import(cfgPath, csvPath, false)
		if err != nil {
			checkFileError(t, err, csvPath, data)
			if _, statErr := os.Stat(cfgPath); statErr == nil {
				t.Fatal("a refused import wrote the config file")
			}
			return
		}
		if len(res.Added) != res.Rows || res.BadRows != 0 {
			t.Fatalf("result %+v", res)
		}
		if res.Rows == 0 {
			return
		}
		cfg, err := Load(cfgPath)
		if err != nil {
			t.Fatalf("imported config does not load: %v", err)
		}
		var names []string
		for _, a := range cfg.Accounts {
			names = append(names, a.Name)
		}
		if !reflect.DeepEqual(names, res.Added) {
			t.Fatalf("accounts %q, want %q", names, res.Added)
		}
	})
}
