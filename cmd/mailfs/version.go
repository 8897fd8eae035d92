package main

import (
	"runtime/debug"
	"strings"
)

// version may be set at build time with -ldflags "-X main.version=...";
// otherwise versionString reads the build information.
var version = ""

// versionString is the module version and the VCS revision Go recorded
// in the binary: "v1.2.0" for 'go install mailfs/cmd/mailfs@v1.2.0',
// "(devel) 0123456789ab 2025-01-02T03:04:05Z" for a build in a git
// checkout (with "-dirty" when the tree had changes), "(devel)" when
// neither is known (a build with -buildvcs=false, or outside a checkout).
func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" || strings.Contains(v, rev[:min(12, len(rev))]) {
		return v // a pseudo-version already names the revision
	}
	return strings.TrimSpace(v + " " + rev[:min(12, len(rev))] + dirty + " " + at)
}
