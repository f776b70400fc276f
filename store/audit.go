package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/engine"
)

// Audit actions.
const (
	AuditPublish = "publish_definition"
	AuditStart   = "start_process"
	AuditAction  = "action"
	// AuditUser, AuditGroup, AuditTokenIssued and AuditTokenRevoked record
	// identity changes.
	AuditUser         = "user_saved"
	AuditGroup        = "group_saved"
	AuditTokenIssued  = "token_issued"
	AuditTokenRevoked = "token_revoked"
	// AuditRetire and AuditReinstate record a definition's retirement (it
	// starts no new processes) and its end.
	AuditRetire    = "retire_definition"
	AuditReinstate = "reinstate_definition"
)

// AuditRecord is one entry of the audit log.
type AuditRecord struct {
	Seq           int64     `json:"seq" db:"seq"`
	At            time.Time `json:"at" db:"at"`
	Actor         string    `json:"actor" db:"actor"`
	Action        string    `json:"action" db:"action"`
	RequestID     string    `json:"request_id,omitempty" db:"request_id"`
	Target        string    `json:"target" db:"target"`
	PayloadDigest string    `json:"payload_digest" db:"payload_digest"`
	PrevHash      string    `json:"prev_hash" db:"prev_hash"`
	Hash          string    `json:"hash" db:"hash"`
}

// computeHash is the record's link in the chain: SHA-256 over its fields and the
// previous record's hash, encoded as a JSON array so no field can bleed into the
// next.
func (r AuditRecord) computeHash() string {
	b, _ := json.Marshal([]any{r.Seq, r.At.UTC().Format(time.RFC3339Nano), r.Actor, r.Action, r.RequestID, r.Target, r.PayloadDigest, r.PrevHash})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// digest is the SHA-256 of a payload's JSON form.
func digest(payload any) string {
	b, _ := json.Marshal(payload)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

type requestIDKey struct{}

// WithRequestID returns a context whose audit records carry id as their request
// id. It is for the identity changes (users, groups, tokens), whose functions are
// also called from the command line and take no request id of their own.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// auditLock serialises appends so each record links to the one before it.
const auditLock = 7_2_6_9_2

// appendAudit adds r to the chain inside tx, unless a record from the same source
// is already there. The caller's transaction makes the change and its record one.
func appendAudit(ctx context.Context, tx *sqlx.Tx, r AuditRecord, source string) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, auditLock); err != nil {
		return err
	}
	var exists bool
	if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM audit_log WHERE source = $1)`, source); err != nil || exists {
		return err
	}
	var last struct {
		Seq  int64  `db:"seq"`
		Hash string `db:"hash"`
	}
	err := tx.GetContext(ctx, &last, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if r.RequestID == "" {
		r.RequestID, _ = ctx.Value(requestIDKey{}).(string)
	}
	// PostgreSQL keeps microseconds: hash what will be read back.
	r.At = r.At.UTC().Truncate(time.Microsecond)
	r.Seq, r.PrevHash = last.Seq+1, last.Hash
	r.Hash = r.computeHash()
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (seq, at, actor, action, request_id, target, payload_digest, prev_hash, hash, source)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		r.Seq, r.At, r.Actor, r.Action, r.RequestID, r.Target, r.PayloadDigest, r.PrevHash, r.Hash, source)
	return err
}

// auditEvent appends the audit record of a process event, if it is a change a
// person made: starts and actions. What the process did by itself (timers,
// breaches, escalations) is in its history and timeline, not in the audit log.
func auditEvent(ctx context.Context, tx *sqlx.Tx, v engine.View, e engine.Event) error {
	if e.Actor == engine.System.ID {
		return nil
	}
	r := AuditRecord{At: e.At, Actor: e.Actor, RequestID: e.RequestID, Target: "process:" + v.ID}
	switch e.Type {
	case engine.EventStarted:
		r.Action = AuditStart
		r.PayloadDigest = digest(map[string]any{"definition": v.Definition, "version": v.Version, "input": v.Input})
	case engine.EventAction:
		r.Action = AuditAction + ":" + e.Action
		r.PayloadDigest = digest(map[string]any{"from": e.From, "to": e.To, "data": e.Data, "comment": e.Comment})
	default:
		return nil
	}
	return appendAudit(ctx, tx, r, fmt.Sprintf("event:%s#%d", v.ID, e.Seq))
}

// AuditVerification is the result of recomputing the chain.
type AuditVerification struct {
	OK      bool   `json:"ok"`
	Records int64  `json:"records"`
	Head    string `json:"head,omitempty"`
	// FirstBad is the seq of the first record that breaks the chain, and Problem
	// says how.
	FirstBad int64  `json:"first_bad_seq,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// VerifyAudit recomputes the whole chain in order and reports the first record
// that was altered, removed or inserted out of order. Records removed from the end
// leave no trace in the chain itself: keep the reported head (count and hash)
// somewhere else and compare.
func (s *Store) VerifyAudit(ctx context.Context) (AuditVerification, error) {
	const op = "store.VerifyAudit"
	rows, err := s.db.QueryxContext(ctx, `SELECT seq, at, actor, action, request_id, target, payload_digest, prev_hash, hash
		FROM audit_log ORDER BY seq`)
	if err != nil {
		return AuditVerification{}, fail(op, err)
	}
	defer rows.Close()
	out := AuditVerification{OK: true}
	prev := ""
	for rows.Next() {
		var r AuditRecord
		if err := rows.StructScan(&r); err != nil {
			return out, fail(op, err)
		}
		want := out.Records + 1
		switch {
		case r.Seq != want:
			return bad(out, want, fmt.Sprintf("record %d is missing: it was removed (the next record is %d)", want, r.Seq)), nil
		case r.PrevHash != prev:
			return bad(out, r.Seq, fmt.Sprintf("record %d does not follow record %d: it was inserted out of order, or record %d was altered and rehashed", r.Seq, r.Seq-1, r.Seq-1)), nil
		case r.computeHash() != r.Hash:
			return bad(out, r.Seq, fmt.Sprintf("record %d was altered: its content no longer matches its hash", r.Seq)), nil
		}
		prev = r.Hash
		out.Records++
	}
	if err := rows.Err(); err != nil {
		return out, fail(op, err)
	}
	out.Head = prev
	return out, nil
}

func bad(v AuditVerification, seq int64, problem string) AuditVerification {
	v.OK, v.FirstBad, v.Problem = false, seq, problem
	return v
}

// AuditFilter selects audit records; zero fields match everything.
type AuditFilter struct {
	From, To time.Time
	Actor    string
	Action   string
	Limit    int
}

// Audit returns the records matching f in chain order.
func (s *Store) Audit(ctx context.Context, f AuditFilter) ([]AuditRecord, error) {
	out := []AuditRecord{}
	var from, to any
	if !f.From.IsZero() {
		from = f.From
	}
	if !f.To.IsZero() {
		to = f.To
	}
	err := s.db.SelectContext(ctx, &out, `SELECT seq, at, actor, action, request_id, target, payload_digest, prev_hash, hash
		FROM audit_log WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2)
		AND ($3 = '' OR actor = $3) AND ($4 = '' OR action = $4 OR action LIKE $4 || ':%')
		ORDER BY seq LIMIT $5`, from, to, f.Actor, f.Action, f.Limit)
	for i := range out {
		out[i].At = out[i].At.UTC()
	}
	return out, fail("store.Audit", err)
}
