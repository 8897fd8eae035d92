package mountinfo

import (
	"slices"
	"strings"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	in := `22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw
36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
90 22 0:50 / /home/me/my\040mail rw,nosuid,nodev,relatime shared:40 - fuse.mailfs mailfs ro,user_id=0
bad line
91 22 0:51 / /x rw - fuse mailfs rw
`
	got, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{"/proc", "proc", "proc"},
		{"/mnt2", "ext3", "/dev/root"},
		{"/home/me/my mail", "fuse.mailfs", "mailfs"},
		{"/x", "fuse", "mailfs"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}
