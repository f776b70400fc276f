package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/engine"
)

// AuditDelegation records a delegation of votes, AuditDelegationRevoked its
// revocation.
const (
	AuditDelegation        = "delegation_added"
	AuditDelegationRevoked = "delegation_revoked"
)

// Delegation hands From's votes to To between StartsAt and EndsAt.
type Delegation struct {
	ID        int64     `json:"id" db:"id"`
	From      string    `json:"from" db:"from_user"`
	To        string    `json:"to" db:"to_user"`
	StartsAt  time.Time `json:"starts_at" db:"starts_at"`
	EndsAt    time.Time `json:"ends_at" db:"ends_at"`
	Reason    string    `json:"reason" db:"reason"`
	CreatedBy string    `json:"created_by" db:"created_by"`
	CreatedAt time.Time `json:"created_at" db:"created_at"`
	// RevokedAt and RevokedBy say who ended the delegation early, and when.
	RevokedAt *time.Time `json:"revoked_at,omitempty" db:"revoked_at"`
	RevokedBy string     `json:"revoked_by,omitempty" db:"revoked_by"`
}

// delegationColumns are the columns of a Delegation, in a SELECT or RETURNING.
const delegationColumns = `id, from_user, to_user, starts_at, ends_at, reason, created_by, created_at, revoked_at, revoked_by`

// AddDelegation stores a delegation and its audit record in one transaction.
func (s *Store) AddDelegation(ctx context.Context, d Delegation, requestID string) (Delegation, error) {
	const op = "store.AddDelegation"
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		for _, u := range []struct{ field, id string }{{"from", d.From}, {"to", d.To}} {
			var exists bool
			if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, u.id); err != nil {
				return err
			}
			if !exists {
				// Users who sign in with a JWT only are not in the users table.
				return &engine.Error{Code: engine.EINVALID, Op: op, Message: "delegation is not valid", Details: []engine.Detail{{Field: u.field,
					Message: fmt.Sprintf("no user %q in itilflow: add them with itilflow user add", u.id)}}}
			}
		}
		if err := tx.GetContext(ctx, &d, `INSERT INTO delegations (from_user, to_user, starts_at, ends_at, reason, created_by)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+delegationColumns,
			d.From, d.To, d.StartsAt, d.EndsAt, d.Reason, d.CreatedBy); err != nil {
			return err
		}
		target := fmt.Sprintf("delegation:%d", d.ID)
		return s.appendAudit(ctx, tx, AuditRecord{At: d.CreatedAt, Actor: d.CreatedBy, Action: AuditDelegation, RequestID: requestID, Target: target,
			PayloadDigest: digest(map[string]any{"from": d.From, "to": d.To, "starts_at": d.StartsAt, "ends_at": d.EndsAt, "reason": d.Reason})}, target)
	})
	return d, err
}

// Delegations returns the delegations a user has given and received that have
// not ended by now, soonest first.
func (s *Store) Delegations(ctx context.Context, user string, now time.Time) (given, received []Delegation, err error) {
	const op = "store.Delegations"
	var all []Delegation
	if err := s.db.SelectContext(ctx, &all, `SELECT `+delegationColumns+`
		FROM delegations WHERE (from_user = $1 OR to_user = $1) AND ends_at > $2 AND revoked_at IS NULL
		ORDER BY starts_at, id`, user, now); err != nil {
		return nil, nil, fail(op, err)
	}
	given, received = []Delegation{}, []Delegation{}
	for _, d := range all {
		if d.From == user {
			given = append(given, d)
		} else {
			received = append(received, d)
		}
	}
	return given, received, nil
}

// DelegationByID returns a delegation, ended or not, or ENOTFOUND.
func (s *Store) DelegationByID(ctx context.Context, id int64) (Delegation, error) {
	var d Delegation
	err := s.db.GetContext(ctx, &d, `SELECT `+delegationColumns+` FROM delegations WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return d, engine.Errorf(engine.ENOTFOUND, "no delegation %d", id)
	}
	return d, fail("store.DelegationByID", err)
}

// RevokeDelegation ends delegation id now, recording by as who revoked it, in one
// transaction with its audit record. The row stays: its ends_at becomes now (or
// its starts_at, if it had not begun, leaving an empty period). It is ENOTFOUND
// for an unknown id and ECONFLICT for a delegation that has already ended or been
// revoked. Who may revoke it is the caller's to check: the delegator never
// changes, so a check before this call cannot go stale.
func (s *Store) RevokeDelegation(ctx context.Context, id int64, by, requestID string) (Delegation, error) {
	const op = "store.RevokeDelegation"
	var d Delegation
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		// The row lock makes concurrent revocations take turns: the second sees
		// the first's and gets ECONFLICT.
		err := tx.GetContext(ctx, &d, `SELECT `+delegationColumns+` FROM delegations WHERE id = $1 FOR UPDATE`, id)
		if errors.Is(err, sql.ErrNoRows) {
			return engine.Errorf(engine.ENOTFOUND, "no delegation %d", id)
		}
		if err != nil {
			return err
		}
		var now time.Time
		if err := tx.GetContext(ctx, &now, `SELECT now()`); err != nil {
			return err
		}
		switch {
		case d.RevokedAt != nil:
			return &engine.Error{Code: engine.ECONFLICT, Op: op, Message: fmt.Sprintf("delegation %d was revoked by %s at %s",
				id, d.RevokedBy, d.RevokedAt.UTC().Format(time.RFC3339))}
		case !d.EndsAt.After(now):
			return &engine.Error{Code: engine.ECONFLICT, Op: op, Message: fmt.Sprintf("delegation %d ended at %s",
				id, d.EndsAt.UTC().Format(time.RFC3339))}
		}
		if err := tx.GetContext(ctx, &d, `UPDATE delegations SET ends_at = greatest(starts_at, $2), revoked_at = $2, revoked_by = $3
			WHERE id = $1 RETURNING `+delegationColumns, id, now, by); err != nil {
			return err
		}
		target := fmt.Sprintf("delegation:%d", d.ID)
		return s.appendAudit(ctx, tx, AuditRecord{At: now, Actor: by, Action: AuditDelegationRevoked, RequestID: requestID, Target: target,
			PayloadDigest: digest(map[string]any{"from": d.From, "to": d.To, "ends_at": d.EndsAt})}, auditSource(target))
	})
	return d, err
}

// Delegators returns who has delegated their votes to user at instant at.
func (s *Store) Delegators(ctx context.Context, user string, at time.Time) ([]string, error) {
	var out []string
	err := s.db.SelectContext(ctx, &out, `SELECT DISTINCT from_user FROM delegations
		WHERE to_user = $1 AND starts_at <= $2 AND ends_at > $2 ORDER BY from_user`, user, at)
	return out, fail("store.Delegators", err)
}

// UserByID returns a user, or ENOTFOUND.
func (s *Store) UserByID(ctx context.Context, id string) (User, error) {
	var u User
	err := s.db.GetContext(ctx, &u, `SELECT id, name, roles, email, notify_channel, language, reminder_digest FROM users WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return u, engine.Errorf(engine.ENOTFOUND, "no user %q", id)
	}
	return u, fail("store.UserByID", err)
}
