package main

// mailfs mount --daemon: the command starts itself again as a server in
// a new session and returns once that server's mount is ready, with the
// server's errors as its own and its exit status when it failed. Go
// cannot fork, so the server is a new process with the same command
// line; daemonEnv tells it that it is the server and which descriptor to
// report readiness on.
//
// Until it is ready, the server's stderr is a pipe the caller copies to
// its own stderr, so a login error reads as in the foreground. Once
// ready, the server points its stderr at the --log-file (or /dev/null),
// writes "ready" on the status descriptor and the caller exits 0.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// daemonEnv is set in the environment of the server process.
const daemonEnv = "MAILFS_DAEMON_STATUS_FD"

// daemonServer is the server side of --daemon.
type daemonServer struct {
	status  *os.File
	logFile string
}

// daemonChild returns the server side when this process is the server
// of a --daemon mount, else nil.
func daemonChild() (*daemonServer, error) {
	v := os.Getenv(daemonEnv)
	if v == "" {
		return nil, nil
	}
	os.Unsetenv(daemonEnv)
	if v != "3" {
		return nil, fmt.Errorf("%s=%q: want 3", daemonEnv, v)
	}
	return &daemonServer{status: os.NewFile(3, "daemon-status"), logFile: os.Getenv(daemonEnv + "_LOG")}, nil
}

// ready detaches the server's stderr from the caller and tells it the
// mount is ready.
func (d *daemonServer) ready() {
	target := os.DevNull
	if d.logFile != "" {
		target = d.logFile
	}
	if f, err := os.OpenFile(target, os.O_WRONLY|os.O_APPEND, 0); err == nil {
		unix.Dup2(int(f.Fd()), 2)
		unix.Dup2(int(f.Fd()), 1)
		f.Close()
	}
	io.WriteString(d.status, "ready\n")
	d.status.Close()
}

// startDaemon runs this program again with cmdline as the server and
// waits until its mount is ready or it fails.
func startDaemon(cmdline []string, logFile string, stderr io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("--daemon: %w", err)
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer statusR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		statusW.Close()
		return err
	}
	cmd := exec.Command(exe, cmdline...)
	cmd.Env = append(os.Environ(), daemonEnv+"=3")
	if logFile != "" {
		cmd.Env = append(cmd.Env, daemonEnv+"_LOG="+logFile)
	}
	cmd.Stdout, cmd.Stderr = errW, errW
	cmd.ExtraFiles = []*os.File{statusW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // not ended by the terminal's hangup
	err = cmd.Start()
	statusW.Close()
	errW.Close()
	if err != nil {
		errR.Close()
		return fmt.Errorf("--daemon: %w", err)
	}
	copied := make(chan struct{})
	go func() {
		io.Copy(stderr, errR)
		errR.Close()
		close(copied)
	}()
	line, _ := bufio.NewReader(statusR).ReadString('\n')
	if strings.TrimSpace(line) == "ready" {
		<-copied // the server closed its end of the pipe before saying so
		cmd.Process.Release()
		return nil
	}
	<-copied
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() > 0 {
		return exitStatus(ee.ExitCode()) // the server said why on stderr
	}
	return fmt.Errorf("--daemon: the server ended before the mount was ready: %v", err)
}

// exitStatus ends the command with a status whose reason is already on
// stderr.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
