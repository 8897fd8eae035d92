// Package demo runs an in-process IMAP server holding the sample mailbox, for
// `mailfs mount --demo DIR` and for tests that want a real IMAP conversation
// without an external server.
//
// It is go-imap's imapserver with the imapmemserver backend, seeded from
// package sample: every folder of sample.Folders is created and subscribed,
// and every message of sample.Messages is appended with its INTERNALDATE and
// flags. The server speaks plain IMAP on 127.0.0.1 only; plaintext LOGIN is
// allowed because the traffic never leaves the host, and the password is
// random per server so that other local users cannot guess it.
//
// Behaviour that differs from imapmemserver (see session.go): EXAMINE really
// is read-only. imapmemserver ignores the read-only flag, so a FETCH of
// BODY[] in an examined mailbox would set \Seen and STORE would succeed.
//
// Known imapmemserver properties that the rest of mailfs must tolerate:
//   - UIDVALIDITY is 1, 2, 3… in creation order, the same on every start.
//     The demo content is also the same on every start of the same binary,
//     but a cache kept across builds must not trust it blindly.
//   - LIST returns no \HasChildren / \HasNoChildren attributes although
//     CHILDREN is advertised; "Archiv" is an ordinary, empty, selectable
//     mailbox, never \Noselect.
//   - Flags are stored in lower case and returned as e.g. `\seen`; IMAP
//     flags are case-insensitive and imapclient canonicalises system flags.
//     EXAMINE still reports PERMANENTFLAGS (… \*).
//   - A FETCH holds the mailbox lock while the response is written, so one
//     slow reader blocks other sessions on the same mailbox.
//
// The package must not be used for anything but loopback demos and tests.
package demo

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log"
	"net"
	"os"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"mailfs/imapsrc/sample"
)

// Username is the login name of the demo account.
const Username = "demo"

// Server is a running demo server. Addr, User and Password are what a client
// needs to log in; Addr is "127.0.0.1:PORT".
type Server struct {
	Addr, User, Password string

	srv       *imapserver.Server
	served    chan struct{} // closed when Serve has returned
	closeOnce sync.Once
	closeErr  error
}

// Start listens on a free loopback port, seeds the sample mailbox and serves
// connections in background goroutines until Close.
func Start() (*Server, error) {
	password, err := randomPassword()
	if err != nil {
		return nil, err
	}
	user, err := seed(password)
	if err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: listen: %w", err)
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &session{user: user}, nil, nil
		},
		Caps: imap.CapSet{
			imap.CapIMAP4rev1: {},
			imap.CapIMAP4rev2: {},
		},
		InsecureAuth: true, // loopback only, see package doc
		Logger:       log.New(os.Stderr, "demo imap server: ", log.LstdFlags),
	})
	s := &Server{
		Addr:     ln.Addr().String(),
		User:     Username,
		Password: password,
		srv:      srv,
		served:   make(chan struct{}),
	}
	go func() {
		defer close(s.served)
		if err := srv.Serve(ln); err != nil {
			log.Printf("demo imap server: serve %s: %v", s.Addr, err)
		}
	}()
	return s, nil
}

// Close stops listening, closes every connection and waits for the accept
// loop to end. Calling it again returns the first result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.srv.Close()
		<-s.served
	})
	return s.closeErr
}

// seed builds the demo account.
func seed(password string) (*imapmemserver.User, error) {
	user := imapmemserver.NewUser(Username, password)
	for _, name := range sample.Folders() {
		if err := user.Create(name, nil); err != nil {
			return nil, fmt.Errorf("demo: create %q: %w", name, err)
		}
		if err := user.Subscribe(name); err != nil {
			return nil, fmt.Errorf("demo: subscribe %q: %w", name, err)
		}
	}
	for i, m := range sample.Messages() {
		flags := make([]imap.Flag, len(m.Flags))
		for j, f := range m.Flags {
			flags[j] = imap.Flag(f)
		}
		_, err := user.Append(m.Folder, bytes.NewReader(m.Raw) /* an imap.LiteralReader */, &imap.AppendOptions{
			Flags: flags,
			Time:  m.Date,
		})
		if err != nil {
			return nil, fmt.Errorf("demo: append message %d to %q: %w", i, m.Folder, err)
		}
	}
	return user, nil
}

func randomPassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("demo: password: %w", err)
	}
	return hex.EncodeToString(b), nil
}
