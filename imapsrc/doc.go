// Package imapsrc is mailfs's IMAP client: it implements cache.Source on
// top of go-imap v2 and is the only package that speaks IMAP.
//
// It only ever reads. Mailboxes are opened with EXAMINE and bodies fetched
// with BODY.PEEK[], so no flag changes and nothing is expunged. Listing a
// folder is one pipelined UID FETCH of UID, INTERNALDATE, RFC822.SIZE and
// two header fields (parsed here with go-message, so an odd ENVELOPE can
// not break a listing); bodies are fetched many to a command and streamed
// to the cache, never held in memory.
//
// A Source is a small pool of logged-in connections (Config.Conns). A
// connection that breaks (server restart, kick, an unparsable response) is
// dropped and the operation retried once on a new one; every operation is
// a read, so a retry is safe. go-imap's client takes no context: an
// operation whose context ends closes its connection.
//
// A body is delivered only when the server's response proves it whole
// (fetchbody.go): go-imap reports a literal cut short by a dropped
// connection as a plain end of file, so imapsrc counts the bytes itself.
// Big bodies are fetched in parts (FetchPart), so a cut costs one part.
// Time limits are on progress, never on the total time (stall.go).
//
// One bad item does not take down a listing: a LIST or FETCH response
// go-imap cannot parse (a folder name that is not modified UTF-7, an
// RFC822.SIZE of -5) is found on a framed connection, which hands go-imap
// one response at a time, and then left out and reported once (skip.go,
// framed.go).
//
// Logins use a password or an OAuth2 token (XOAUTH2, OAUTHBEARER; oauth.go)
// and TLS that is always verified; a password is never sent in the clear
// except to a loopback server. Provider presets are in providers.go, the
// folder and date filters in filter.go.
package imapsrc
