package imaptest_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"mailfs/cache"
	"mailfs/imapsrc/imaptest"
)

// TestFetchHeaders: imapsrc's FetchHeaders returns each message's header
// section exactly, leaves out what the server does not have, and fails
// unless the FETCH completed properly.
func TestFetchHeaders(t *testing.T) {
	s := imaptest.StartScripted(t)
	one, two := msg("one", 3), msg("two", 30)
	a := s.Append("INBOX", one, date)
	b := s.Append("INBOX", two, date)
	src := source(t, s.Addr, s)
	ctx := context.Background()

	got, err := src.FetchHeaders(ctx, "INBOX", 1, []uint32{a, b, 99})
	if err != nil {
		t.Fatal(err)
	}
	head := func(raw []byte) []byte { return raw[:bytes.Index(raw, []byte("\r\n\r\n"))+4] }
	if len(got) != 2 || !bytes.Equal(got[a], head(one)) || !bytes.Equal(got[b], head(two)) {
		t.Errorf("headers %v, want %q and %q", got, head(one), head(two))
	}
	if _, err := src.FetchHeaders(ctx, "INBOX", 2, []uint32{a}); !errors.Is(err, cache.ErrUIDValidity) {
		t.Errorf("with another UIDVALIDITY: %v, want ErrUIDValidity", err)
	}
	for name, f := range map[string]imaptest.Faults{
		"completed with NO":  {Status: "NO [UNAVAILABLE] later"},
		"no closing paren":   {NoParen: true},
		"completed with BAD": {Status: "BAD broken"},
	} {
		s.SetFaults("INBOX", b, &f)
		if got, err := src.FetchHeaders(ctx, "INBOX", 1, []uint32{a, b}); err == nil {
			t.Errorf("%s: no error (got %d headers)", name, len(got))
		}
	}
}
