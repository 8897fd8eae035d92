package main

// Tests that need a real terminal: the password prompt, and zsh's
// completion (zsh completes only in its line editor, on a terminal). The
// terminal is a pseudo-terminal opened through /dev/ptmx with
// golang.org/x/sys/unix, already a dependency.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mailfs/cache"
	"mailfs/fs/mountinfo"
	"mailfs/imapsrc/dovecottest/syncbuf"
)

// ptyProc is a command running on its own pseudo-terminal.
type ptyProc struct {
	cmd    *exec.Cmd
	master *os.File
	slave  *os.File // kept open to read the terminal's modes
	out    syncbuf.Buffer
	read   chan struct{} // closed when the terminal's output ended
	done   chan error
}

// startPTY starts cmd with a new terminal as its controlling terminal
// and stdin, stdout and stderr.
func startPTY(t *testing.T, cmd *exec.Cmd) *ptyProc {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock the pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the pty's terminal: %v", err)
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 200}); err != nil {
		t.Fatal(err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	p := &ptyProc{cmd: cmd, master: master, slave: slave, read: make(chan struct{}), done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.read)
		b := make([]byte, 4096)
		for {
			k, err := master.Read(b)
			p.out.Write(b[:k])
			if err != nil { // EIO once every process closed the terminal
				return
			}
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		slave.Close()
		master.Close()
	})
	return p
}

// wait waits up to d for cond, failing the test with what the terminal
// showed.
func (p *ptyProc) wait(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %v; the terminal shows:\n%q", what, d, p.out.String())
		}
	}
}

// echoOff tells whether the terminal echoes no more what is typed.
func (p *ptyProc) echoOff() bool {
	tio, err := unix.IoctlGetTermios(int(p.slave.Fd()), unix.TCGETS)
	return err == nil && tio.Lflag&unix.ECHO == 0
}

// exit waits for the command's exit and the end of its output.
func (p *ptyProc) exit(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.slave.Close()
		select {
		case <-p.read:
		case <-time.After(5 * time.Second):
		}
		return err
	case <-time.After(d):
		p.cmd.Process.Kill()
		t.Fatalf("did not exit after %v; the terminal shows:\n%q", d, p.out.String())
		return nil
	}
}

// typePassword waits for the prompt and for the echo to be off, then
// types pw and Enter.
func (p *ptyProc) typePassword(t *testing.T, user, pw string) {
	t.Helper()
	p.wait(t, "password prompt", 20*time.Second, func() bool {
		return strings.Contains(p.out.String(), "Password for "+user+" at ")
	})
	p.wait(t, "terminal without echo", 5*time.Second, p.echoOff)
	if _, err := p.master.WriteString(pw + "\r"); err != nil {
		t.Fatal(err)
	}
}

// withoutPassword is the environment without MAILFS_PASSWORD.
func withoutPassword() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "MAILFS_PASSWORD=") })
}

// Without a configured password, on a terminal, sync and mount ask for it
// with the echo off, and it works: sync fills the cache, the mount serves
// it. The password appears nowhere on the terminal.
func TestPasswordPromptOnTerminal(t *testing.T) {
	needFUSE(t)
	srv := seed(t)
	cacheDir := t.TempDir()
	base := []string{"--server", srv.Addr, "--tls", "starttls", "--tls-ca", srv.CAFile, "--user", srv.User, "--cache", cacheDir}

	cmd := exec.Command(binary, append([]string{"sync"}, base...)...)
	cmd.Env = append(withoutPassword(), "TERM=xterm")
	p := startPTY(t, cmd)
	p.typePassword(t, srv.User, srv.Password)
	if err := p.exit(t, 60*time.Second); err != nil {
		t.Fatalf("sync: %v\n%q", err, p.out.String())
	}
	if strings.Contains(p.out.String(), srv.Password) {
		t.Errorf("the password was echoed:\n%q", p.out.String())
	}
	if !regexp.MustCompile(`done, \d+ new`).MatchString(p.out.String()) {
		t.Errorf("sync did not report its summary:\n%q", p.out.String())
	}
	if n := bodyFetches(t, srv); n != messageCount(srv) {
		t.Errorf("sync fetched %d bodies, want %d", n, messageCount(srv))
	}

	dir := t.TempDir()
	cmd = exec.Command(binary, append(append([]string{"mount"}, base...), dir)...)
	cmd.Env = append(withoutPassword(), "TERM=xterm")
	p = startPTY(t, cmd)
	p.typePassword(t, srv.User, srv.Password)
	p.wait(t, "mount", 20*time.Second, func() bool { return mountinfo.IsMounted(dir) })
	entries, err := os.ReadDir(filepath.Join(dir, "INBOX"))
	if err != nil || !slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.Name() == cache.FlagsName }) {
		t.Errorf("the mount does not show INBOX: %v %v", entries, err)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.exit(t, 15*time.Second); err != nil {
		t.Errorf("mount exit: %v\n%q", err, p.out.String())
	}
	if strings.Contains(p.out.String(), srv.Password) {
		t.Errorf("the password was echoed:\n%q", p.out.String())
	}
	if mountinfo.IsMounted(dir) {
		exec.Command("fusermount3", "-u", "-z", dir).Run()
		t.Errorf("still mounted after SIGTERM")
	}
}

// zshCompleteRC makes an interactive zsh complete the line it is given
// once, print each match as "mailfs-match: WORD" and exit. compadd is
// wrapped to print what it adds; calls that only compute matches into an
// array (-O, -A, -D before the words) are left alone.
const zshCompleteRC = `autoload -Uz compinit && compinit -u -d "$ZDOTDIR/.zcompdump"
source "$ZDOTDIR/mailfs.zsh"
compadd() {
  local a
  for a in "$@"; do
    case $a in
    -|--) break ;;
    -O|-A|-D) builtin compadd "$@"; return ;;
    esac
  done
  local -a got
  builtin compadd -O got "$@"
  for a in "${got[@]}"; do print -r -- "mailfs-match: $a"; done
  builtin compadd "$@"
}
zstyle ':completion:*' insert-tab false
mailfs_done() { print -r -- "mailfs-completed"; exit }
comppostfuncs=(mailfs_done)
bindkey '^I' complete-word
PS1='> '
`

// TestZshCompletes types each line and a TAB into a real zsh, with
// compinit and the generated script, and reads what it completes to.
func TestZshCompletes(t *testing.T) {
	needTool(t, "zsh")
	rc := t.TempDir()
	for name, text := range map[string]string{".zshrc": zshCompleteRC, "mailfs.zsh": completionScript(t, "zsh")} {
		if err := os.WriteFile(filepath.Join(rc, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	work := t.TempDir()
	for _, sub := range []string{"cfgdir", "cache"} {
		os.Mkdir(filepath.Join(work, sub), 0o755)
	}
	match := regexp.MustCompile(`mailfs-match: (\S+)`)
	completeZsh := func(line string) []string {
		cmd := exec.Command("zsh", "-i")
		cmd.Dir = work
		cmd.Env = append(shellEnv(), "ZDOTDIR="+rc, "TERM=xterm", "HOME="+rc)
		p := startPTY(t, cmd)
		p.wait(t, "prompt", 10*time.Second, func() bool { return strings.Contains(p.out.String(), "> ") })
		if _, err := p.master.WriteString(line + "\t"); err != nil {
			t.Fatal(err)
		}
		p.wait(t, "completion of "+line, 10*time.Second, func() bool { return strings.Contains(p.out.String(), "mailfs-completed") })
		var got []string
		for _, m := range match.FindAllStringSubmatch(p.out.String(), -1) {
			if !slices.Contains(got, m[1]) {
				got = append(got, m[1])
			}
		}
		slices.Sort(got)
		return got
	}
	checkCompletions(t, completeZsh)
}
