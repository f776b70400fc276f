package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/itilflow/itilflow/engine"
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

// StartRequest is a start that came with an Idempotency-Key: the caller and
// key that name it, what it asked for, and the process id it was given.
type StartRequest struct {
	Caller     string `db:"caller"`
	Key        string `db:"key"`
	Definition string `db:"definition"`
	BodyDigest string `db:"body_digest"`
	ProcessID  string `db:"process_id"`
}

// ReserveStart returns the process id of the start r names (by caller and
// key), allocating one the first time; replay is true when an earlier request
// with this key reserved it. The same key with a different definition or body
// is ECONFLICT: it is a new request reusing a key, not a retry. The id is
// reserved before the process is started, so a retry after a crash in between
// starts it with the same id, and Temporal starts it once.
func (s *Store) ReserveStart(ctx context.Context, r StartRequest) (id string, replay bool, err error) {
	const op = "store.ReserveStart"
	if r.ProcessID, err = s.NextProcessID(ctx, r.Definition); err != nil {
		return "", false, err
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO start_requests (caller, key, definition, body_digest, process_id)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (caller, key) DO NOTHING`, r.Caller, r.Key, r.Definition, r.BodyDigest, r.ProcessID)
	if err != nil {
		return "", false, fail(op, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return r.ProcessID, false, nil
	}
	var first StartRequest
	if err := s.db.GetContext(ctx, &first, `SELECT caller, key, definition, body_digest, process_id FROM start_requests
		WHERE caller = $1 AND key = $2`, r.Caller, r.Key); err != nil {
		return "", false, fail(op, err)
	}
	if first.Definition != r.Definition || first.BodyDigest != r.BodyDigest {
		return "", false, &engine.Error{Code: engine.ECONFLICT, Op: op, Message: fmt.Sprintf(
			"Idempotency-Key %q was used for another request (a start of %s with other input, giving %s): use a new key for a new request",
			r.Key, first.Definition, first.ProcessID), Details: []engine.Detail{{Field: "Idempotency-Key", Message: "already used for a different request"}}}
	}
	return first.ProcessID, true, nil
}
