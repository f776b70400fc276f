package store

import (
	"bytes"
	"context"
	"crypto/hmac"
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
	// AuditComment is a work note added to a process.
	AuditComment = "comment"
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
	// AuditCIs records a change of the configuration item registry: one
	// record per save or import, its digest over what was saved.
	AuditCIs = "cis_saved"
)

// Links: how an audit record is chained to the one before it.
const (
	// LinkSHA256 is SHA-256 over the record's fields and the previous record's
	// hash: the records written before the chain was keyed. Anyone who can write
	// the database can recompute it.
	LinkSHA256 = "sha256"
	// LinkHMAC is HMAC-SHA-256 under the audit key over the same fields, the
	// record's source, link and key id: without the key no link can be made.
	LinkHMAC = "hmac-sha256"
)

// MinAuditKeyBytes is the shortest audit key accepted: HMAC-SHA-256 wants a key
// at least as long as its output.
const MinAuditKeyBytes = 32

type auditKey struct {
	id  string
	key []byte
}

// WithAuditKey gives the store the secret key that links new audit records and
// signs checkpoints of the chain (HMAC-SHA-256). Give it again for each older
// key after a rotation, newest first: the first key links and signs, the others
// only verify what was written under them. A store without a key verifies what
// it can but refuses to append to the audit log. The key is never written
// anywhere; records and checkpoints carry its id.
func WithAuditKey(key []byte) Option {
	return func(s *Store) {
		if len(key) < MinAuditKeyBytes {
			if s.optErr == nil {
				s.optErr = &engine.Error{Code: engine.EINVALID, Op: "store.WithAuditKey",
					Message: fmt.Sprintf("the audit key has %d bytes; it needs at least %d random bytes", len(key), MinAuditKeyBytes)}
			}
			return
		}
		s.auditKeys = append(s.auditKeys, auditKey{id: auditKeyID(key), key: bytes.Clone(key)})
	}
}

// auditKeyID names a key without revealing it: the first 8 bytes of
// HMAC(key, "itilflow-audit-key-id"), in hex.
func auditKeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("itilflow-audit-key-id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// AuditKeyIDs returns the ids of the store's audit keys, the one that links new
// records first.
func (s *Store) AuditKeyIDs() []string { return keyIDs(s.auditKeys) }

// keyedMAC is HMAC-SHA-256 under key over a JSON array of a label and fields.
// The label keeps a record's MAC from ever passing for a checkpoint's.
func keyedMAC(key []byte, label string, fields ...any) string {
	b, _ := json.Marshal(append([]any{label}, fields...))
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

// AuditRecord is one entry of the audit log.
type AuditRecord struct {
	Seq           int64     `json:"seq" db:"seq"`
	At            time.Time `json:"at" db:"at"`
	Actor         string    `json:"actor" db:"actor"`
	Action        string    `json:"action" db:"action"`
	RequestID     string    `json:"request_id,omitempty" db:"request_id"`
	Target        string    `json:"target" db:"target"`
	PayloadDigest string    `json:"payload_digest" db:"payload_digest"`
	// Source is what produced the record, e.g. "event:incident-000001#4" for a
	// process event.
	Source   string `json:"source,omitempty" db:"source"`
	PrevHash string `json:"prev_hash" db:"prev_hash"`
	Hash     string `json:"hash" db:"hash"`
	// Link is how Hash was made (LinkSHA256 or LinkHMAC), and KeyID names the
	// key of an HMAC link.
	Link  string `json:"link" db:"link"`
	KeyID string `json:"key_id,omitempty" db:"key_id"`
}

// auditColumns are the columns of an AuditRecord; records written before
// sources existed have none.
const auditColumns = `seq, at, actor, action, request_id, target, payload_digest, COALESCE(source, '') AS source,
	prev_hash, hash, link, key_id`

// computeHash is the record's link in the unkeyed chain: SHA-256 over its fields
// and the previous record's hash, encoded as a JSON array so no field can bleed
// into the next.
func (r AuditRecord) computeHash() string {
	b, _ := json.Marshal([]any{r.Seq, r.At.UTC().Format(time.RFC3339Nano), r.Actor, r.Action, r.RequestID, r.Target, r.PayloadDigest, r.PrevHash})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// keyedHash is the record's link in the keyed chain. It also covers the source,
// which ties a process event's record to its events row, and the link and key
// id, so neither can be changed to pass the record off as something else.
func (r AuditRecord) keyedHash(key []byte) string {
	return keyedMAC(key, "itilflow-audit-record", r.Seq, r.At.UTC().Format(time.RFC3339Nano), r.Actor, r.Action,
		r.RequestID, r.Target, r.PayloadDigest, r.Source, r.PrevHash, r.Link, r.KeyID)
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

// errNoAuditKey is what a store opened without WithAuditKey answers when it
// must append to the audit log.
func errNoAuditKey() error {
	return &engine.Error{Code: engine.EINTERNAL, Op: "store.appendAudit",
		Message: "no audit key: audit records are linked with HMAC-SHA-256 under a secret key and this store was given none " +
			"(itilflow reads it from --audit-key-file, ITILFLOW_AUDIT_KEY or <data-dir>/audit.key)"}
}

// appendAudit adds r to the chain inside tx, linked under the store's first
// audit key, unless a record from the same source is already there. The
// caller's transaction makes the change and its record one.
func (s *Store) appendAudit(ctx context.Context, tx *sqlx.Tx, r AuditRecord, source string) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, auditLock); err != nil {
		return err
	}
	var exists bool
	if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM audit_log WHERE source = $1)`, source); err != nil || exists {
		return err
	}
	if len(s.auditKeys) == 0 {
		return errNoAuditKey()
	}
	key := s.auditKeys[0]
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
	// PostgreSQL keeps microseconds: link what will be read back.
	r.At = r.At.UTC().Truncate(time.Microsecond)
	r.Seq, r.PrevHash, r.Source, r.Link, r.KeyID = last.Seq+1, last.Hash, source, LinkHMAC, key.id
	r.Hash = r.keyedHash(key.key)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (seq, at, actor, action, request_id, target, payload_digest, prev_hash, hash, source, link, key_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		r.Seq, r.At, r.Actor, r.Action, r.RequestID, r.Target, r.PayloadDigest, r.PrevHash, r.Hash, source, r.Link, r.KeyID)
	return err
}

// eventAudit is the audit record of a process event, and false for an event
// that is no change a person made: what the process did by itself (timers,
// breaches, escalations) is in its history and timeline, not in the audit log.
// For a start the payload is what was started (definition, version, input); for
// an action what it did (from, to, data, comment); for a work note its text.
func eventAudit(v engine.View, e engine.Event) (AuditRecord, bool) {
	if e.Actor == engine.System.ID {
		return AuditRecord{}, false
	}
	r := AuditRecord{At: e.At, Actor: e.Actor, RequestID: e.RequestID, Target: "process:" + v.ID}
	switch e.Type {
	case engine.EventStarted:
		r.Action = AuditStart
		r.PayloadDigest = digest(map[string]any{"definition": v.Definition, "version": v.Version, "input": v.Input})
	case engine.EventAction:
		// The events table keeps no data as NULL: digest it as nothing, whether it
		// came as nil or empty, so the record can be checked against its row.
		data := e.Data
		if len(data) == 0 {
			data = nil
		}
		r.Action = AuditAction + ":" + e.Action
		r.PayloadDigest = digest(map[string]any{"from": e.From, "to": e.To, "data": data, "comment": e.Comment})
	case engine.EventComment:
		r.Action = AuditComment
		r.PayloadDigest = digest(map[string]any{"comment": e.Comment})
	default:
		return AuditRecord{}, false
	}
	return r, true
}

// eventSource is the source of a process event's audit record.
func eventSource(processID string, seq int64) string {
	return fmt.Sprintf("event:%s#%d", processID, seq)
}

// auditEvent appends the audit record of a process event, if it is a change a
// person made: starts and actions.
func (s *Store) auditEvent(ctx context.Context, tx *sqlx.Tx, v engine.View, e engine.Event) error {
	r, ok := eventAudit(v, e)
	if !ok {
		return nil
	}
	return s.appendAudit(ctx, tx, r, eventSource(v.ID, e.Seq))
}

// AuditFilter selects audit records; zero fields match everything.
type AuditFilter struct {
	From, To time.Time
	Actor    string
	Action   string
	Limit    int
	// Newest returns the last Limit records, newest first, instead of the
	// first in chain order.
	Newest bool
}

// Audit returns the records matching f in chain order (newest first with
// f.Newest).
func (s *Store) Audit(ctx context.Context, f AuditFilter) ([]AuditRecord, error) {
	out := []AuditRecord{}
	var from, to any
	if !f.From.IsZero() {
		from = f.From
	}
	if !f.To.IsZero() {
		to = f.To
	}
	order := "seq"
	if f.Newest {
		order = "seq DESC"
	}
	err := s.db.SelectContext(ctx, &out, `SELECT `+auditColumns+`
		FROM audit_log WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2)
		AND ($3 = '' OR actor = $3) AND ($4 = '' OR action = $4 OR action LIKE $4 || ':%')
		ORDER BY `+order+` LIMIT $5`, from, to, f.Actor, f.Action, f.Limit)
	for i := range out {
		out[i].At = out[i].At.UTC()
	}
	return out, fail("store.Audit", err)
}
