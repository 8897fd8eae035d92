// Package pop3 is mailfs's POP3 client: it implements cache.Source for a
// POP3 maildrop, shown as one folder, INBOX, through the same cache and
// views as an IMAP account. It is the only package that speaks POP3.
//
// It only ever reads. DELE is never sent (client.send refuses it), so
// nothing is deleted on the server, whatever happens; the write operations
// of cache.Source fail with ErrReadOnly, and there are no flags.
//
// The client is our own (client.go, dot.go): RFC 1939 with CAPA (RFC
// 2449), STLS (RFC 2595) and SASL AUTH (RFC 5034). The Go POP3 clients we
// looked at are not served by the Go module proxy we can use, and the
// best known of them lacks STLS and SASL and reads a whole RETR into
// memory; the protocol is small enough that owning it costs less than
// working around that.
//
// Choices:
//   - Messages are identified by UIDL. Each UIDL gets a UID in the order
//     messages are first seen, kept in a small state file in the cache
//     folder (uids.go), so that the cache, made for IMAP's ascending UIDs
//     and UIDNEXT, works unchanged. The file's UIDVALIDITY is new whenever
//     the file is: a lost map renumbers, it never misnames.
//   - POP3 numbers messages per session, and a session does not see mail
//     that arrived after it began: Status always starts a new session, and
//     the rest of a sync uses that one. Sessions are short (idleLimit),
//     since many servers lock the maildrop while one is open.
//   - The date of a message is its Date: header (POP3 has no
//     INTERNALDATE), else the newest Received: date; sizes come from
//     LIST, which RFC 1939 says is exact, and the cache corrects them from
//     the body anyway; the listing reads headers with TOP n 0, pipelined
//     where the server offers PIPELINING.
//   - Bodies are streamed from RETR (dot.go): dot-unstuffed, byte for
//     byte, and a connection that ends before the terminating line is an
//     error, never a short body. POP3 cannot fetch from an offset, so the
//     parts of a big message (cache.PartSize) read on in one open RETR.
//   - TLS and passwords follow imapsrc's rules, with its Config (ports 995
//     and 110): certificates always verified, no password or token without
//     TLS except to a loopback server. Logins: SASL PLAIN where offered,
//     else USER/PASS; a token by XOAUTH2 or OAUTHBEARER through AUTH.
package pop3
