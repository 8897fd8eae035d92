package cache

import (
	"bufio"
	"bytes"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode subjects in every charset people send
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// ParseMetaHeader decodes the subject and message ID from header fields
// (what a listing fetches, or a whole header). A broken header gives
// what could be read, never an error.
func ParseMetaHeader(raw []byte) (subject, id string) {
	raw = append(raw, "\r\n"...)
	// A reader sized to the header: the default 4 KiB buffer per message
	// is most of the garbage of listing a big folder.
	h, _ := textproto.ReadHeader(bufio.NewReaderSize(bytes.NewReader(raw), len(raw)))
	mh := mail.Header{Header: message.Header{Header: h}}
	subject, err := mh.Subject()
	if err != nil {
		subject = mh.Get("Subject")
	}
	id = strings.Trim(strings.TrimSpace(mh.Get("Message-Id")), "<>")
	return subject, id
}
