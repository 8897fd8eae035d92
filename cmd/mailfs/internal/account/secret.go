package account

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"mailfs/imapsrc"
)

// secretCmdTimeout bounds a password command; it may wait for a passphrase.
var secretCmdTimeout = 2 * time.Minute

// SourceConfig resolves the preset and reads the password (running
// password_cmd, reading password_file or password_env now), giving what
// imapsrc.Dial needs. An OAuth2 token command is passed on, not run: the
// source runs it when it logs in. Errors name the account, never a secret.
func (a Account) SourceConfig() (imapsrc.Config, error) {
	fail := func(format string, args ...any) (imapsrc.Config, error) {
		return imapsrc.Config{}, a.fail(format, args...)
	}
	if err := a.Check(); err != nil {
		return imapsrc.Config{}, err
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
