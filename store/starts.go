package store

import (
	"context"
	"database/sql"
	"errors"
)

// StartID returns the id of the process that the start step key asked for,
// allocating a new one (as NextProcessID does) the first time. Retries of the
// same step get the same id, so the step starts one process however often it
// runs.
func (s *Store) StartID(ctx context.Context, key, definition string) (string, error) {
	const op = "store.StartID"
	var id string
	err := s.db.GetContext(ctx, &id, `SELECT child_id FROM process_starts WHERE key = $1`, key)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fail(op, err)
	}
	fresh, err := s.NextProcessID(ctx, definition)
	if err != nil {
		return "", err
	}
	// Two attempts racing both get here; the first insert wins and both read it.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO process_starts (key, child_id) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, fresh); err != nil {
		return "", fail(op, err)
	}
	if err := s.db.GetContext(ctx, &id, `SELECT child_id FROM process_starts WHERE key = $1`, key); err != nil {
		return "", fail(op, err)
	}
	return id, nil
}
