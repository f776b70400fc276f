package main

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionNamesCommitAndTemporal(t *testing.T) {
	t.Run("FromAClone", func(t *testing.T) {
		got := versionText(&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261129194559-9435c95a6508+dirty"},
			Deps: []*debug.Module{{Path: "go.temporal.io/sdk", Version: "v1.50.0"}, {Path: "go.temporal.io/server", Version: "v1.32.1"}},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "9435c95a65087c3b99cc5aff564505abba66b157"},
				{Key: "vcs.time", Value: "2026-11-29T19:45:59Z"}, {Key: "vcs.modified", Value: "true"}}})
		want := "itilflow v0.0.0-20261129194559-9435c95a6508+dirty\n" +
			"commit   9435c95a65087c3b99cc5aff564505abba66b157 (2026-11-29T19:45:59Z), with uncommitted changes\n" +
			"go       go1.26.8\n" +
			"temporal server v1.32.1 (embedded by dev), sdk v1.50.0\n"
		if got != want {
			t.Fatalf("got\n%swant\n%s", got, want)
		}
	})
	t.Run("FromThisBinary", func(t *testing.T) {
		var out bytes.Buffer
		if err := run(t.Context(), []string{"version"}, env(nil), &out, &out); err != nil {
			t.Fatal(err)
		}
		// A test binary records no commit, but links the Temporal it embeds.
		if s := out.String(); !strings.Contains(s, "commit   unknown (built without version control information") ||
			!strings.Contains(s, "temporal server v1.") || !strings.Contains(s, "sdk v1.") {
			t.Fatalf("version:\n%s", s)
		}
	})
}
