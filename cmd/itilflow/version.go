package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// runVersion implements `itilflow version`: this binary's version and commit
// and the Temporal it embeds, from the build information Go records, so a bug
// report can say exactly what ran.
func runVersion(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("usage: itilflow version")
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Errorf("this binary carries no build information")
	}
	fmt.Fprint(stdout, versionText(bi))
	return nil
}

// versionText says what bi records: the main module's version, the commit
// (when the build recorded it: `go install` and `go build` in a clone do,
// `go run` and -buildvcs=false do not), Go's version and those of the
// Temporal modules.
func versionText(bi *debug.BuildInfo) string {
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	commit := "unknown (built without version control information: go run, or -buildvcs=false)"
	if rev := settings["vcs.revision"]; rev != "" {
		commit = rev
		if t := settings["vcs.time"]; t != "" {
			commit += " (" + t + ")"
		}
		if settings["vcs.modified"] == "true" {
			commit += ", with uncommitted changes"
		}
	}
	module := func(path string) string {
		for _, d := range bi.Deps {
			if d.Path != path {
				continue
			}
			if d.Replace != nil {
				return d.Replace.Version + " (replacing " + d.Version + ")"
			}
			return d.Version
		}
		return "not linked"
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	return fmt.Sprintf("itilflow %s\ncommit   %s\ngo       %s\ntemporal server %s (embedded by dev), sdk %s\n",
		version, commit, bi.GoVersion, module("go.temporal.io/server"), module("go.temporal.io/sdk"))
}
