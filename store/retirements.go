package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/engine"
)

// maxReason bounds a retirement's reason: a sentence or two, not a document.
const maxReason = 1000

// Retirement is one retirement of a definition: from RetiredAt it starts no new
// processes, until it is reinstated. Running processes are not affected.
type Retirement struct {
	ID           int64      `json:"-" db:"id"`
	Name         string     `json:"name" db:"name"`
	RetiredAt    time.Time  `json:"retired_at" db:"retired_at"`
	RetiredBy    string     `json:"retired_by" db:"retired_by"`
	Reason       string     `json:"retired_reason" db:"reason"`
	ReinstatedAt *time.Time `json:"reinstated_at,omitempty" db:"reinstated_at"`
	ReinstatedBy string     `json:"reinstated_by,omitempty" db:"reinstated_by"`
}

const retirementRow = `id, name, retired_at, retired_by, reason, reinstated_at, reinstated_by`

// RetireDefinition retires the named definition, every version of it: it starts
// no new processes until ReinstateDefinition, while running ones go on.
// Publishing a new version does not reinstate it. The retirement and its audit
// record are written in one transaction. ENOTFOUND for an unknown name, EINVALID
// for a blank or overlong reason, ECONFLICT if it is retired already (naming by
// whom). Who may retire is the caller's to check.
func (s *Store) RetireDefinition(ctx context.Context, name, reason, by, requestID string) (Retirement, error) {
	const op = "store.RetireDefinition"
	reason = strings.TrimSpace(reason)
	switch n := utf8.RuneCountInString(reason); {
	case n == 0:
		return Retirement{}, &engine.Error{Code: engine.EINVALID, Op: op, Message: "a retirement needs a reason",
			Details: []engine.Detail{{Field: "reason", Message: "is required: say why no new processes may start"}}}
	case n > maxReason:
		return Retirement{}, &engine.Error{Code: engine.EINVALID, Op: op, Message: "reason too long",
			Details: []engine.Detail{{Field: "reason", Message: fmt.Sprintf("is %d characters long; at most %d allowed", n, maxReason)}}}
	}
	var r Retirement
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		in, err := retirementInForce(ctx, tx, op, name)
		if err != nil {
			return err
		}
		if in != nil {
			return &engine.Error{Code: engine.ECONFLICT, Op: op, Message: fmt.Sprintf("definition %q is already retired, by %s at %s: %s",
				name, in.RetiredBy, in.RetiredAt.UTC().Format(time.RFC3339), strconv.Quote(in.Reason))}
		}
		if err := tx.GetContext(ctx, &r, `INSERT INTO definition_retirements (name, retired_by, reason) VALUES ($1, $2, $3)
			RETURNING `+retirementRow, name, by, reason); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, AuditRecord{At: r.RetiredAt, Actor: by, Action: AuditRetire, RequestID: requestID,
			Target: "definition:" + name, PayloadDigest: digest(map[string]any{"reason": reason})}, fmt.Sprintf("retirement:%d", r.ID))
	})
	return r, err
}

// ReinstateDefinition ends the retirement of the named definition: it starts
// processes again, of its latest version. The retirement stays on record with
// who reinstated it and when, written with its audit record in one transaction.
// ENOTFOUND for an unknown name, ECONFLICT if it is not retired.
func (s *Store) ReinstateDefinition(ctx context.Context, name, by, requestID string) (Retirement, error) {
	const op = "store.ReinstateDefinition"
	var r Retirement
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		in, err := retirementInForce(ctx, tx, op, name)
		if err != nil {
			return err
		}
		if in == nil {
			return &engine.Error{Code: engine.ECONFLICT, Op: op, Message: fmt.Sprintf("definition %q is not retired", name)}
		}
		if err := tx.GetContext(ctx, &r, `UPDATE definition_retirements SET reinstated_at = now(), reinstated_by = $2
			WHERE id = $1 RETURNING `+retirementRow, in.ID, by); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, AuditRecord{At: *r.ReinstatedAt, Actor: by, Action: AuditReinstate, RequestID: requestID,
			Target: "definition:" + name, PayloadDigest: digest(map[string]any{"retired_at": r.RetiredAt, "retired_by": r.RetiredBy})},
			fmt.Sprintf("reinstatement:%d", r.ID))
	})
	return r, err
}

// retirementInForce locks name and returns its retirement in force, or nil;
// ENOTFOUND if it has no version.
func retirementInForce(ctx context.Context, tx *sqlx.Tx, op, name string) (*Retirement, error) {
	if err := lockDefinition(ctx, tx, name); err != nil {
		return nil, err
	}
	var exists bool
	if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM definitions WHERE name = $1)`, name); err != nil {
		return nil, err
	}
	if !exists {
		return nil, &engine.Error{Code: engine.ENOTFOUND, Op: op, Message: fmt.Sprintf("no definition named %q", name)}
	}
	var r Retirement
	err := tx.GetContext(ctx, &r, `SELECT `+retirementRow+` FROM definition_retirements WHERE name = $1 AND reinstated_at IS NULL`, name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &r, err
}

// CheckStartable refuses a new process of d's definition while it is retired:
// ECONFLICT naming who retired it, when and why. It reads the retirement afresh,
// whatever d carries. Only new starts are checked: running processes go on.
func (s *Store) CheckStartable(ctx context.Context, d Definition) error {
	const op = "store.CheckStartable"
	var r Retirement
	err := s.db.GetContext(ctx, &r, `SELECT `+retirementRow+` FROM definition_retirements WHERE name = $1 AND reinstated_at IS NULL`, d.Name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fail(op, err)
	}
	return &engine.Error{Code: engine.ECONFLICT, Op: op, Message: fmt.Sprintf(
		"definition %q was retired by %s at %s: %s; it starts no new processes until it is reinstated (publishing a new version does not reinstate it)",
		r.Name, r.RetiredBy, r.RetiredAt.UTC().Format(time.RFC3339), strconv.Quote(r.Reason))}
}
