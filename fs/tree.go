package fs

import (
	"sort"
	"strings"

	"mailfs/cache"
)

// tree maps the server's folder list onto directories. It is rebuilt
// whenever the folder list changes and replaced as a whole.
type tree struct {
	dirs map[string]*treeDir // by path inside the mount, "" for the root
}

type treeDir struct {
	folder     string   // server name of the mailbox shown here, "" if none
	selectable bool     // the mailbox holds messages
	subdirs    []string // names of child directories, sorted
	below      []string // server names of the mailboxes shown here and below (dirNode.fill)
}

func buildTree(folders []cache.FolderInfo) *tree {
	t := &tree{dirs: map[string]*treeDir{"": {}}}
	for _, f := range folders {
		parts := []string{f.Name}
		if f.Delim != 0 {
			parts = strings.Split(f.Name, string(f.Delim))
		}
		path := ""
		levels := []*treeDir{t.dirs[""]}
		for _, p := range parts {
			name := cache.FolderComponent(p)
			child := join(path, name)
			if t.dirs[child] == nil {
				t.dirs[child] = &treeDir{}
				parent := t.dirs[path]
				parent.subdirs = append(parent.subdirs, name)
			}
			path = child
			levels = append(levels, t.dirs[child])
		}
		d := t.dirs[path]
		d.folder, d.selectable = f.Name, !f.NoSelect
		if d.selectable {
			for _, l := range levels {
				l.below = append(l.below, f.Name)
			}
		}
	}
	for _, d := range t.dirs {
		sort.Strings(d.subdirs)
	}
	return t
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
