package fs

// Operations of a writable account on what the server holds: folders
// (mkdir, mv, rmdir) and messages (mv, rm). See write.go.

import (
	"context"
	"strings"
	"syscall"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"mailfs/cache"
)

// Mkdir creates a folder (CREATE), nested by the server's delimiter.
func (d *dirNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	if !d.acct.rw {
		return nil, syscall.EROFS
	}
	path := join(d.path, name)
	parent, delim := d.serverName()
	if strings.ContainsRune(name, delim) || cache.FolderComponent(name) != name {
		d.acct.m.log.Error("mkdir " + quote(path) + ": a folder name must not contain " + quote(string(delim)))
		return nil, syscall.EINVAL
	}
	full := name
	if parent != "" {
		full = parent + string(delim) + name
	}
	if err := d.acct.writer.CreateFolder(uninterrupted(ctx), full); err != nil {
		return nil, writeErrno(d.acct.m.log, "mkdir", path, err)
	}
	d.acct.tree.Store(buildTree(d.acct.store.Folders()))
	if d.acct.tree.Load().dirs[path] == nil {
		d.acct.m.log.Error("mkdir " + quote(path) + ": created as " + quote(full) + " but the server does not list it there")
		return nil, syscall.EIO
	}
	n := &dirNode{acct: d.acct, path: path}
	if n.fill(&out.Attr) {
		out.SetAttrTimeout(attrTimeout)
	}
	return d.NewInode(ctx, n, fusefs.StableAttr{Mode: syscall.S_IFDIR, Ino: dirIno(d.acct.name, path)}), 0
}

// serverName is the server's name of the folder level shown at d ("" for
// the account's top) and the hierarchy delimiter below it.
func (d *dirNode) serverName() (string, rune) {
	folders := d.acct.store.Folders()
	delim := '/'
	for _, f := range folders {
		if f.Delim != 0 {
			delim = f.Delim
			break
		}
	}
	if d.path == "" {
		return "", delim
	}
	for _, f := range folders {
		parts := []string{f.Name}
		if f.Delim != 0 {
			parts = strings.Split(f.Name, string(f.Delim))
		}
		path := ""
		for i, p := range parts {
			path = join(path, cache.FolderComponent(p))
			if path == d.path {
				return strings.Join(parts[:i+1], string(f.Delim)), cmpDelim(f.Delim, delim)
			}
		}
	}
	return d.path, delim
}

func cmpDelim(d, def rune) rune {
	if d != 0 {
		return d
	}
	return def
}

// move moves what the server holds: a message to another folder (UID
// MOVE), or a folder (RENAME). Renaming a message within its folder is
// refused: its name is the mount's. Afterwards the kernel is told to
// forget the new name, so it is looked up as what the server now holds.
func (d *dirNode) move(ctx context.Context, name string, nd *dirNode, newName string) syscall.Errno {
	log, t := d.acct.m.log, d.acct.tree.Load()
	path, newPath := join(d.path, name), join(nd.path, newName)
	op := "rename " + quote(path) + " to " + quote(newPath)
	if src := t.dirs[path]; src != nil {
		return d.renameFolder(ctx, op, src, nd, newName)
	}
	td, ntd := t.dirs[d.path], t.dirs[nd.path]
	stem, f, ok := d.acct.splitName(name)
	if td == nil || !td.selectable || !ok {
		return syscall.ENOENT
	}
	msg, ok := d.acct.store.Lookup(td.folder, stem)
	if !ok {
		return syscall.ENOENT
	}
	switch {
	case f.Slot != emlFormat:
		log.Error(op + ": a view goes with its message: move the .eml")
		return syscall.EPERM
	case ntd == nil || !ntd.selectable:
		log.Error(op + ": the target is not a mail folder")
		return syscall.EPERM
	case ntd.folder == td.folder:
		log.Error(op + ": messages are named by the mount; renaming one is not supported")
		return syscall.EPERM
	}
	if newStem, _, ok := d.acct.splitName(newName); ok {
		if _, held := d.acct.store.Lookup(ntd.folder, newStem); held {
			return syscall.EEXIST // moving would make a second copy
		}
	}
	if err := d.acct.writer.Move(uninterrupted(ctx), td.folder, msg.UIDValidity, msg.UID, ntd.folder); err != nil {
		return writeErrno(log, "rename", path, err)
	}
	log.Info("moved", "from", td.folder, "uid", msg.UID, "to", ntd.folder)
	d.acct.m.notes.add(func() { nd.NotifyEntry(newName) })
	return 0
}

// renameFolder renames the folder shown at src (RENAME, subfolders with
// it). INBOX cannot be renamed (IMAP would move its messages instead).
func (d *dirNode) renameFolder(ctx context.Context, op string, src *treeDir, nd *dirNode, newName string) syscall.Errno {
	log := d.acct.m.log
	if src.folder == "" || strings.EqualFold(src.folder, "INBOX") {
		log.Error(op + ": this folder cannot be renamed")
		return syscall.EPERM
	}
	parent, delim := nd.serverName()
	if strings.ContainsRune(newName, delim) || cache.FolderComponent(newName) != newName {
		log.Error(op + ": a folder name must not contain " + quote(string(delim)))
		return syscall.EINVAL
	}
	if d.acct.tree.Load().dirs[join(nd.path, newName)] != nil {
		return syscall.EEXIST
	}
	to := newName
	if parent != "" {
		to = parent + string(delim) + newName
	}
	if err := d.acct.writer.RenameFolder(uninterrupted(ctx), src.folder, to); err != nil {
		return writeErrno(log, "rename", op, err)
	}
	d.acct.tree.Store(buildTree(d.acct.store.Folders()))
	log.Info("renamed folder", "from", src.folder, "to", to)
	d.acct.m.notes.add(func() { nd.NotifyEntry(newName) })
	return 0
}

// Unlink removes a file still being written; what the server holds is
// not deleted.
func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno {
	if w := d.written(name); w != nil && d.acct.rw {
		w.mu.Lock()
		w.dropLocked()
		w.mu.Unlock()
		return 0
	}
	if d.acct.del && name != cache.FlagsName {
		return d.deleteMessage(ctx, name)
	}
	if d.acct.rw {
		d.acct.m.log.Error("unlink " + quote(join(d.path, name)) + ": deleting messages is not allowed (see --allow-delete)")
	}
	return d.acct.refusal()
}

// deleteMessage expunges the message shown as name (its .eml only: a
// view is made from the message and cannot be deleted alone).
func (d *dirNode) deleteMessage(ctx context.Context, name string) syscall.Errno {
	path := join(d.path, name)
	td := d.acct.tree.Load().dirs[d.path]
	stem, f, ok := d.acct.splitName(name)
	if td == nil || !td.selectable || !ok {
		return syscall.ENOENT
	}
	if f.Slot != emlFormat {
		d.acct.m.log.Error("unlink " + quote(path) + ": a view goes with its message: delete the .eml")
		return syscall.EPERM
	}
	msg, ok := d.acct.store.Lookup(td.folder, stem)
	if !ok {
		return syscall.ENOENT
	}
	if err := d.acct.writer.Delete(uninterrupted(ctx), td.folder, msg.UIDValidity, msg.UID); err != nil {
		return writeErrno(d.acct.m.log, "unlink", path, err)
	}
	d.acct.m.log.Info("deleted", "file", path, "folder", td.folder, "uid", msg.UID)
	return 0
}

// Rmdir deletes an empty folder, with --allow-delete.
func (d *dirNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	path := join(d.path, name)
	if !d.acct.del {
		if d.acct.rw {
			d.acct.m.log.Error("rmdir " + quote(path) + ": deleting folders is not allowed (see --allow-delete)")
		}
		return d.acct.refusal()
	}
	td := d.acct.tree.Load().dirs[path]
	if td == nil {
		return syscall.ENOENT
	}
	if len(td.subdirs) > 0 {
		return syscall.ENOTEMPTY
	}
	if td.folder == "" { // a level the server does not list
		return syscall.EPERM
	}
	if msgs, err := d.acct.store.Messages(ctx, td.folder); err != nil {
		return errno(d.acct.m.log, "rmdir", path, err)
	} else if len(msgs) > 0 {
		return syscall.ENOTEMPTY
	}
	if err := d.acct.writer.DeleteFolder(uninterrupted(ctx), td.folder); err != nil {
		return writeErrno(d.acct.m.log, "rmdir", path, err)
	}
	d.acct.tree.Store(buildTree(d.acct.store.Folders()))
	d.acct.m.log.Info("deleted folder", "dir", path, "folder", td.folder)
	return 0
}

// Setattr on a directory of a writable account is accepted and changes
// nothing (rsync -a and cp -a set times and modes of what they create).
func (d *dirNode) Setattr(ctx context.Context, fh fusefs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if !d.acct.rw {
		return syscall.EROFS
	}
	if d.fill(&out.Attr) {
		out.SetTimeout(attrTimeout)
	}
	return 0
}
