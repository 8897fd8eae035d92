// Package imaptest is a test harness for hostile networks and servers: a
// fault-injecting TCP proxy (Proxy) and a small scripted IMAP4rev1 server
// (Scripted). It is a normal package so that tests of several packages
// (imapsrc, cache, cmd/mailfs) can share it; nothing but tests may import
// it.
//
// Proxy sits in front of any IMAP server on 127.0.0.1 (Dovecot, Scripted)
// and watches what the server sends with a small incremental scanner: it
// only recognises literals ({N} at the end of a line) and the BODY[…]
// item that announces them, which is all a fault needs. While faults are
// on it cuts the connection inside a body literal with a given probability
// per literal, at a random point, by FIN or by RST, or stalls the stream
// there. A seed makes a run repeatable (as far as the scheduling of
// connections allows).
//
// Scripted is hand-written rather than built on go-imap's server, because
// it must misbehave at the byte level: lie about RFC822.SIZE, send bad
// INTERNALDATE text, announce a literal longer or shorter than the bytes
// it sends, drop the closing parenthesis, name a different section, finish
// a FETCH with NO, repeat a response forever, trickle bytes, send raw LIST
// lines with names no client should accept. It understands exactly what
// imapsrc sends (LOGIN, LIST, STATUS, EXAMINE, NOOP, UID SEARCH, UID
// FETCH, IDLE, LOGOUT) and treats search criteria loosely. Faults are set
// per message, per folder or for the whole server, and can be changed
// while clients are connected; counters tell a test what the client asked
// for (how many body fetches, how many bytes of bodies were sent).
//
// Neither imports go-imap: the harness must not share the parser it tests.
package imaptest
