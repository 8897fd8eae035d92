// Command mailfs-bench measures mailfs against the tools people would
// otherwise use, on a private Dovecot, and prints a table of medians and
// ratios (issue 4). Run it from the module root, as root (it mounts FUSE
// file systems and drops the page cache before cold runs):
//
//	go run ./cmd/mailfs-bench                          # 5,000 messages (≈320 MB), 3 repetitions: ≈2 min on 2 cores
//	go run ./cmd/mailfs-bench -big-folder 100000       # adds the ls -l cases (a folder of 100,000): ≈2.5 min
//	go run ./cmd/mailfs-bench -reps 5 -only cold,warm  # some workloads only
//	go run ./cmd/mailfs-bench -n 100000                # the scale run (≈6.4 GB; implies -big-folder 100000)
//
// By itself it: builds mailfs (go build ./cmd/mailfs, or uses -mailfs);
// installs dovecot-imapd and isync (mbsync) with apt-get when they are
// missing and it runs as root, or says what to install; starts a private
// Dovecot on 127.0.0.1 (imapsrc/dovecottest.Launch, without rawlog);
// writes a deterministic corpus (seeded PRNG) straight into its Maildir and
// indexes it with `doveadm force-resync`; then runs each workload against
// mailfs and its peer in the same run, alternating, -reps times, and prints
// medians, ratios, targets, mailfs's peak RSS (VmHWM) and CPU time.
// Workloads that take well under a second run 2×reps+1 times.
//
// Trees written by earlier runs are renamed into a trash folder and only
// deleted at the end: ext4 skips inodes freed in the last minutes, and
// creating files right after deleting thousands costs every writer (mailfs's
// cache, rsync, mbsync) noticeably more. For the same reason, results are
// steadier when the benchmark does not start right after a large rm -rf.
//
// Workloads (-only takes their names): sync (mailfs sync into an empty
// cache, then again with nothing new, vs mbsync -a likewise), cold (mount+rsync with an empty
// cache vs mbsync -a with and without fsync), warm (rsync of a fresh mount
// with a full cache vs rsync of a local copy), incr (10 new messages,
// rsync to the previous copy vs a no-op rsync; exactly 10 bodies must be
// downloaded), grep (grep -r over .txt views vs a local copy), ls (cold
// and warm ls -l of a big folder; needs -big-folder), mem (VmHWM around
// reading a 50 MB message), profile (a cold and a warm backup again, with
// a command-counting IMAP proxy, perf if installed, and FUSE request
// counts from --debug-fuse), restore (rsync -a of the local copy into an
// empty account through a --read-write mount vs mbsync pushing the same
// messages from its Maildir, Sync Push).
//
// With -rtt 30ms every server is reached through an in-process proxy that
// delays each direction by half of it (latency.go), as a distant server.
//
// Progress goes to stderr, the report to stdout.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"mailfs/imapsrc/dovecottest"
)

var allPhases = []string{"sync", "cold", "warm", "incr", "grep", "profile", "ls", "mem", "restore"}

// bench is the state of one benchmark run.
type bench struct {
	// flags
	n, reps, bigFolder, conns int
	drop, perf                bool
	only                      map[string]bool
	rtt                       time.Duration // added round trip to every server (latency.go)

	proxiesMu sync.Mutex
	proxies   map[string]*delayProxy // by server address, with -rtt

	work      string // everything below here
	mnt       string // the mount point
	mailfsBin string
	srv       *dovecottest.Server
	corpus    *corpus
	stats     corpusStats

	cacheDir, copyDir string // mailfs's cache and the copy rsync made of the tree
	warmReady         bool   // cacheDir holds every body and copyDir the whole tree
	added             int    // messages APPENDed by the incremental workload
	addedBytes        int64
	hugeAdded         bool
	deferDelete       bool // discard renames into work/trash instead of deleting
	trashed           int

	live     *mailfsProc // the running mount, if any
	runs     int         // mailfs runs so far (names their logs)
	commands []string    // "kind: command", each kind once
	rows     []*row
	mem      []memLine
	profile  []string
	notes    []string
}

func (b *bench) total() int { return b.stats.messages + b.added }

func (b *bench) totalBytes() int64 { return b.stats.bytes + b.addedBytes }

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05")+" "+format+"\n", args...)
}

func (b *bench) printCommand(kind, line string) {
	entry := kind + ": " + line
	if !slices.Contains(b.commands, entry) {
		b.commands = append(b.commands, entry)
		progress("  command: %s", line)
	}
}

func mb(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
}

func main() {
	b := &bench{}
	var only, dir, mailfsBin string
	var seed uint64
	var keep, install bool
	flag.IntVar(&b.n, "n", 5000, "messages in the corpus")
	flag.IntVar(&b.reps, "reps", 3, "repetitions of each workload (medians are reported)")
	flag.IntVar(&b.bigFolder, "big-folder", -1, "messages in the folder for the ls -l cases (default 100000 with -n ≥ 100000 or -only ls, else none)")
	flag.StringVar(&only, "only", "", "comma-separated workloads to run, of "+strings.Join(allPhases, ","))
	flag.Uint64Var(&seed, "seed", 1, "seed of the corpus generator")
	flag.IntVar(&b.conns, "conns", 0, "pass --conns N to mailfs (0: mailfs's default)")
	flag.DurationVar(&b.rtt, "rtt", 0, "add this round-trip time between the peers and every server, through a delaying proxy (e.g. 30ms)")
	flag.BoolVar(&b.drop, "drop-caches", true, "drop the page cache before cold runs (needs root)")
	flag.BoolVar(&b.perf, "perf", true, "profile mailfs with perf in the profile workload, if perf is installed")
	flag.StringVar(&dir, "dir", "", "work folder (default: a new folder in /var/tmp, removed at the end)")
	flag.BoolVar(&keep, "keep", false, "keep the work folder")
	flag.StringVar(&mailfsBin, "mailfs", "", "mailfs binary to measure (default: go build ./cmd/mailfs)")
	flag.BoolVar(&install, "install", true, "apt-get install missing dovecot-imapd, isync, fuse3, rsync when root")
	flag.Parse()

	b.only = map[string]bool{}
	if only == "" {
		for _, p := range allPhases {
			b.only[p] = p != "ls"
		}
	} else {
		for _, p := range strings.Split(only, ",") {
			if !slices.Contains(allPhases, p) {
				fatalf("unknown workload %q in -only (want %s)", p, strings.Join(allPhases, ","))
			}
			b.only[p] = true
		}
	}
	if b.bigFolder < 0 {
		b.bigFolder = 0
		if b.n >= 100000 || b.only["ls"] {
			b.bigFolder = 100000
		}
	}
	b.only["ls"] = b.bigFolder > 0 && (only == "" || b.only["ls"])
	if b.reps < 1 || b.n < 100 {
		fatalf("want -reps ≥ 1 and -n ≥ 100")
	}
	if os.Geteuid() != 0 {
		progress("not root: the page cache is not dropped before cold runs")
		b.drop = false
	}
	if err := ensureTools(install); err != nil {
		fatalf("%v", err)
	}

	var err error
	if dir == "" {
		if dir, err = os.MkdirTemp("/var/tmp", "mailfs-bench-"); err != nil {
			fatalf("%v", err)
		}
		if !keep {
			defer os.RemoveAll(dir)
		}
	} else if err = os.MkdirAll(dir, 0o755); err != nil {
		fatalf("%v", err)
	}
	b.work, _ = filepath.Abs(dir)
	b.mnt = filepath.Join(b.work, "mnt")
	b.cacheDir = filepath.Join(b.work, "cache")
	b.copyDir = filepath.Join(b.work, "copy")
	b.corpus = &corpus{seed: seed, n: b.n, word: "Zahnradbahn"}

	// Deferring deletions needs room for every tree the runs write.
	var fs syscall.Statfs_t
	need := int64(b.n) * 70 << 10 * 30
	if err := syscall.Statfs(b.work, &fs); err == nil && int64(fs.Bavail)*fs.Bsize > need+(8<<30) {
		b.deferDelete = true
	} else {
		progress("not enough free space to defer deletions (%s wanted): runs may pay for ext4's handling of recently freed inodes", mb(need))
	}

	code := b.main(mailfsBin)
	os.RemoveAll(filepath.Join(b.work, "trash"))
	if keep {
		progress("work folder kept: %s", b.work)
	} else {
		os.RemoveAll(b.work)
	}
	os.Exit(code)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "mailfs-bench: "+format+"\n", args...)
	os.Exit(1)
}

// main runs everything after the flags; it returns the exit code.
func (b *bench) main(mailfsBin string) int {
	start := time.Now()
	if mailfsBin == "" {
		progress("building mailfs")
		mailfsBin = filepath.Join(b.work, "mailfs")
		out, err := exec.Command("go", "build", "-o", mailfsBin, "./cmd/mailfs").CombinedOutput()
		if err != nil {
			progress("go build ./cmd/mailfs (run mailfs-bench from the module root): %v\n%s", err, out)
			return 1
		}
	}
	b.mailfsBin, _ = filepath.Abs(mailfsBin)

	progress("starting a private Dovecot")
	srv, err := dovecottest.Launch(dovecottest.Options{})
	if err != nil {
		progress("start dovecot: %v", err)
		return 1
	}
	b.srv = srv
	defer srv.Close()

	// A closed stdout (| head) must not kill the run before it cleans up.
	signal.Ignore(syscall.SIGPIPE)
	// Ctrl-C: unmount and stop Dovecot before leaving.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		progress("interrupted: cleaning up")
		b.unmount()
		srv.Close()
		os.RemoveAll(b.work)
		os.Exit(130)
	}()

	progress("writing %d messages into the Maildir", b.n)
	t0 := time.Now()
	if b.stats, err = seedCorpus(srv, b.corpus); err != nil {
		progress("seed: %v", err)
		return 1
	}
	var boxes []string
	for _, f := range folders {
		boxes = append(boxes, f.name)
	}
	if err := prime(srv, boxes); err != nil {
		progress("%v", err)
		return 1
	}
	progress("  %d messages, %s, written and indexed in %.1fs", b.stats.messages, mb(b.stats.bytes), time.Since(t0).Seconds())

	if b.rtt > 0 {
		b.notes = append(b.notes, fmt.Sprintf("every server is %v of round trip away: mailfs and mbsync reach it through a proxy that delays each direction by %v (-rtt)", b.rtt, b.rtt/2))
	}
	failed := false
	phases := map[string]func() error{
		"sync": b.phaseSync, "cold": b.phaseCold, "warm": b.phaseWarm, "incr": b.phaseIncr, "grep": b.phaseGrep,
		"profile": b.phaseProfile, "ls": b.phaseLs, "mem": b.phaseMem, "restore": b.phaseRestore,
	}
	for _, name := range allPhases {
		if !b.only[name] {
			continue
		}
		t := time.Now()
		if err := phases[name](); err != nil {
			b.unmount()
			progress("%s: %v", name, err)
			b.notes = append(b.notes, fmt.Sprintf("workload %s failed: %v", name, oneLine(err.Error())))
			failed = true
		}
		progress("%s took %.0fs", name, time.Since(t).Seconds())
	}
	b.report(time.Since(start))
	if failed {
		return 1
	}
	return 0
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " | ")
	return tail(s, 600)
}

// ensureTools checks for the programs the benchmark runs, and installs the
// missing ones with apt-get when allowed.
func ensureTools(install bool) error {
	pkgs := map[string]string{
		"dovecot": "dovecot-imapd", "doveadm": "dovecot-imapd", "mbsync": "isync",
		"rsync": "rsync", "fusermount3": "fuse3", "go": "golang (Go 1.26+)",
	}
	var missing []string
	for _, tool := range []string{"dovecot", "doveadm", "mbsync", "rsync", "fusermount3", "go"} {
		if lookTool(tool) {
			continue
		}
		if !slices.Contains(missing, pkgs[tool]) {
			missing = append(missing, pkgs[tool])
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if slices.Contains(missing, pkgs["go"]) || !install || os.Geteuid() != 0 {
		return fmt.Errorf("missing tools: install %s (e.g. apt-get install -y %s)", strings.Join(missing, ", "), strings.Join(missing, " "))
	}
	progress("installing %s with apt-get", strings.Join(missing, " "))
	// Keep apt from starting the system's dovecot: the benchmark starts
	// its own instance.
	if _, err := os.Stat("/usr/sbin/policy-rc.d"); os.IsNotExist(err) {
		os.WriteFile("/usr/sbin/policy-rc.d", []byte("#!/bin/sh\nexit 101\n"), 0o755)
		defer os.Remove("/usr/sbin/policy-rc.d")
	}
	for _, args := range [][]string{{"update"}, append([]string{"install", "-y"}, missing...)} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %s: %v", strings.Join(args, " "), err)
		}
	}
	return nil
}

func lookTool(name string) bool {
	if _, err := exec.LookPath(name); err == nil {
		return true
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode()&0o111 != 0 {
			return true
		}
	}
	return false
}

func init() {
	// dovecot lives in /usr/sbin, which a minimal PATH may lack.
	os.Setenv("PATH", os.Getenv("PATH")+":/usr/local/sbin:/usr/sbin:/sbin")
}
