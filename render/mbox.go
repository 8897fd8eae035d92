package render

import (
	"bytes"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"
)

// A folder's mbox (the mbox format, a folder's file rather than a
// message's view) is mboxrd: each message is an entry of a "From " line
// (MboxFromLine), the message's bytes with CRLF turned into LF and every
// line matching ^>*From  given one more '>' (MboxEncoder), and a blank
// line. A reader that removes one '>' from such lines gets the message
// back exactly, but for its line ends (and a final line end added to a
// message that had none). The encoder is resumable (its state is a small
// value), so the caller can stream a folder of any size and serve byte
// ranges of it without holding an entry in memory.

// MboxHeadSize is how much of a message's start MboxFromLine looks at for
// the envelope sender.
const MboxHeadSize = 64 << 10

// MboxFromLine returns the "From " line that starts a message's entry:
// the envelope sender (the address of Return-Path, else of From, else
// MAILER-DAEMON) and the INTERNALDATE in UTC, in asctime format. head is
// the message's start (MboxHeadSize bytes suffice).
func MboxFromLine(head []byte, date time.Time) []byte {
	return []byte("From " + mboxSender(head) + " " + date.UTC().Format(time.ANSIC) + "\n")
}

// mboxSender is the envelope sender of the message starting with head.
func mboxSender(head []byte) string {
	h, _ := splitHeader(head)
	if rp := strings.TrimSpace(h.Get("Return-Path")); rp != "" {
		addr := strings.TrimSpace(strings.Trim(rp, "<>"))
		if a, err := mail.ParseAddress(rp); err == nil {
			addr = a.Address
		}
		if addr == "" {
			return "MAILER-DAEMON" // the null sender of a bounce
		}
		if mboxAddr(addr) {
			return addr
		}
	}
	mh := mail.Header{Header: h}
	if list, err := mh.AddressList("From"); err == nil && len(list) > 0 && mboxAddr(list[0].Address) {
		return list[0].Address
	}
	return "MAILER-DAEMON"
}

// mboxAddr tells whether addr can stand in a From line: one word.
func mboxAddr(addr string) bool {
	if addr == "" {
		return false
	}
	for i := 0; i < len(addr); i++ {
		if addr[i] <= ' ' || addr[i] == 0x7f {
			return false
		}
	}
	return true
}

// MboxEncoder turns a message's bytes into the body of its mbox entry, a
// piece at a time. Its zero value is not ready: start with NewMboxEncoder.
// Copying the value saves its state.
type MboxEncoder struct {
	cr    bool // a CR held back: an LF after it drops it
	start bool // at the start of a line
	gt    int  // '>'s held at the start of the line
	from  int  // bytes of "From " matched after them
	wrote bool // some byte was given out
	nl    bool // the last byte given out was an LF
}

// NewMboxEncoder returns an encoder at the start of a message.
func NewMboxEncoder() MboxEncoder { return MboxEncoder{start: true} }

const fromWord = "From "

// Encode appends to dst the encoding of p, the next bytes of the message.
// A few bytes may be held back until the next Encode or End.
func (e *MboxEncoder) Encode(dst, p []byte) []byte {
	for len(p) > 0 {
		if e.cr {
			e.cr = false
			if p[0] == '\n' {
				dst = e.put(dst, p[:1])
				p = p[1:]
				continue
			}
			dst = e.put(dst, []byte{'\r'})
		}
		if e.start {
			switch b := p[0]; {
			case b == '>' && e.from == 0:
				e.gt++
				p = p[1:]
				continue
			case b == fromWord[e.from]:
				e.from++
				p = p[1:]
				if e.from == len(fromWord) {
					e.gt++ // the quote: one '>' more
					dst = e.flushLine(dst)
				}
				continue
			default:
				dst = e.flushLine(dst)
			}
		}
		i := bytes.IndexAny(p, "\r\n")
		if i < 0 {
			return e.put(dst, p)
		}
		dst = e.put(dst, p[:i])
		if p[i] == '\r' {
			e.cr = true
		} else {
			dst = e.put(dst, p[i:i+1])
		}
		p = p[i+1:]
	}
	return dst
}

// End appends what the encoder held back, a line end if the message did
// not end with one, and the blank line that ends the entry.
func (e *MboxEncoder) End(dst []byte) []byte {
	if e.cr {
		e.cr = false
		dst = e.put(dst, []byte{'\r'})
	}
	if e.start {
		dst = e.flushLine(dst)
	}
	if e.wrote && !e.nl {
		dst = append(dst, '\n')
	}
	return append(dst, '\n')
}

// flushLine gives out the '>'s and the part of "From " held at the start
// of a line: the line is not (or no longer) one to decide on.
func (e *MboxEncoder) flushLine(dst []byte) []byte {
	out := dst
	for range e.gt {
		out = append(out, '>')
	}
	out = append(out, fromWord[:e.from]...)
	e.start, e.gt, e.from = false, 0, 0
	if len(out) > len(dst) {
		e.wrote, e.nl = true, false
	}
	return out
}

// put gives out p, which holds no CR and no LF but as its only byte.
func (e *MboxEncoder) put(dst, p []byte) []byte {
	if len(p) == 0 {
		return dst
	}
	e.wrote, e.nl = true, p[len(p)-1] == '\n'
	e.start = e.nl
	return append(dst, p...)
}

// WriteMbox writes the mbox entry of the message read from r, with date
// its INTERNALDATE, to w, and returns how many bytes it wrote. It holds
// at most MboxHeadSize bytes of the message at a time; with io.Discard as
// w it computes an entry's size.
func WriteMbox(w io.Writer, r io.Reader, date time.Time) (int64, error) {
	in := make([]byte, MboxHeadSize)
	n, err := io.ReadFull(r, in)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return 0, err
	}
	out := MboxFromLine(in[:n], date)
	enc := NewMboxEncoder()
	var total int64
	for {
		out = enc.Encode(out, in[:n])
		if n == 0 || err != nil {
			if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
				return total, err
			}
			out = enc.End(out)
		}
		m, werr := w.Write(out)
		total += int64(m)
		if werr != nil {
			return total, werr
		}
		if n == 0 || err != nil {
			return total, nil
		}
		out = out[:0]
		n, err = io.ReadFull(r, in)
	}
}
