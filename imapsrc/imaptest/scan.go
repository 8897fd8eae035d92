package imaptest

import (
	"bytes"
	"strconv"
)

// litScanner finds body literals in the stream a server sends, fed to it
// in chunks of any size. It knows only two things of IMAP: a line ending
// in {N} is followed by N bytes of literal data (which may hold anything,
// including more {N} lines, and is skipped), and a literal is a body when
// the text before {N} ends with a BODY[section] item, optionally with an
// <origin> (as in "* 3 FETCH (UID 7 BODY[]<0> {512}").
type litScanner struct {
	all  bool   // every BODY[…] section, not only BODY[] (the whole message)
	lit  int64  // bytes of the current literal still to come
	line []byte // the current line since its start or the last literal; the tail only
}

// litStart is a body literal whose first data byte is at off in the chunk
// just scanned (off may equal the chunk's length: the data starts in the
// next chunk).
type litStart struct {
	off  int
	size int64
}

// maxLine bounds the part of a line kept: a literal's announcement needs
// only the end of the line before it.
const maxLine = 1024

// scan consumes p and returns the body literals that start in it.
func (s *litScanner) scan(p []byte) []litStart {
	var out []litStart
	for i := 0; i < len(p); {
		if s.lit > 0 {
			n := min(s.lit, int64(len(p)-i))
			s.lit -= n
			i += int(n)
			continue
		}
		c := p[i]
		i++
		if c != '\n' {
			if len(s.line) >= maxLine {
				s.line = append(s.line[:0], s.line[len(s.line)-maxLine/2:]...)
			}
			s.line = append(s.line, c)
			continue
		}
		size, body, ok := s.announced()
		s.line = s.line[:0]
		if !ok {
			continue
		}
		s.lit = size
		if body && size > 0 {
			out = append(out, litStart{off: i, size: size})
		}
	}
	return out
}

// announced parses the line just ended (without its \n): whether it ends
// with a literal's {N}\r and whether that literal is a body.
func (s *litScanner) announced() (size int64, body, ok bool) {
	l, found := bytes.CutSuffix(s.line, []byte("}\r"))
	if !found {
		return 0, false, false
	}
	open := bytes.LastIndexByte(l, '{')
	if open < 0 {
		return 0, false, false
	}
	size, err := strconv.ParseInt(string(l[open+1:]), 10, 64)
	if err != nil || size < 0 {
		return 0, false, false
	}
	return size, s.isBody(bytes.TrimRight(l[:open], " ")), true
}

// isBody reports whether before (the text ahead of a literal) ends with a
// body section item this scanner watches.
func (s *litScanner) isBody(before []byte) bool {
	if bytes.HasSuffix(before, []byte(">")) { // BODY[]<origin>
		lt := bytes.LastIndexByte(before, '<')
		if lt < 0 {
			return false
		}
		before = before[:lt]
	}
	if !bytes.HasSuffix(before, []byte("]")) {
		return false
	}
	start := bytes.LastIndex(bytes.ToUpper(before), []byte("BODY["))
	if start < 0 {
		return false
	}
	section := before[start+len("BODY[") : len(before)-1]
	return s.all || len(section) == 0
}
