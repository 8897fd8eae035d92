package main

// The progress of 'mailfs sync': the numbers (progress) and how they are
// shown (syncOutput). On a terminal, one line per account is redrawn in
// place and log records are printed above it; otherwise progress is
// logged every 10% or 5 seconds, and a summary record ends each account.

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"mailfs/cache"
)

const (
	rateWindow   = 10 * time.Second       // the rate is measured over this much of the recent past
	redrawEvery  = 100 * time.Millisecond // a terminal line is redrawn at most this often
	logEvery     = 5 * time.Second        // without a terminal, progress is logged at least this often…
	logPercent   = 10                     // …and whenever another this many percent are done
	unknownValue = "-"
)

// progress is how far the sync of one account has come.
type progress struct {
	name    string
	start   time.Time
	now     time.Time // of the last update
	p       cache.Progress
	started bool // the first report (with the totals) has come

	folders, foldersDone int
	left                 map[string]int // messages not yet done per folder; -1: never (the folder failed)
	countFolders         func() map[string]int
	samples              []rateSample
}

type rateSample struct {
	t     time.Time
	bytes int64
}

// newProgress starts the progress of the account name. countFolders
// returns the number of messages of each folder, once Fill has listed
// them (-1 for a folder that could not be listed).
func newProgress(name string, countFolders func() map[string]int, now time.Time) *progress {
	return &progress{name: name, start: now, now: now, countFolders: countFolders}
}

// update takes a report of cache.Fill: the first carries the totals, each
// later one is one message done, in p.Folder.
func (pr *progress) update(p cache.Progress, now time.Time) {
	if !pr.started {
		pr.started = true
		pr.left = map[string]int{}
		if pr.countFolders != nil {
			pr.left = pr.countFolders()
		}
		for _, n := range pr.left {
			pr.folders++
			if n == 0 {
				pr.foldersDone++
			}
		}
	} else if p.MessagesDone > pr.p.MessagesDone {
		if n, ok := pr.left[p.Folder]; ok && n > 0 {
			pr.left[p.Folder] = n - 1
			if n == 1 {
				pr.foldersDone++
			}
		}
	}
	pr.p, pr.now = p, now
	pr.samples = append(pr.samples, rateSample{now, p.BytesDone})
	cut := 0
	for cut < len(pr.samples)-2 && now.Sub(pr.samples[cut+1].t) >= rateWindow {
		cut++
	}
	pr.samples = pr.samples[cut:]
}

// finished reports whether every message has been dealt with.
func (pr *progress) finished() bool {
	return pr.started && pr.p.MessagesDone >= pr.p.Messages
}

// percent is the share done, by bytes (by messages when there are none).
func (pr *progress) percent() int {
	switch {
	case pr.p.Bytes > 0:
		return int(pr.p.BytesDone * 100 / pr.p.Bytes)
	case pr.p.Messages > 0:
		return pr.p.MessagesDone * 100 / pr.p.Messages
	}
	return 100
}

// rate is the bytes per second over the last rateWindow; 0 if not known
// yet. Messages already in the cache count as done at once, so the rate
// is high for a moment when a sync resumes.
func (pr *progress) rate() float64 {
	if len(pr.samples) < 2 {
		return 0
	}
	first, last := pr.samples[0], pr.samples[len(pr.samples)-1]
	dt := last.t.Sub(first.t).Seconds()
	if dt < 1 {
		return 0 // too little to go by
	}
	return float64(last.bytes-first.bytes) / dt
}

// eta is the time left at the current rate; false if not known.
func (pr *progress) eta() (time.Duration, bool) {
	r := pr.rate()
	if r <= 0 {
		return 0, false
	}
	left := float64(pr.p.Bytes-pr.p.BytesDone) / r
	return time.Duration(left * float64(time.Second)).Round(time.Second), true
}

func (pr *progress) rateText() string {
	if r := pr.rate(); r > 0 {
		return formatRate(r)
	}
	return unknownValue
}

func (pr *progress) etaText() string {
	if d, ok := pr.eta(); ok {
		return d.String()
	}
	return unknownValue
}

func (pr *progress) elapsed() time.Duration {
	return pr.now.Sub(pr.start).Round(100 * time.Millisecond)
}

// line is the terminal line: name, folders, messages, bytes, rate, ETA.
func (pr *progress) line() string {
	p := pr.p
	s := fmt.Sprintf("%s  %d/%d folders  %d/%d messages  %s  %s  ETA %s",
		pr.name, pr.foldersDone, pr.folders, p.MessagesDone, p.Messages,
		formatSizes(p.BytesDone, p.Bytes), pr.rateText(), pr.etaText())
	if p.Failed > 0 {
		s += fmt.Sprintf("  %d failed", p.Failed)
	}
	return s
}

// doneLine is the terminal line that stays when the account is done.
func (pr *progress) doneLine(err error) string {
	p := pr.p
	s := fmt.Sprintf("%s  %s  %s  %s  in %v", pr.name, plural(pr.folders, "folder"),
		plural(p.Messages, "message"), formatSize(p.Bytes), pr.elapsed())
	switch {
	case p.Failed > 0:
		s += fmt.Sprintf("  %d failed", p.Failed)
	case err != nil:
		s += "  with errors"
	case p.New == 0:
		s += "  done, nothing new"
	default:
		s += fmt.Sprintf("  done, %d new", p.New)
	}
	return s
}

// attrs are the log attributes of a progress record.
func (pr *progress) attrs() []any {
	p := pr.p
	return []any{
		"account", pr.name, "percent", pr.percent(),
		"folders", fmt.Sprintf("%d/%d", pr.foldersDone, pr.folders),
		"messages", fmt.Sprintf("%d/%d", p.MessagesDone, p.Messages),
		"size", formatSizes(p.BytesDone, p.Bytes),
		"rate", pr.rateText(), "eta", pr.etaText(),
	}
}

// syncOutput shows the progress of a sync on w.
type syncOutput struct {
	w     io.Writer
	tty   bool
	width func() int // of the terminal, in columns

	mu        sync.Mutex
	line      string    // the progress line on the terminal; "" if none
	lastDraw  time.Time // terminal: of the last redraw
	lastLog   time.Time // no terminal: of the last progress record
	loggedPct int       // no terminal: the percentage last logged
}

func newSyncOutput(w io.Writer) *syncOutput {
	o := &syncOutput{w: w}
	if f, ok := w.(*os.File); ok && isTerminal(f) && os.Getenv("TERM") != "dumb" {
		o.tty = true
		o.width = func() int { return termWidth(f) }
	}
	return o
}

// logWriter is where log records go: on a terminal, above the progress line.
func (o *syncOutput) logWriter() io.Writer {
	if !o.tty {
		return o.w
	}
	return aboveLine{o}
}

// aboveLine writes log records above the progress line, then redraws it.
type aboveLine struct{ o *syncOutput }

func (a aboveLine) Write(b []byte) (int, error) {
	o := a.o
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.line != "" {
		io.WriteString(o.w, "\r\x1b[K")
	}
	n, err := o.w.Write(b)
	if o.line != "" {
		io.WriteString(o.w, o.line)
	}
	return n, err
}

// draw replaces the progress line with s; with keep, s stays and the next
// line starts below it. s is cut to the terminal's width, so that the
// line never wraps (a wrapped line cannot be redrawn in place).
func (o *syncOutput) draw(s string, keep bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if w := o.width(); utf8.RuneCountInString(s) >= w && w > 1 {
		r := []rune(s)
		s = string(r[:w-2]) + "…"
	}
	io.WriteString(o.w, "\r\x1b[K"+s)
	o.line = s
	if keep {
		io.WriteString(o.w, "\n")
		o.line = ""
	}
}

// status shows what an account is doing before its progress starts.
func (o *syncOutput) status(name, what string) {
	if o.tty {
		o.draw(name+"  "+what, false)
	}
}

// progress shows pr after an update.
func (o *syncOutput) progress(pr *progress, log *slog.Logger) {
	if o.tty {
		if pr.now.Sub(o.lastDraw) >= redrawEvery || pr.finished() || pr.p.MessagesDone == 0 {
			o.lastDraw = pr.now
			o.draw(pr.line(), false)
		}
		return
	}
	pct := pr.percent()
	first := pr.p.MessagesDone == 0
	if !first && pr.finished() {
		return // the summary record follows
	}
	if first || pct/logPercent > o.loggedPct/logPercent || pr.now.Sub(o.lastLog) >= logEvery {
		o.lastLog, o.loggedPct = pr.now, pct
		log.Info("sync progress", pr.attrs()...)
	}
}

// done ends an account's progress; err is what Fill returned.
func (o *syncOutput) done(pr *progress, err error, log *slog.Logger) {
	if o.tty {
		o.draw(pr.doneLine(err), true)
		return
	}
	attrs := []any{
		"account", pr.name, "folders", pr.folders, "messages", pr.p.Messages,
		"size", formatSize(pr.p.Bytes), "new", pr.p.New, "new_size", formatSize(pr.p.NewBytes),
		"took", pr.elapsed().String(), "failed", pr.p.Failed,
	}
	if pr.p.Damaged > 0 {
		attrs = append(attrs, "damaged_refetched", pr.p.Damaged)
	}
	if err != nil {
		log.Warn("sync done with errors", attrs...)
		return
	}
	log.Info("sync done", attrs...)
}

// interrupted ends the progress of the account name when the sync was
// stopped; pr is nil if it was stopped before its progress began.
func (o *syncOutput) interrupted(pr *progress, name string, log *slog.Logger) {
	started := pr != nil && pr.started
	switch {
	case o.tty && started:
		o.draw(pr.line()+"  interrupted", true)
	case o.tty:
		o.draw(name+"  interrupted", true)
	case started:
		log.Warn("sync interrupted", pr.attrs()...)
	default:
		log.Warn("sync interrupted", "account", name)
	}
}

// failed reports an account that could not be opened at all.
func (o *syncOutput) failed(name string, err error, log *slog.Logger) {
	if o.tty {
		o.draw(name+"  failed: "+trimAccountPrefix(err.Error()), true)
		return
	}
	log.Error("sync failed", "account", name, "err", trimAccountPrefix(err.Error()))
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// termWidth returns the width of the terminal f in columns (80 if unknown).
func termWidth(f *os.File) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return 80
	}
	return int(ws.Col)
}

// sizeUnit returns the decimal unit that suits n bytes and its size.
func sizeUnit(n int64) (string, float64) {
	units := []string{"kB", "MB", "GB", "TB"}
	unit, div := "B", 1.0
	for _, u := range units {
		if float64(n) < div*1000 {
			break
		}
		unit, div = u, div*1000
	}
	return unit, div
}

func formatNum(n int64, div float64) string {
	if div == 1 {
		return strconv.FormatInt(n, 10)
	}
	return strconv.FormatFloat(float64(n)/div, 'f', 1, 64)
}

// formatSize formats n bytes: "512 B", "41.0 MB".
func formatSize(n int64) string {
	unit, div := sizeUnit(n)
	return formatNum(n, div) + " " + unit
}

// formatSizes formats done of total bytes in total's unit: "41.0/230.5 MB".
func formatSizes(done, total int64) string {
	unit, div := sizeUnit(total)
	return formatNum(done, div) + "/" + formatNum(total, div) + " " + unit
}

// formatRate formats bytes per second: "2.3 MB/s".
func formatRate(r float64) string {
	return formatSize(int64(r)) + "/s"
}
