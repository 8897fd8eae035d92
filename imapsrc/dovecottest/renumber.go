package dovecottest

import (
	"fmt"
	"time"
)

// Renumber gives every message of mailbox a new UID, in the same order,
// and the mailbox a new UIDVALIDITY, as a server move or an index rebuild
// does; the messages keep their bytes, flags and INTERNALDATE. Then it
// drops all of User's connections (Kick), as ResetUIDValidity does.
//
// Unlike ResetUIDValidity, which appends in reverse order, the order is
// kept: the n-th message before is the n-th after, which is what a client
// that matches old and new messages by their look must not be fooled by.
func (s *Server) Renumber(t TB, mailbox string) {
	t.Helper()
	old := s.UIDValidity(t, mailbox)
	tmp := fmt.Sprintf("dovecottest-renumber-%d", time.Now().UnixNano())
	s.Doveadm(t, "mailbox", "create", "-u", s.User, tmp)
	s.Doveadm(t, "move", "-u", s.User, tmp, "mailbox", mailbox, "all")
	s.Doveadm(t, "move", "-u", s.User, mailbox, "mailbox", tmp, "all")
	s.Doveadm(t, "mailbox", "delete", "-u", s.User, tmp)
	s.setUIDValidity(t, mailbox, old+1)
	s.Kick(t)
}
