package main

import (
	"context"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"mailfs/cache"
	"mailfs/imapsrc"
	"mailfs/imapsrc/dovecottest"
)

// emlName is the form of every message file name: the ID in brackets,
// with a duplicate's number (cache.Names).
var emlName = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d{6} .+ \[[a-z2-7]{8}(-\d+)?\]\.eml$`)

// emlFiles maps root-relative paths of the .eml files below root to their
// UIDs on srv: the name each message of srv must have is computed from the
// server's own listing (cache.Names over what imapsrc lists), so a file
// whose name the server does not account for is an error. With a nil srv
// (a demo server) the UIDs are 0 and only the form of the names is checked.
func emlFiles(t *testing.T, srv *dovecottest.Server, root string) map[string]uint32 {
	t.Helper()
	var names map[string]map[string]uint32
	if srv != nil {
		names = serverNames(t, srv)
	}
	out := map[string]uint32{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if d.Name() == ".mailfs-flags" {
			return nil // flags_test.go
		}
		if !emlName.MatchString(d.Name()) {
			t.Errorf("unexpected file %s", p)
			return nil
		}
		if srv == nil {
			out[rel] = 0
			return nil
		}
		uid, ok := uidOf(names[d.Name()], filepath.Dir(rel))
		if !ok {
			t.Errorf("%s: no such message on the server", p)
			return nil
		}
		out[rel] = uid
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// uidOf picks the UID of a name: the only folder holding it, else the one
// whose path ends the file's folder path.
func uidOf(byFolder map[string]uint32, dir string) (uint32, bool) {
	if len(byFolder) == 1 {
		for _, uid := range byFolder {
			return uid, true
		}
	}
	for folder, uid := range byFolder {
		if dir == folder || strings.HasSuffix(dir, "/"+folder) {
			return uid, true
		}
	}
	return 0, false
}

var (
	namesMu sync.Mutex
	// seenNames keeps, per server, every name → folder → UID seen, so
	// that a test waiting for a message to go still knows its name;
	// a listing updates the UIDs of the names it shows.
	seenNames = map[*dovecottest.Server]map[string]map[string]uint32{}
)

// serverNames lists every folder of srv as mailfs does and returns what
// each file name stands for: name → folder path ("/" between levels) → UID.
func serverNames(t *testing.T, srv *dovecottest.Server) map[string]map[string]uint32 {
	t.Helper()
	ctx := context.Background()
	src, err := imapsrc.Dial(ctx, imapsrc.Config{Addr: srv.Addr, TLS: imapsrc.TLSNone, User: srv.User, Password: srv.Password, Conns: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	folders, err := src.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	namesMu.Lock()
	defer namesMu.Unlock()
	all := seenNames[srv]
	if all == nil {
		all = map[string]map[string]uint32{}
		seenNames[srv] = all
		t.Cleanup(func() {
			namesMu.Lock()
			delete(seenNames, srv)
			namesMu.Unlock()
		})
	}
	for _, f := range folders {
		if f.NoSelect {
			continue
		}
		st, err := src.Status(ctx, f.Name)
		if err != nil {
			t.Fatal(err)
		}
		var metas []cache.Meta
		if err := src.FetchMeta(ctx, f.Name, st.UIDValidity, 1, func(m cache.Meta) error {
			metas = append(metas, m)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		sort.Slice(metas, func(i, j int) bool { return metas[i].UID < metas[j].UID })
		path := f.Name
		if f.Delim != 0 {
			path = strings.ReplaceAll(path, string(f.Delim), "/")
		}
		for i, stem := range cache.Names(metas) {
			name := stem + ".eml"
			if all[name] == nil {
				all[name] = map[string]uint32{}
			}
			all[name][path] = metas[i].UID
		}
	}
	return all
}
