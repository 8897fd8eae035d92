package fs

import (
	"strings"
	"testing"
	"unicode"

	"mailfs/cache"
)

// TestBuildTreeOddNames: names with NUL, CR, LF, control characters,
// empty levels and path syntax give directory names that are safe and
// distinct, and every folder keeps a directory of its own.
func TestBuildTreeOddNames(t *testing.T) {
	folders := []cache.FolderInfo{
		{Name: "nul\x00x/cr\r\nlf", Delim: '/'},
		{Name: "nul\x00x", Delim: '/'},
		{Name: "a//b", Delim: '/'},
		{Name: "../..", Delim: '/'},
		{Name: "esc\x1b[2J\x7f", Delim: '/'},
		{Name: "dot.sep\x00", Delim: '.'},
		{Name: "bad\xffutf8", Delim: '/'},
	}
	tr := buildTree(folders)
	shown := map[string]bool{}
	for path, d := range tr.dirs {
		for _, name := range strings.Split(path, "/") {
			if path != "" && (name == "" || name == "." || name == ".." || strings.IndexFunc(name, unicode.IsControl) >= 0 || strings.ContainsRune(name, '\uFFFD')) {
				t.Errorf("unsafe directory name %q in %q", name, path)
			}
		}
		if d.folder != "" {
			shown[d.folder] = true
		}
	}
	for _, f := range folders {
		if !shown[f.Name] {
			t.Errorf("folder %q has no directory", f.Name)
		}
	}
	if d := tr.dirs["nul%00x/cr%0D%0Alf"]; d == nil || d.folder != "nul\x00x/cr\r\nlf" {
		t.Errorf("nested control names: %+v", d)
	}
}
