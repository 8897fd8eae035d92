package fs

import (
	"context"
	"errors"
	"log/slog"
	"syscall"

	"mailfs/cache"
)

// errno maps an error from the cache to what the kernel is told. Unknown
// errors are logged with the operation and the file, and become EIO.
func errno(log *slog.Logger, op, path string, err error) syscall.Errno {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return syscall.EINTR
	case errors.Is(err, cache.ErrNotFound):
		return syscall.ENOENT
	case errors.Is(err, cache.ErrGone), errors.Is(err, cache.ErrUIDValidity):
		log.Warn(op + " " + quote(path) + ": " + err.Error())
		return syscall.ENOENT
	}
	log.Error(op + " " + quote(path) + ": " + err.Error())
	return syscall.EIO
}

func quote(s string) string { return `"` + s + `"` }
