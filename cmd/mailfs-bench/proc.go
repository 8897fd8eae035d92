package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat.
const clockTicks = 100

// procStat is what /proc tells about a process.
type procStat struct {
	hwmKB, rssKB   int64   // VmHWM, VmRSS
	anonKB, fileKB int64   // RssAnon, RssFile (mapped files, e.g. a bbolt database)
	user, sys      float64 // CPU seconds
	cuser, csys    float64 // CPU seconds of waited-for children
	threads, alive int
	ctxSwitches    int64 // voluntary and involuntary, summed over live threads
}

func readProc(pid int) (procStat, error) {
	var st procStat
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmHWM":
			st.hwmKB = n
		case "VmRSS":
			st.rssKB = n
		case "RssAnon":
			st.anonKB = n
		case "RssFile":
			st.fileKB = n
		case "Threads":
			st.threads = int(n)
		}
	}
	b, err = os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, err
	}
	// The command name (field 2) may hold spaces: fields start after ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	tick := func(i int) float64 { // i is the field number in proc(5)
		n, _ := strconv.ParseInt(f[i-3], 10, 64)
		return float64(n) / clockTicks
	}
	st.user, st.sys, st.cuser, st.csys = tick(14), tick(15), tick(16), tick(17)
	st.alive = 1
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				st.ctxSwitches += n
			}
		}
	}
	return st, nil
}

// children returns the pids whose parent is pid and whose comm is name
// ("" for all).
func children(pid int, name string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		open, close := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || close < open {
			continue
		}
		comm := string(b[open+1 : close])
		f := strings.Fields(string(b[close+2:]))
		if len(f) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid == pid && (name == "" || comm == name) {
			out = append(out, p)
		}
	}
	return out
}

// serverCPU returns the CPU seconds Dovecot's finished IMAP sessions used
// so far: the master reaps them, so they add up in its cutime and cstime.
// It first waits (up to 3 s) for running imap processes to end.
func (b *bench) serverCPU() float64 {
	pid := b.srv.MasterPID()
	if pid == 0 {
		return 0
	}
	deadline := time.Now().Add(3 * time.Second)
	for len(children(pid, "imap")) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	st, err := readProc(pid)
	if err != nil {
		return 0
	}
	return st.cuser + st.csys
}

// logins counts the IMAP logins in Dovecot's log so far.
func (b *bench) logins() int {
	return strings.Count(b.srv.Log(), "Login: user=<")
}

// dropCaches writes dirty pages back and empties the page, dentry and inode
// caches, so a cold run reads the server's files from disk.
func (b *bench) dropCaches() {
	if !b.drop {
		return
	}
	syscall.Sync()
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0); err != nil {
		progress("cannot drop caches (%v): cold runs read from the page cache", err)
		b.drop = false
	}
}

// run is one timed command.
type run struct {
	wall      time.Duration
	user, sys float64 // CPU seconds of the command (and its waited children)
	out       []byte  // stdout (only if kept)
}

// timeCmd runs a command and times it. Its stdout goes to /dev/null unless
// keep; stderr is returned in the error.
func timeCmd(keep bool, env []string, name string, args ...string) (run, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	if keep {
		cmd.Stdout = &stdout
	}
	cmd.Stderr = &stderr
	t0 := time.Now()
	err := cmd.Run()
	r := run{wall: time.Since(t0), out: stdout.Bytes()}
	if cmd.ProcessState != nil {
		r.user = cmd.ProcessState.UserTime().Seconds()
		r.sys = cmd.ProcessState.SystemTime().Seconds()
	}
	if err != nil {
		// grep exits 1 when nothing matched: not an error here.
		if ee, ok := err.(*exec.ExitError); ok && name == "grep" && ee.ExitCode() == 1 {
			return r, nil
		}
		return r, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, tail(stderr.String(), 800))
	}
	return r, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
