package dovecottest

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func TestRenumber(t *testing.T) {
	s := Start(t)
	for _, box := range []string{"Archiv/2024", "INBOX"} {
		t.Run(strings.ReplaceAll(box, "/", "_"), func(t *testing.T) {
			if box != "INBOX" {
				s.Create(t, box)
			}
			uid1 := s.Append(t, box, msg1, date1, `\Seen`)
			uid2 := s.Append(t, box, msg2, date2, `\Answered`)
			before := s.UIDValidity(t, box)

			s.Renumber(t, box)

			if after := s.UIDValidity(t, box); after == before {
				t.Fatalf("UIDVALIDITY still %d", after)
			}
			c := s.Dial(t)
			if _, err := c.Select(box, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
				t.Fatal(err)
			}
			msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1}}, &imap.FetchOptions{InternalDate: true}).Collect()
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 2 {
				t.Fatalf("%d messages after renumbering, want 2", len(msgs))
			}
			first, second := uint32(msgs[0].UID), uint32(msgs[1].UID)
			if first == uid1 || second == uid2 {
				t.Errorf("UIDs %d, %d after renumbering, were %d, %d", first, second, uid1, uid2)
			}
			// The order is kept.
			if !bytes.Equal(s.Fetch(t, box, first), msg1) || !bytes.Equal(s.Fetch(t, box, second), msg2) {
				t.Errorf("messages not kept in order")
			}
			if !msgs[0].InternalDate.Equal(date1) || !msgs[1].InternalDate.Equal(date2) {
				t.Errorf("INTERNALDATEs %v, %v not kept", msgs[0].InternalDate, msgs[1].InternalDate)
			}
			if f := s.Flags(t, box, first); !slices.Equal(f, []string{`\Seen`}) {
				t.Errorf("flags %q, want \\Seen", f)
			}
			if f := s.Flags(t, box, second); !slices.Equal(f, []string{`\Answered`}) {
				t.Errorf("flags %q, want \\Answered", f)
			}
		})
	}
}
