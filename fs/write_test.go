package fs

import (
	"testing"

	"mailfs/cache"
)

func TestClassify(t *testing.T) {
	for name, want := range map[string]writeKind{
		"2024-01-02 030405 Hi [7].eml": kindMessage,
		"x.eml":                        kindMessage,
		".x.eml":                       kindMessage,
		".x.eml.AbC123":                kindTemp, // rsync's temporary file
		"x.html":                       kindView,
		"x.pdf":                        kindView,
		"x.txt":                        kindView,
		"x.mht":                        kindView,
		"x.docx":                       kindView,
		"x.msg":                        kindView,
	} {
		if got, ok := classify(name); !ok || got != want {
			t.Errorf("classify(%q) = %v, %v; want %v", name, got, ok, want)
		}
	}
	for _, name := range []string{"notes.doc", "x.eml~", "README"} {
		if _, ok := classify(name); ok {
			t.Errorf("classify(%q) accepted", name)
		}
	}
}

// mkdir's folder names: the server's name of the level, nested by its
// delimiter, also below levels the server does not list.
func TestServerName(t *testing.T) {
	store := folderStore{{Name: "INBOX", Delim: '.'}, {Name: "Lists.go.nuts", Delim: '.'}, {Name: "a/b", Delim: '.'}}
	a := &account{store: store.store()}
	for path, want := range map[string]string{"": "", "INBOX": "INBOX", "Lists": "Lists", "Lists/go": "Lists.go", "a%2Fb": "a/b"} {
		d := &dirNode{acct: a, path: path}
		if got, delim := d.serverName(); got != want || delim != '.' {
			t.Errorf("serverName(%q) = %q, %q; want %q, '.'", path, got, delim, want)
		}
	}
}

// folderStore is a Store that knows only folders.
type folderStore []cache.FolderInfo

func (s folderStore) Folders() []cache.FolderInfo { return s }

type noStore struct{ Store } // panics if anything but Folders is asked

func (s folderStore) store() Store {
	return struct {
		noStore
		folderStore
	}{folderStore: s}
}
