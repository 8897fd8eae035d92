package imaptest

import (
	"bytes"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// fetchItems is what a UID FETCH asks for.
type fetchItems struct {
	date, size, flags bool
	sections          []sectionItem
}

// sectionItem is one BODY[…] item of a FETCH.
type sectionItem struct {
	spec    string // between the brackets, as the client wrote it
	partial bool
	off, n  int64
}

var sectionRE = regexp.MustCompile(`(?i)BODY(?:\.PEEK)?\[([^\]]*)\](?:<(\d+)\.(\d+)>)?`)

func parseFetchItems(s string) fetchItems {
	var it fetchItems
	up := strings.ToUpper(sectionRE.ReplaceAllString(s, ""))
	for _, w := range strings.FieldsFunc(up, func(r rune) bool { return r == ' ' || r == '(' || r == ')' }) {
		switch w {
		case "INTERNALDATE":
			it.date = true
		case "RFC822.SIZE":
			it.size = true
		case "FLAGS":
			it.flags = true
		}
	}
	for _, m := range sectionRE.FindAllStringSubmatch(s, -1) {
		sec := sectionItem{spec: m[1]}
		if m[2] != "" {
			sec.partial = true
			sec.off, _ = strconv.ParseInt(m[2], 10, 64)
			sec.n, _ = strconv.ParseInt(m[3], 10, 64)
		}
		it.sections = append(it.sections, sec)
	}
	return it
}

// fetchJob is one message to answer, with the faults that apply to it.
type fetchJob struct {
	seq int
	m   Message
	f   Faults
	set *faultSet // where f came from, to count its use; nil for none
}

func (c *sconn) fetch(tag string, a *args) error {
	set, _ := a.next()
	items := parseFetchItems(a.rest())
	c.s.mu.Lock()
	var jobs []fetchJob
	if f := c.s.folder(c.selected); f != nil {
		in := parseSet(set, f.maxUID())
		for i, m := range f.msgs {
			if !in(m.UID) {
				continue
			}
			j := fetchJob{seq: i + 1, m: m}
			if fs := c.s.faultsFor(f.name, m.UID); fs.active() {
				j.f, j.set = fs.Faults, fs
			}
			jobs = append(jobs, j)
		}
	}
	c.s.mu.Unlock()

	status := "OK FETCH completed"
	for _, j := range jobs {
		if j.f.Response != nil {
			sent := bytes.ReplaceAll(j.f.Response, []byte("TAG"), []byte(tag))
			c.s.mu.Lock()
			c.s.lastTag, c.s.lastResponse = tag, sent
			c.s.mu.Unlock()
			c.wmu.Lock()
			c.w.Write(sent)
			c.w.Flush()
			c.wmu.Unlock()
			c.nc.Close()
			return errCut
		}
		if j.f.Status != "" && status == "OK FETCH completed" {
			status = j.f.Status
		}
		if j.f.Flood {
			return c.flood(j.seq)
		}
		for {
			if err := c.fetchResponse(j, items); err != nil {
				return err
			}
			if !j.f.Repeat {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	return c.send(tag + " " + status)
}

// flood sends "* N EXISTS" until the client goes away.
func (c *sconn) flood(n int) error {
	for {
		if err := c.send(fmt.Sprintf("* %d EXISTS", n)); err != nil {
			return err
		}
		time.Sleep(time.Millisecond)
	}
}

// fetchResponse writes one message's FETCH response.
func (c *sconn) fetchResponse(j fetchJob, items fetchItems) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	m, f := j.m, j.f
	fmt.Fprintf(c.w, "* %d FETCH (UID %d", j.seq, m.UID)
	if items.flags {
		fmt.Fprintf(c.w, " FLAGS (%s)", strings.Join(m.Flags, " "))
	}
	if items.date {
		date := imapDate(m.Date)
		if f.Date != "" {
			date = f.Date
		}
		fmt.Fprintf(c.w, " INTERNALDATE %s", date)
	}
	if items.size {
		size := strconv.Itoa(len(m.Raw))
		if f.Size != "" {
			size = f.Size
		}
		fmt.Fprintf(c.w, " RFC822.SIZE %s", size)
	}
	for _, sec := range items.sections {
		if sec.spec == "" {
			if err := c.body(j, sec); err != nil {
				return err
			}
			continue
		}
		data := section(m.Raw, sec.spec)
		if sec.partial {
			data = cut(data, sec.off, sec.n)
			fmt.Fprintf(c.w, " BODY[%s]<%d> {%d}\r\n", sec.spec, sec.off, len(data))
		} else {
			fmt.Fprintf(c.w, " BODY[%s] {%d}\r\n", sec.spec, len(data))
		}
		c.w.Write(data)
	}
	if f.NoParen {
		c.w.WriteString("\r\n")
	} else {
		c.w.WriteString(")\r\n")
	}
	return c.w.Flush()
}

// body writes a BODY[] item (whole or partial) with the faults of the
// job, and counts their use (a Cut only where it cuts); c.wmu must be
// held.
func (c *sconn) body(j fetchJob, sec sectionItem) error {
	m, f := j.m, j.f
	data := m.Raw
	if f.Body != nil {
		data = f.Body
	}
	name := ""
	if f.Section != "" {
		name = f.Section
		if f.Body == nil {
			data = section(data, f.Section)
		}
	}
	var off int64
	if sec.partial {
		off = sec.off
		data = cut(data, sec.off, sec.n)
	}
	announce := strconv.Itoa(len(data))
	if f.Announce != "" {
		announce = f.Announce
	}
	send, cutHere := int64(len(data)), false
	if f.Cut {
		total := int64(len(m.Raw))
		if f.Body != nil {
			total = int64(len(f.Body))
		}
		end := off + int64(len(data))
		switch {
		case f.Keep >= off && f.Keep < end:
			send, cutHere = f.Keep-off, true
		case f.Keep >= end && end >= total:
			cutHere = true
		}
	}
	if sec.partial {
		fmt.Fprintf(c.w, " BODY[%s]<%d> {%s}\r\n", name, off, announce)
	} else {
		fmt.Fprintf(c.w, " BODY[%s] {%s}\r\n", name, announce)
	}
	c.s.mu.Lock()
	if j.set != nil && (!f.Cut || cutHere) {
		j.set.used++
	}
	c.s.bodies++
	if sec.partial {
		c.s.partials++
	}
	c.s.mu.Unlock()
	if err := c.write(data[:send], f.Rate); err != nil {
		return err
	}
	if cutHere {
		c.w.Flush()
		if tc, ok := c.nc.(*net.TCPConn); ok && f.Reset {
			tc.SetLinger(0)
		}
		c.nc.Close()
		return errCut
	}
	return nil
}

// write sends body bytes, at most rate bytes a second when rate > 0, and
// counts them.
func (c *sconn) write(p []byte, rate int) error {
	step := len(p)
	if rate > 0 {
		step = max(rate/20, 1) // a piece every 50 ms
	}
	for len(p) > 0 {
		n := min(step, len(p))
		c.w.Write(p[:n])
		c.s.mu.Lock()
		c.s.bodyBytes += int64(n)
		c.s.mu.Unlock()
		p = p[n:]
		if rate > 0 {
			if err := c.w.Flush(); err != nil {
				return err
			}
			time.Sleep(time.Duration(n) * time.Second / time.Duration(rate))
		}
	}
	return nil
}

// section returns a section of a message: HEADER (with its blank line),
// TEXT or a part number (the text after the header; parts are not
// parsed), HEADER.FIELDS (…) (those fields and a blank line), else all.
func section(raw []byte, spec string) []byte {
	head, text := raw, []byte(nil)
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		head, text = raw[:i+4], raw[i+4:]
	} else if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		head, text = raw[:i+2], raw[i+2:]
	}
	up := strings.ToUpper(spec)
	switch {
	case up == "":
		return raw
	case up == "HEADER":
		return head
	case strings.HasPrefix(up, "HEADER.FIELDS.NOT"):
		return head
	case strings.HasPrefix(up, "HEADER.FIELDS"):
		return headerFields(head, fieldNames(spec))
	}
	return text
}

// fieldNames reads the names of a HEADER.FIELDS ("A" "B") list.
func fieldNames(spec string) map[string]bool {
	out := map[string]bool{}
	if i := strings.IndexByte(spec, '('); i >= 0 {
		for _, w := range strings.Fields(strings.Trim(spec[i:], "()")) {
			out[strings.ToUpper(strings.Trim(w, `"`))] = true
		}
	}
	return out
}

// headerFields keeps the header fields named (with their continuation
// lines) and ends them with a blank line.
func headerFields(head []byte, names map[string]bool) []byte {
	var out []byte
	keep := false
	for _, line := range bytes.SplitAfter(head, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
		if line[0] != ' ' && line[0] != '\t' {
			name, _, _ := bytes.Cut(line, []byte(":"))
			keep = names[strings.ToUpper(string(bytes.TrimSpace(name)))]
		}
		if keep {
			out = append(out, line...)
		}
	}
	return append(out, "\r\n"...)
}

// cut returns data[off:off+n], clipped to data.
func cut(data []byte, off, n int64) []byte {
	if off >= int64(len(data)) {
		return nil
	}
	return data[off:min(off+n, int64(len(data)))]
}
