package cluster

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
)

// temporalDatabases are Temporal's two databases and the schema each gets:
// the names of the schemas embedded in the SQL tool (go.temporal.io/server's
// schema/postgresql/v12/*/versioned, which the tool ships inside itself).
var temporalDatabases = []struct{ name, schema string }{
	{"temporal", "postgresql/v12/temporal"},
	{"temporal_visibility", "postgresql/v12/visibility"},
}

// applySchema brings Temporal's databases on the PostgreSQL at host:port to
// the schema of the tool's version, as an operator does with
// temporal-sql-tool: setup-schema -v 0.0 makes the version tables, then
// update-schema applies every versioned step. Both are idempotent, so a
// cluster restarted on its data directory (or after a server upgrade) is
// brought up to date. The databases must exist.
func applySchema(ctx context.Context, sqlTool, host string, port int, user string) error {
	for _, db := range temporalDatabases {
		common := []string{"--ep", host, "-p", strconv.Itoa(port), "-u", user, "--pl", "postgres12", "--db", db.name}
		for _, step := range [][]string{
			{"setup-schema", "-v", "0.0"},
			{"update-schema", "--schema-name", db.schema},
		} {
			cmd := exec.CommandContext(ctx, sqlTool, append(common, step...)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("cluster: temporal-sql-tool %s on %s: %w\n%s", step[0], db.name, err, out)
			}
		}
	}
	return nil
}
