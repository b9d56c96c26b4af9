// Package version reports what build is running; the Makefile sets the
// variables with -ldflags, and VCS stamps fill gaps for `go run`.
package version

import (
	"runtime"
	"runtime/debug"
)

// Set at build time: -X github.com/shiftflow/shiftflow/internal/version.Version=...
var (
	Version   = "dev"
	Commit    = ""
	BuildTime = ""
)

// Info is the /version answer.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	BuildTime string `json:"build_time"`
	GoVersion string `json:"go_version"`
}

// Get returns the build information.
func Get() Info {
	i := Info{Version: Version, Commit: Commit, BuildTime: BuildTime, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if i.Commit == "" {
					i.Commit = s.Value
				}
			case "vcs.time":
				if i.BuildTime == "" {
					i.BuildTime = s.Value
				}
			}
		}
	}
	if i.Commit == "" {
		i.Commit = "unknown"
	}
	if i.BuildTime == "" {
		i.BuildTime = "unknown"
	}
	return i
}
