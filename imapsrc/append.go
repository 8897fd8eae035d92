package imapsrc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailfs/cache"
)

// The only commands that change the server, sent for a writable mount
// (cache.Commit and cache.CreateFolder). Neither is retried on a broken
// connection: the server may have done it already.

// Append implements cache.Source: APPEND with the date as INTERNALDATE
// and the flags given. With UIDPLUS the server's APPENDUID tells the new UID.
func (s *Source) Append(ctx context.Context, folder string, r io.Reader, size int64, date time.Time, flags []string) (uidValidity, uid uint32, err error) {
	err = s.run(ctx, "append", "", 1, func(cn *conn) error {
		cmd := cn.c.Append(folder, size, &imap.AppendOptions{Time: date, Flags: imapFlags(flags)})
		// The server says nothing while the literal is sent: each chunk
		// sent is progress for the stall watchdog.
		_, werr := io.Copy(cmd, &progressReader{r: r, cn: cn})
		cerr := cmd.Close()
		if werr != nil {
			var ie *imap.Error
			if errors.As(werr, &ie) {
				// Refused before the literal was sent (the server
				// answered the size instead of asking for the data).
				return appendError(folder, werr)
			}
			// The literal is cut short: the connection is out of step.
			cn.close()
			return fmt.Errorf("append %q: send the message: %w", folder, werr)
		}
		data, err := cmd.Wait()
		if err == nil {
			err = cerr
		}
		if err != nil {
			return appendError(folder, err)
		}
		uidValidity, uid = data.UIDValidity, uint32(data.UID)
		return nil
	})
	return uidValidity, uid, err
}

// appendError tells a refusal for room or size from other errors; the
// server's answer stays in the message.
func appendError(folder string, err error) error {
	var ie *imap.Error
	if errors.As(err, &ie) {
		switch ie.Code {
		case imap.ResponseCodeOverQuota:
			return fmt.Errorf("append %q: %w (server: %v)", folder, cache.ErrOverQuota, err)
		case imap.ResponseCodeTooBig, imap.ResponseCodeLimit:
			// TOOBIG (RFC 4469, APPENDLIMIT); LIMIT (RFC 5530) is what
			// Dovecot says for a message over its size limit.
			return fmt.Errorf("append %q: %w (server: %v)", folder, cache.ErrTooBig, err)
		}
	}
	return fmt.Errorf("append %q: %w", folder, mapNo(err, folder))
}

// progressReader reports every read to the connection's watchdog.
type progressReader struct {
	r  io.Reader
	cn *conn
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.cn.progress()
	}
	return n, err
}

// CreateFolder implements cache.Source (CREATE; go-imap encodes the name
// in modified UTF-7).
func (s *Source) CreateFolder(ctx context.Context, name string) error {
	return s.run(ctx, "create", "", 1, func(cn *conn) error {
		err := cn.c.Create(name, nil).Wait()
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists {
			return fmt.Errorf("create %q: %w (server: %v)", name, os.ErrExist, err)
		}
		if err != nil {
			return fmt.Errorf("create %q: %w", name, err)
		}
		return nil
	})
}
