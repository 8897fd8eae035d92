package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// cacheError says which setting an unusable cache folder came from (what:
// "--cache DIR", "cache_dir DIR", the default) and, for one that another
// mailfs holds, which process that is.
func cacheError(what, dir string, err error) error {
	// cache.Open's words for a store another process has locked.
	if strings.Contains(err.Error(), "in use by another mailfs") {
		return fmt.Errorf("%w: %s", err, cacheHolders(dir))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// cacheHolders names the processes that have the cache's store open,
// read from /proc/PID/fd, and what to do about them.
func cacheHolders(dir string) string {
	store := filepath.Join(dir, "meta.db")
	if abs, err := filepath.Abs(store); err == nil {
		store = abs
	}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	seen := map[string]bool{}
	var held []string
	for _, fd := range fds {
		pid := strings.Split(fd, "/")[2]
		if seen[pid] || pid == fmt.Sprint(os.Getpid()) {
			continue
		}
		if target, err := os.Readlink(fd); err != nil || target != store {
			continue
		}
		seen[pid] = true
		b, _ := os.ReadFile("/proc/" + pid + "/cmdline")
		cmdline := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		held = append(held, fmt.Sprintf("pid %s (%s)", pid, cmdline))
	}
	if len(held) == 0 {
		return "see who with: fuser -v " + store + "; a mount with it stops with mailfs umount MOUNTPOINT"
	}
	return "held by " + strings.Join(held, ", ") + "; stop that mount with mailfs umount MOUNTPOINT (or that sync with Ctrl-C) first, or use another --cache"
}
