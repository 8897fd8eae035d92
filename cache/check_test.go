package cache_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"mailfs/cache"
)

func check(t *testing.T, c *cache.Cache, sample int) []cache.Difference {
	t.Helper()
	var diffs []cache.Difference
	fcs, err := c.Check(context.Background(), sample, func(d cache.Difference) { diffs = append(diffs, d) })
	if err != nil {
		t.Fatal(err)
	}
	if len(fcs) != 1 || fcs[0].Differences != len(diffs) {
		t.Fatalf("folder checks %+v for %d differences", fcs, len(diffs))
	}
	return diffs
}

// Check finds nothing in a cache in step with its server; a cached body
// changed on disk (size and mtime kept) is named whether or not it is in
// the sample; a body the server now gives other bytes is found when it
// is compared.
func TestCheck(t *testing.T) {
	bodies := map[uint32][]byte{
		1: []byte("Subject: one\r\n\r\nfirst\r\n"),
		2: []byte("Subject: two\r\n\r\nsecond\r\n"),
	}
	src := &fakeSource{bodies: bodies}
	c, dir, msgs := openFake(t, src)
	for _, m := range msgs {
		readBody(t, c, "INBOX", m)
	}
	if d := check(t, c, -1); len(d) != 0 {
		t.Fatalf("in step: %+v", d)
	}
	fetched := src.fetches

	path := cachedBodies(t, dir)[0]
	fi, _ := os.Stat(path)
	b, _ := os.ReadFile(path)
	os.WriteFile(path, bytes.ToUpper(b), 0o600)
	os.Chtimes(path, fi.ModTime(), fi.ModTime())
	d := check(t, c, 0)
	if len(d) != 1 || !strings.Contains(d[0].What, "does not match its stored hash") || !strings.HasSuffix(d[0].Name, ".eml") {
		t.Fatalf("a damaged body, no sample: %+v", d)
	}
	if src.fetches != fetched {
		t.Errorf("a check without a sample downloaded %d bodies", src.fetches-fetched)
	}
	os.WriteFile(path, b, 0o600) // repaired
	os.Chtimes(path, fi.ModTime(), fi.ModTime())

	src.bodies[2] = bytes.ToUpper(bodies[2])
	d = check(t, c, -1)
	if len(d) != 1 || d[0].What != "the cached body differs from the server's" || d[0].Name != msgs[1].Stem+".eml" {
		t.Fatalf("a body the server changed: %+v", d)
	}
}
