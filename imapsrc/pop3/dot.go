package pop3

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// errCut means a multi-line response ended without its terminating line:
// the connection was cut, and what arrived is not the whole message.
var errCut = errors.New("the connection ended in the middle of a message")

// dotReader reads one multi-line response (RFC 1939 section 3) and gives
// its exact bytes: a line starting with "." loses that first "." (dot
// unstuffing), the line "." alone ends the response and is not part of it,
// and nothing else is changed, CR and LF included. Lines of any length are
// streamed through the bufio.Reader's buffer, never held whole.
//
// It returns io.EOF only after the terminating line; a connection that
// ends before it gives errCut, never a short body that looks whole.
type dotReader struct {
	r         *bufio.Reader
	lineStart bool // the next byte begins a line
	done      bool // the terminating line was read
	err       error
}

func newDotReader(r *bufio.Reader) *dotReader { return &dotReader{r: r, lineStart: true} }

func (d *dotReader) Read(p []byte) (int, error) {
	if d.done {
		return 0, io.EOF
	}
	if d.err != nil {
		return 0, d.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if d.lineStart {
		b, err := d.r.Peek(1)
		if err != nil {
			return 0, d.fail(err)
		}
		if b[0] == '.' {
			if end, err := d.atEnd(); err != nil || end {
				return 0, err
			}
			d.r.Discard(1) // the stuffed dot
		}
	}
	// Copy up to the end of the line at most, so the next line's first
	// byte is looked at above.
	buf, err := d.r.Peek(min(len(p), d.r.Buffered()))
	if len(buf) == 0 {
		// Nothing buffered: one read from the connection.
		if _, err = d.r.Peek(1); err != nil {
			return 0, d.fail(err)
		}
		buf, _ = d.r.Peek(min(len(p), d.r.Buffered()))
	}
	n := len(buf)
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		n = i + 1
	}
	copy(p, buf[:n])
	d.r.Discard(n)
	d.lineStart = p[n-1] == '\n'
	return n, nil
}

// atEnd looks at a line that starts with "." and reports whether it is the
// terminating line ".CRLF" (or ".LF" from a sloppy server), reading it if
// so.
func (d *dotReader) atEnd() (bool, error) {
	b, err := d.r.Peek(2)
	if err != nil {
		return false, d.fail(err)
	}
	if b[1] == '\n' {
		d.r.Discard(2)
		d.done = true
		return true, io.EOF
	}
	if b[1] != '\r' {
		return false, nil
	}
	b, err = d.r.Peek(3)
	if err != nil {
		return false, d.fail(err)
	}
	if b[2] == '\n' {
		d.r.Discard(3)
		d.done = true
		return true, io.EOF
	}
	return false, nil
}

func (d *dotReader) fail(err error) error {
	if errors.Is(err, io.EOF) {
		err = errCut
	}
	d.err = err
	return err
}

// drain reads the rest of the response, so that the connection is ready
// for the next command.
func (d *dotReader) drain() error {
	_, err := io.Copy(io.Discard, d)
	return err
}
