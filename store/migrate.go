package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory lock key that serialises migrations, so several
// `itilflow serve` replicas starting at once apply each migration once.
const migrationLock = 7_2_6_9_1

// Migrate applies the embedded migrations that the database has not seen, each in
// its own transaction, in file-name order. A migration may rewrite a large table,
// and a replica waits here while another one migrates, so neither the store's
// timeout nor the server's statement_timeout bounds this work: only ctx does (its
// end still cuts a hung server off at once).
func (s *Store) Migrate(ctx context.Context) error {
	const op = "store.Migrate"
	// Clean-up runs with ctx's values but not its end, within the usual bound.
	cleanup := context.WithoutCancel(ctx)
	ctx = withoutTimeout(ctx)
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return fail(op, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET statement_timeout = 0`); err != nil {
		return fail(op, err)
	}
	// The connection goes back to the pool: RESET restores the bound it was
	// opened with. If that fails the connection is broken and is dropped.
	defer conn.ExecContext(cleanup, `RESET statement_timeout`)
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fail(op, err)
	}
	defer conn.ExecContext(cleanup, `SELECT pg_advisory_unlock($1)`, migrationLock)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fail(op, err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fail(op, err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fail(op, fmt.Errorf("migration %s: name must start with a number: %w", base, err))
		}
		var done bool
		if err := conn.GetContext(ctx, &done, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, version); err != nil {
			return fail(op, err)
		}
		if done {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fail(op, err)
		}
		if err := applyMigration(ctx, conn, version, base, string(body)); err != nil {
			return fail(op, fmt.Errorf("migration %s: %w", base, err))
		}
	}
	return fail(op, s.fillViewerRoles(ctx, conn))
}

func applyMigration(ctx context.Context, conn *sqlx.Conn, version int, name, body string) error {
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, version, name); err != nil {
		return err
	}
	return tx.Commit()
}
