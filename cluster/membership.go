package cluster

import (
	"context"
	"database/sql"
	"fmt"

	_ "github.com/lib/pq" // the driver of Temporal's database here
)

// forgetMembership deletes the cluster membership records of earlier runs
// from Temporal's database, as temporalserver does for the embedded server.
// The services find each other through hosts that heartbeated into
// cluster_membership within the last 20s; after a quick restart those are
// the dead hosts of the previous run, on other ports, and the services wait
// for them: starts timed out for about 30s after a restart. This cluster's
// only Temporal server is not running yet, so every record is stale.
func forgetMembership(ctx context.Context, temporalDBURL string) error {
	db, err := sql.Open("postgres", temporalDBURL)
	if err != nil {
		return fmt.Errorf("cluster: forget Temporal's old membership: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "DELETE FROM cluster_membership"); err != nil {
		return fmt.Errorf("cluster: forget Temporal's old membership: %w", err)
	}
	return nil
}
