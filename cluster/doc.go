// Package cluster runs itilflow on one machine as it is deployed: a private
// PostgreSQL (package pgcluster); a standalone Temporal server built from the
// pinned go.temporal.io/server module's own cmd/server, persisted in that
// PostgreSQL with four history shards, its schema applied by the module's
// temporal-sql-tool; and `itilflow serve` processes in role api and worker.
//
// Every part is a real process, so a worker can be killed with SIGKILL and
// the work seen to move to another. scripts/cluster runs it for a person
// (./cluster/cmd/cluster); the package's test drives processes through it.
package cluster
