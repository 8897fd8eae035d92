package account

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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
		pw, err := imapsrc.RunSecretCmd(context.Background(), a.PasswordCmd, secretCmdTimeout, os.Stderr)
		if err == nil && pw == "" {
			err = errors.New("command printed no password")
		}
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
