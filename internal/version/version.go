// Package version owns which build of loom is running: the release version and the commit,
// stamped by the linker (make build, make image), and the Go toolchain that built it. It
// imports only the standard library.
package version

import (
	"runtime"
	"runtime/debug"
)

// Set by -ldflags "-X github.com/loom-mcp/loom/internal/version.version=... -X ...commit=...".
var (
	version = ""
	commit  = ""
)

// Info is what `loom version` prints, the operator logs at start and loom_build_info carries.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
}

// Get returns the build's Info. A binary built without the linker flags (go build, go
// install) says "devel" and takes the commit from the Go toolchain's VCS stamp when it has
// one, else "unknown".
func Get() Info {
	info := Info{Version: version, Commit: commit, GoVersion: runtime.Version()}
	if info.Version == "" {
		info.Version = "devel"
	}
	if info.Commit == "" {
		info.Commit = "unknown"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					info.Commit = s.Value
				}
			}
		}
	}
	return info
}
