package demo

import (
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// session is imapmemserver's session for the one demo user, made to honour
// EXAMINE: imapmemserver accepts the read-only flag but ignores it.
type session struct {
	*imapmemserver.UserSession // nil until Login, as in imapmemserver

	user     *imapmemserver.User
	readOnly bool // the selected mailbox was opened with EXAMINE
}

// The embedded UserSession supplies the optional interfaces; keep them.
var (
	_ imapserver.SessionIMAP4rev2 = (*session)(nil)
	_ imapserver.SessionNamespace = (*session)(nil)
	_ imapserver.SessionMove      = (*session)(nil)
)

var errReadOnly = &imap.Error{
	Type: imap.StatusResponseTypeNo,
	Text: "Mailbox was opened with EXAMINE and is read-only",
}

func (s *session) Login(username, password string) error {
	if err := s.user.Login(username, password); err != nil {
		return err
	}
	s.UserSession = imapmemserver.NewUserSession(s.user)
	return nil
}

func (s *session) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	data, err := s.UserSession.Select(name, options)
	if err == nil {
		s.readOnly = options.ReadOnly
	}
	return data, err
}

func (s *session) Unselect() error {
	s.readOnly = false
	return s.UserSession.Unselect()
}

// Fetch turns BODY[…] into BODY.PEEK[…] in a read-only mailbox, so that
// \Seen is not set (RFC 3501 §6.3.2). The items are changed in place because
// imapserver identifies RFC822-style items by pointer when writing.
func (s *session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	if s.readOnly {
		for _, bs := range options.BodySection {
			bs.Peek = true
		}
		for _, bs := range options.BinarySection {
			bs.Peek = true
		}
	}
	return s.UserSession.Fetch(w, numSet, options)
}

func (s *session) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	if s.readOnly {
		return errReadOnly
	}
	return s.UserSession.Store(w, numSet, flags, options)
}

// Expunge does nothing in a read-only mailbox. It cannot fail there because
// imapserver also calls it for CLOSE, which must succeed after EXAMINE.
func (s *session) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	if s.readOnly {
		return nil
	}
	return s.UserSession.Expunge(w, uids)
}

func (s *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	if s.readOnly {
		return errReadOnly
	}
	return s.UserSession.Move(w, numSet, dest)
}
