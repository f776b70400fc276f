package cluster

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
)

// Binaries are the programs of a cluster.
type Binaries struct {
	TemporalServer string // go.temporal.io/server/cmd/server
	SQLTool        string // go.temporal.io/server/cmd/tools/sql (temporal-sql-tool)
	Itilflow       string // ./cmd/itilflow
}

// Build compiles the binaries into dir with the go command, from the module
// the working directory is in: the two Temporal commands are tools of go.mod,
// so they are the version the SDK and the embedded server are. With an empty
// build cache the server takes several minutes on 2 cores; seconds once the
// cache is warm (go vet ./... compiles most of it anyway).
func Build(ctx context.Context, dir string) (Binaries, error) {
	b := Binaries{
		TemporalServer: filepath.Join(dir, "temporal-server"),
		SQLTool:        filepath.Join(dir, "temporal-sql-tool"),
		Itilflow:       filepath.Join(dir, "itilflow"),
	}
	// One at a time: the machines this runs on often have two cores, and
	// the three share most packages in the build cache.
	for _, t := range []struct{ out, pkg string }{
		{b.TemporalServer, "go.temporal.io/server/cmd/server"},
		{b.SQLTool, "go.temporal.io/server/cmd/tools/sql"},
		{b.Itilflow, "github.com/itilflow/itilflow/cmd/itilflow"},
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", t.out, t.pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("cluster: go build %s: %w\n%s", t.pkg, err, out)
		}
	}
	return b, nil
}
