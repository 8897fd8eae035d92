package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one line of the table.
type row struct {
	name, peer string
	target     float64   // the ratio mailfs/peer must not exceed
	m, p       []float64 // seconds per repetition
	hwm        []int64   // mailfs VmHWM (kB) per repetition
	cpu        []float64 // mailfs CPU seconds per repetition
	srvCPU     []float64 // Dovecot CPU seconds per repetition
	ready      []float64 // seconds until the mount appeared
	note, fail string

	shareMailfs *row // take the mailfs column from this row
	sharePeer   *row // take the peer column from this row
}

// memLine is one memory figure with its target.
type memLine struct {
	what   string
	valKB  int64
	target int64 // kB
	extra  string
}

func (b *bench) addRow(name, peer string, target float64) *row {
	r := &row{name: name, peer: peer, target: target}
	b.rows = append(b.rows, r)
	return r
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func secs(x float64) string {
	switch {
	case x == 0:
		return "-"
	case x < 0.1:
		return fmt.Sprintf("%.1f ms", 1000*x)
	case x < 10:
		return fmt.Sprintf("%.2f s", x)
	}
	return fmt.Sprintf("%.1f s", x)
}

func secsOrZero(x float64) string {
	if x == 0 {
		return "0"
	}
	return secs(x)
}

func spread(xs []float64) string {
	if len(xs) < 2 {
		return ""
	}
	return fmt.Sprintf(" (%s–%s)", secs(slices.Min(xs)), secs(slices.Max(xs)))
}

func (b *bench) report(elapsed time.Duration) {
	w := os.Stdout
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	goVer, _ := exec.Command("go", "env", "GOVERSION").Output()
	rev, _ := exec.Command("git", "describe", "--always", "--dirty").Output()
	fmt.Fprintf(w, "\nmailfs-bench: %d messages (%s, largest %s) in %d folders; %d repetitions, medians; %d CPUs, kernel %s, %s, mailfs %s\n",
		b.stats.messages, mb(b.stats.bytes), mb(b.stats.largest), len(b.stats.perDir), b.reps, runtime.NumCPU(),
		strings.TrimSpace(string(kernel)), strings.TrimSpace(string(goVer)), strings.TrimSpace(string(rev)))
	if b.drop {
		fmt.Fprintln(w, "Cold runs start after `sync; echo 3 > /proc/sys/vm/drop_caches` (page, dentry and inode caches dropped).")
	} else {
		fmt.Fprintln(w, "The page cache was NOT dropped before cold runs.")
	}
	fmt.Fprintf(w, "Total run time %s.\n\n", elapsed.Round(time.Second))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "workload\tmailfs\tpeer\tmailfs/peer\ttarget\tmet?\tmailfs VmHWM\tmailfs CPU\tDovecot CPU\tpeer\tnotes")
	for _, r := range b.rows {
		ms, ps := r.m, r.p
		src := r
		if r.shareMailfs != nil {
			ms, src = r.shareMailfs.m, r.shareMailfs
		}
		if r.sharePeer != nil {
			ps = r.sharePeer.p
		}
		m, p := median(ms), median(ps)
		ratio, met := "-", "-"
		if m > 0 && p > 0 {
			ratio = fmt.Sprintf("%.2f", m/p)
			met = "yes"
			if m/p > r.target {
				met = "NO"
			}
		}
		if r.fail != "" {
			met = "NO (" + r.fail + ")"
		}
		hwm := "-"
		if len(src.hwm) > 0 {
			hwm = mb(slices.Max(src.hwm) << 10)
		}
		cpu, srv := "-", "-"
		if len(src.cpu) > 0 {
			cpu = secsOrZero(median(src.cpu))
			srv = secsOrZero(median(src.srvCPU))
		}
		note := r.note
		if r.shareMailfs != nil {
			note = ""
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t≤ %.1f\t%s\t%s\t%s\t%s\t%s\t%s\n", r.name, secs(m)+spread(ms), secs(p)+spread(ps), ratio, r.target, met, hwm, cpu, srv, r.peer, note)
	}
	tw.Flush()

	if len(b.mem) > 0 || b.only["ls"] {
		fmt.Fprintln(w, "\nMemory (mailfs VmHWM):")
		for _, l := range b.mem {
			met := "yes"
			if l.valKB > l.target {
				met = "NO"
			}
			fmt.Fprintf(w, "  %s: +%s (target ≤ +%s: %s); %s\n", l.what, mb(l.valKB<<10), mb(l.target<<10), met, l.extra)
		}
		for _, r := range b.rows {
			if strings.HasPrefix(r.name, "ls -l of") && len(r.hwm) > 0 {
				peak := slices.Max(r.hwm)
				met := "yes"
				if peak > 150<<10 {
					met = "NO"
				}
				fmt.Fprintf(w, "  peak with %d messages in one folder mounted and listed: %s (target ≤ 150 MB: %s)\n", b.bigFolder, mb(peak<<10), met)
			}
		}
	}
	if len(b.profile) > 0 {
		fmt.Fprintln(w, "\nProfile (separate runs; not in the table):")
		for _, l := range b.profile {
			fmt.Fprintln(w, "  "+l)
		}
	}
	if len(b.notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range b.notes {
			fmt.Fprintln(w, "  "+n)
		}
	}
	fmt.Fprintln(w, "\nCommands (mailfs is given the password in MAILFS_PASSWORD):")
	for _, c := range b.commands {
		fmt.Fprintln(w, "  "+c)
	}
	if conf, err := os.ReadFile(b.work + "/mbsyncrc-nofsync"); err == nil {
		fmt.Fprintln(w, "\nmbsync config (the fsync variant omits `FSync no`):")
		for _, l := range strings.Split(strings.TrimSpace(string(conf)), "\n") {
			if strings.HasPrefix(l, "Pass ") {
				l = "Pass …"
			}
			fmt.Fprintln(w, "    "+l)
		}
	}
	var per []string
	for _, f := range folders {
		per = append(per, fmt.Sprintf("%s %d", f.name, b.stats.perDir[f.name]))
	}
	fmt.Fprintf(w, "\nCorpus per folder: %s.\n", strings.Join(per, ", "))
}
