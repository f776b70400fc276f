package store

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
)

// CIWindow is a configuration item reserved by a process for a time.
type CIWindow struct {
	ProcessID string    `json:"process_id" db:"process_id"`
	CI        string    `json:"ci" db:"ci"`
	StartsAt  time.Time `json:"starts_at" db:"starts_at"`
	EndsAt    time.Time `json:"ends_at" db:"ends_at"`
}

// ReserveWindow reserves ci for process from start to end, replacing the
// process's earlier reservation. When another process holds an overlapping
// window on the same item it reserves nothing and returns that window. prev
// is the reservation replaced, to put back if the scheduling then fails.
func (s *Store) ReserveWindow(ctx context.Context, w CIWindow) (conflict, prev *CIWindow, err error) {
	const op = "store.ReserveWindow"
	err = s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		// One reservation of an item at a time, so two overlapping requests
		// cannot both see the item free.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('ci:' || $1))`, w.CI); err != nil {
			return err
		}
		var other CIWindow
		err := tx.GetContext(ctx, &other, `SELECT process_id, ci, starts_at, ends_at FROM ci_windows
			WHERE ci = $1 AND process_id <> $2 AND starts_at < $4 AND $3 < ends_at ORDER BY starts_at LIMIT 1`,
			w.CI, w.ProcessID, w.StartsAt, w.EndsAt)
		switch {
		case err == nil:
			conflict = &other
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		var old CIWindow
		err = tx.GetContext(ctx, &old, `SELECT process_id, ci, starts_at, ends_at FROM ci_windows WHERE process_id = $1`, w.ProcessID)
		switch {
		case err == nil:
			prev = &old
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO ci_windows (process_id, ci, starts_at, ends_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (process_id) DO UPDATE SET ci = EXCLUDED.ci, starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at`,
			w.ProcessID, w.CI, w.StartsAt, w.EndsAt)
		return err
	})
	return conflict, prev, err
}

// RestoreWindow undoes ReserveWindow after a refused scheduling: if the
// process still holds the window it reserved, it gets prev back (or none).
// It takes the items' locks, and puts prev back only where no other process
// has taken an overlapping window meanwhile.
func (s *Store) RestoreWindow(ctx context.Context, reserved CIWindow, prev *CIWindow) error {
	return s.inTx(ctx, "store.RestoreWindow", func(tx *sqlx.Tx) error {
		items := []string{reserved.CI}
		if prev != nil && prev.CI != reserved.CI {
			items = append(items, prev.CI)
		}
		sort.Strings(items) // one lock order, so two restores cannot deadlock
		for _, ci := range items {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('ci:' || $1))`, ci); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM ci_windows WHERE process_id = $1 AND ci = $2 AND starts_at = $3 AND ends_at = $4`,
			reserved.ProcessID, reserved.CI, reserved.StartsAt, reserved.EndsAt)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 || prev == nil {
			return nil // rescheduled meanwhile, or nothing to put back
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO ci_windows (process_id, ci, starts_at, ends_at)
			SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM ci_windows
				WHERE ci = $2 AND process_id <> $1 AND starts_at < $4 AND $3 < ends_at)`,
			prev.ProcessID, prev.CI, prev.StartsAt, prev.EndsAt)
		return err
	})
}
