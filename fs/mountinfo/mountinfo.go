// Package mountinfo reads the kernel's mount table (proc(5)'s
// /proc/self/mountinfo), for the commands that must know whether a folder
// is a mailfs mount: mailfs umount, its completion, mailfs-bench and the
// tests. It is the one parser of that format in the module.
package mountinfo

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Entry is one mount.
type Entry struct {
	Dir    string // the mountpoint
	FSType string // e.g. "fuse.mailfs", "ext4"
	Source string // e.g. "mailfs", "/dev/sda1"
}

// Read reads the mount table of this process's mount namespace.
func Read() ([]Entry, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read the mount table: %w", err)
	}
	defer f.Close()
	return Parse(f)
}

// IsMounted reports whether dir (absolute and clean) is a mountpoint.
func IsMounted(dir string) bool {
	mounts, err := Read()
	if err != nil {
		return false
	}
	for _, m := range mounts {
		if m.Dir == dir {
			return true
		}
	}
	return false
}

// Parse parses proc(5)'s mountinfo format:
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// the mountpoint is the fifth field; after the "-" come the type and
// source. Malformed lines are skipped.
func Parse(r io.Reader) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if len(f) < 5 || sep < 0 || sep+2 >= len(f) {
			continue
		}
		out = append(out, Entry{Dir: unescape(f[4]), FSType: f[sep+1], Source: unescape(f[sep+2])})
	}
	return out, sc.Err()
}

// unescape undoes the octal escapes (\040 for a space) of the mount table.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
