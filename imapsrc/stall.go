package imapsrc

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Time limits are about progress, never about the total time: a 50 MB
// message over a slow link may take an hour, and that is fine as long as
// bytes keep coming. Two pieces do this:
//
//   - idleConn turns go-imap's fixed read deadlines (30 s for a response,
//     5 minutes for a whole literal) into limits on the time between two
//     reads that bring bytes: the deadline is moved forward before every
//     read.
//   - a watchdog per operation closes the connection when the operation
//     made no useful progress for Config.StallTimeout. For most operations
//     every byte counts; for body fetches only bytes of a requested body
//     and whole messages do, so a server that repeats a response forever
//     or floods `* N EXISTS` is cut off as surely as one that went silent.
//     go-imap waits without any deadline for a command's first response,
//     so without the watchdog a silent server would hang a read for good.

// idleConn is a net.Conn whose read deadline, once set, is a limit on
// idle time rather than a point in time.
type idleConn struct {
	net.Conn
	idle    atomic.Int64           // nanoseconds allowed between reads; 0: no deadline
	onBytes atomic.Pointer[func()] // called after every read that brought bytes; set once logged in
}

func (c *idleConn) SetReadDeadline(t time.Time) error {
	c.setIdle(t)
	return c.Conn.SetReadDeadline(t)
}

func (c *idleConn) SetDeadline(t time.Time) error {
	c.setIdle(t)
	return c.Conn.SetDeadline(t)
}

func (c *idleConn) setIdle(t time.Time) {
	if t.IsZero() {
		c.idle.Store(0)
	} else {
		c.idle.Store(int64(max(time.Until(t), time.Millisecond)))
	}
}

func (c *idleConn) Read(b []byte) (int, error) {
	if idle := c.idle.Load(); idle > 0 {
		c.Conn.SetReadDeadline(time.Now().Add(time.Duration(idle)))
	}
	n, err := c.Conn.Read(b)
	if f := c.onBytes.Load(); n > 0 && f != nil {
		(*f)()
	}
	return n, err
}

// watchdog calls fire once when kick was not called for limit.
type watchdog struct {
	limit time.Duration
	fire  func()
	last  atomic.Int64 // unix nanoseconds of the last kick

	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
	fired   atomic.Bool
}

func newWatchdog(limit time.Duration, fire func()) *watchdog {
	w := &watchdog{limit: limit, fire: fire}
	w.kick()
	w.timer = time.AfterFunc(limit, w.check)
	return w
}

func (w *watchdog) kick() { w.last.Store(time.Now().UnixNano()) }

func (w *watchdog) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	quiet := time.Since(time.Unix(0, w.last.Load()))
	if quiet < w.limit {
		w.timer.Reset(w.limit - quiet)
		return
	}
	w.fired.Store(true)
	w.fire()
}

// stop ends the watch and reports whether the watchdog fired.
func (w *watchdog) stop() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	w.timer.Stop()
	return w.fired.Load()
}
