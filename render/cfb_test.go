package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// olePython returns a python3 that has olefile (python3-olefile); Debian's
// own interpreter first, since another python3 on PATH may lack it.
func olePython(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import olefile").Run() == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("python3 with olefile (python3-olefile) is required in CI")
	}
	t.Skip("python3-olefile not installed")
	return ""
}

// oleListing is what olefile reads from a compound file: every stream's
// path ("a/b/c") with the SHA-256 of its bytes, and every storage's path
// with "storage".
const oleListing = `
import hashlib, json, sys, olefile
assert olefile.isOleFile(sys.argv[1])
ole = olefile.OleFileIO(sys.argv[1], raise_defects=olefile.DEFECT_INCORRECT)
out = {}
for path in ole.listdir(streams=True, storages=True):
    name = "/".join(path)
    if ole.get_type(path) == olefile.STGTY_STORAGE:
        out[name] = "storage"
    else:
        out[name] = hashlib.sha256(ole.openstream(path).read()).hexdigest()
json.dump(out, sys.stdout)
`

func readOLE(t *testing.T, file []byte) map[string]string {
	t.Helper()
	py := olePython(t)
	f := filepath.Join(t.TempDir(), "x.cfb")
	if err := os.WriteFile(f, file, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", oleListing, f).Output()
	if err != nil {
		t.Fatalf("olefile rejects the file: %v\n%s", err, errText(err))
	}
	var m map[string]string
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("olefile output %q: %v", out, err)
	}
	return m
}

func errText(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestCFB writes trees with empty, mini and big streams, nested storages,
// many siblings, and (at 8 MB) a FAT longer than the header holds, and
// reads them back with olefile.
func TestCFB(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	blob := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	for _, tc := range []struct {
		name string
		big  int
		kids int
	}{{"small", 0, 3}, {"mixed", 5000, 40}, {"difat", 8 << 20, 7}} {
		t.Run(tc.name, func(t *testing.T) {
			want := map[string]string{}
			root := &cfbEntry{storage: true}
			sub := &cfbEntry{name: "__substg1.0_3701000D", storage: true}
			root.kids = append(root.kids, sub, &cfbEntry{name: "empty"})
			want["__substg1.0_3701000D"] = "storage"
			want["empty"] = sum(nil)
			for i := 0; i < tc.kids; i++ {
				name := fmt.Sprintf("__substg1.0_%04X001F", i*7)
				data := blob(1 + i*97)
				root.kids = append(root.kids, &cfbEntry{name: name, data: data})
				want[name] = sum(data)
				name = fmt.Sprintf("s%d", i)
				data = blob(63 + i)
				sub.kids = append(sub.kids, &cfbEntry{name: name, data: data})
				want["__substg1.0_3701000D/"+name] = sum(data)
			}
			if tc.big > 0 {
				data := blob(tc.big)
				root.kids = append(root.kids, &cfbEntry{name: "Big", data: data})
				want["Big"] = sum(data)
				data = blob(cfbMiniCutoff) // exactly the cutoff: a big stream
				sub.kids = append(sub.kids, &cfbEntry{name: "cutoff", data: data})
				want["__substg1.0_3701000D/cutoff"] = sum(data)
			}
			got := readOLE(t, writeCFB(root))
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: olefile reads %.12s, want %.12s", k, got[k], v)
				}
			}
			if len(got) != len(want) {
				t.Errorf("olefile lists %d entries, want %d", len(got), len(want))
			}
		})
	}
}

// TestCFBTree checks the sibling trees: in MS-CFB order and red-black.
func TestCFBTree(t *testing.T) {
	for n := 0; n < 70; n++ {
		names := make([]*cfbEntry, n)
		for i := range names {
			names[i] = &cfbEntry{name: strings.Repeat("a", i%5+1) + fmt.Sprint(i)}
		}
		nodes := make([]cfbNode, n)
		ids := make([]uint32, n)
		for i := range ids {
			ids[i] = uint32(i)
			nodes[i].e = names[i]
		}
		root := cfbTree(nodes, ids)
		if n == 0 {
			if root != cfbNoStream {
				t.Fatal("empty tree has a root")
			}
			continue
		}
		if !nodes[root].black {
			t.Errorf("n=%d: red root", n)
		}
		var order []uint32
		blacks := -1
		var walk func(id uint32, black int, parentRed bool)
		walk = func(id uint32, black int, parentRed bool) {
			if id == cfbNoStream {
				if blacks < 0 {
					blacks = black
				} else if blacks != black {
					t.Errorf("n=%d: paths with %d and %d black nodes", n, blacks, black)
				}
				return
			}
			nd := nodes[id]
			if !nd.black && parentRed {
				t.Errorf("n=%d: red node under a red node", n)
			}
			if nd.black {
				black++
			}
			walk(nd.left, black, !nd.black)
			order = append(order, id)
			walk(nd.right, black, !nd.black)
		}
		walk(root, 0, false)
		for i, id := range order {
			if id != uint32(i) {
				t.Fatalf("n=%d: in-order walk %v", n, order)
			}
		}
	}
}

func TestCFBCompare(t *testing.T) {
	for _, c := range []struct {
		a, b string
		less bool
	}{{"b", "aa", true}, {"abc", "ABD", true}, {"ABD", "abc", false}, {"__substg1.0_0037001F", "__properties_version1.0", true}} {
		if got := cfbCompare(c.a, c.b) < 0; got != c.less {
			t.Errorf("cfbCompare(%q, %q) < 0 = %v", c.a, c.b, got)
		}
	}
}
