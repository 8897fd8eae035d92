package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// An older mailfs kept every account's default cache at USER@HOST. The
// first run that finds only that folder moves it to the account's own
// (USER@HOST:PORT from flags, NAME from a config file) and downloads
// nothing again. While a mount holds the older cache, the run fails,
// naming that mount, and moves nothing.
func TestOlderCacheIsMoved(t *testing.T) {
	srv := seed(t)
	xdg := t.TempDir()
	host, port, err := net.SplitHostPort(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(xdg, "mailfs", srv.User+"@"+host)
	sync := func(args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(binary, append([]string{"sync", "--log-level", "info"}, args...)...)
		cmd.Env = append(withoutPassword(), "MAILFS_PASSWORD="+srv.Password, "XDG_CACHE_HOME="+xdg)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	flags := []string{"--server", srv.Addr, "--tls", "starttls", "--tls-ca", srv.CAFile, "--user", srv.User}
	fillOld := func() int {
		t.Helper()
		if out, err := sync(append(flags, "--cache", old)...); err != nil {
			t.Fatalf("sync into the older cache: %v\n%s", err, out)
		}
		return bodyFetches(t, srv)
	}
	exists := func(dir string) bool {
		_, err := os.Stat(filepath.Join(dir, "meta.db"))
		return err == nil
	}

	fetched := fillOld()
	m := mount(t, srv, old)
	out, err := sync(flags...)
	if err == nil || !strings.Contains(out, "in use by another mailfs") || !strings.Contains(out, fmt.Sprintf("pid %d", m.cmd.Process.Pid)) {
		t.Errorf("sync while a mount holds the older cache: %v\n%s", err, out)
	}
	if !exists(old) {
		t.Fatalf("the older cache was moved while in use")
	}
	m.stop(t)

	dir := filepath.Join(xdg, "mailfs", srv.User+"@"+net.JoinHostPort(host, port))
	out, err = sync(flags...)
	if err != nil {
		t.Fatalf("sync: %v\n%s", err, out)
	}
	if !exists(dir) || exists(old) {
		t.Errorf("after the sync: the account's cache there %v, the older one there %v; want it moved", exists(dir), exists(old))
	}
	if !strings.Contains(out, "moved the older cache") {
		t.Errorf("the move is not logged:\n%s", out)
	}
	if n := bodyFetches(t, srv) - fetched; n != 0 {
		t.Errorf("the sync after the move fetched %d bodies, want 0", n)
	}

	// An account of the config file: its cache is named after it.
	fetched = fillOld()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(srv.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "config.toml")
	text := fmt.Sprintf("[[account]]\nname = \"work\"\nserver = %q\ntls = \"starttls\"\ntls_ca = %q\nuser = %q\npassword_file = %q\n", srv.Addr, srv.CAFile, srv.User, pw)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := sync("--config", cfg); err != nil {
		t.Fatalf("sync --config: %v\n%s", err, out)
	}
	if work := filepath.Join(xdg, "mailfs", "work"); !exists(work) || exists(old) {
		t.Errorf("after the sync: the account's cache there %v, the older one there %v; want it moved", exists(work), exists(old))
	}
	if n := bodyFetches(t, srv) - fetched; n != 0 {
		t.Errorf("the sync of the config's account after the move fetched %d bodies, want 0", n)
	}
}
