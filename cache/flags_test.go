package cache_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"mailfs/cache"
)

// A flags file reads back as it was written: sorted by name, system flags
// spelt one way, \Recent and \Deleted left out; the same flags make the
// same bytes and mtime, other flags another mtime.
func TestFlagsFileRoundTrip(t *testing.T) {
	d := time.Date(2024, 3, 1, 14, 32, 5, 0, time.UTC)
	msgs := []cache.Msg{
		{UID: 7, Date: d, Stem: "2024-03-01 143205 b [bbbbbbbb]"},
		{UID: 3, Date: d.Add(-time.Hour), Stem: "2024-03-01 133205 a [aaaaaaaa]"},
		{UID: 9, Date: d.Add(-2 * time.Hour), Stem: "2024-03-01 123205 c [cccccccc]"},
	}
	flags := map[uint32][]string{7: {`$Forwarded`, `\Seen`, `\Answered`}, 3: {`Important`}}
	b, mtime := cache.MakeFlagsFile(msgs, flags)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	var body []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "#") {
			body = append(body, l)
		}
	}
	want := []string{
		"2024-03-01 123205 c [cccccccc]\t",
		"2024-03-01 133205 a [aaaaaaaa]\tImportant",
		"2024-03-01 143205 b [bbbbbbbb]\t$Forwarded \\Seen \\Answered",
	}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("flags file lines %q, want %q", body, want)
	}
	if mtime.Unix() != d.Unix() {
		t.Errorf("mtime %v, want the newest date %v (plus nanoseconds)", mtime, d)
	}
	again, mtime2 := cache.MakeFlagsFile(msgs, flags)
	if !bytes.Equal(again, b) || !mtime2.Equal(mtime) {
		t.Errorf("the same flags made another file or mtime")
	}
	_, mtime3 := cache.MakeFlagsFile(msgs, map[uint32][]string{7: {`$Forwarded`, `\Seen`, `\Flagged`}, 3: {`Important`}})
	if mtime3.Equal(mtime) {
		t.Errorf("other flags of the same length kept the mtime %v", mtime)
	}

	got, err := cache.ParseFlagsFile(strings.NewReader(string(b) + "x [dddddddd]\t\\seen \\RECENT \\Deleted $A $A\n"))
	if err != nil {
		t.Fatal(err)
	}
	wantParsed := map[string][]string{
		"2024-03-01 123205 c [cccccccc]": {},
		"2024-03-01 133205 a [aaaaaaaa]": {"Important"},
		"2024-03-01 143205 b [bbbbbbbb]": {`$Forwarded`, `\Answered`, `\Seen`},
		"x [dddddddd]":                   {`$A`, `\Seen`},
	}
	if !reflect.DeepEqual(got, wantParsed) {
		t.Errorf("parsed %q, want %q", got, wantParsed)
	}
}

func TestBadFlagsFiles(t *testing.T) {
	for _, bad := range []string{
		"no tab\n",
		"\t\\Seen\n",
		"name\t\\Bogus\n",
		"name\tbad(flag\n",
		"name\tbad]flag\n",
		"name\t\"quoted\"\n",
		"name\tnon-ascii-é\n",
	} {
		if _, err := cache.ParseFlagsFile(strings.NewReader(bad)); !errors.Is(err, cache.ErrNotFlags) {
			t.Errorf("ParseFlagsFile(%q) = %v, want ErrNotFlags", bad, err)
		}
	}
}
