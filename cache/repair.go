package cache

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Repair at open: what a crash leaves behind is cleaned up before anything
// is served.

// removeStaleParts deletes the temporary files of downloads and renders
// that a killed process left in bodies/ (see writeFile). It is called when
// the store is open, so the cache belongs to this process alone (bbolt's
// lock) and every temporary file found is stale.
func removeStaleParts(dir string, log *slog.Logger) {
	removed := 0
	filepath.WalkDir(filepath.Join(dir, "bodies"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // an unreadable folder: its files are left alone
		}
		if d.Type().IsRegular() && strings.HasPrefix(d.Name(), ".part-") {
			if os.Remove(p) == nil {
				removed++
			}
		}
		return nil
	})
	if removed > 0 {
		log.Info("removed unfinished downloads", "cache", dir, "files", removed)
	}
}
