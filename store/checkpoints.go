package store

import (
	"context"
	"crypto/hmac"
	"fmt"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// CheckpointKind is the kind of every AuditCheckpoint: a receiver of the
// outbox tells checkpoints from notifications by it.
const CheckpointKind = "audit_checkpoint"

// AuditCheckpoint vouches, under the audit key, that the chain's record Seq had
// hash Hash at time At. Kept where the database's writers cannot rewrite it (a
// file, a webhook's receiver), it exposes what the chain alone cannot: records
// removed from the end, and a chain rewritten up to Seq by someone holding the
// key.
type AuditCheckpoint struct {
	Kind  string    `json:"kind"`
	Seq   int64     `json:"seq" db:"seq"`
	Hash  string    `json:"hash" db:"hash"`
	At    time.Time `json:"at" db:"at"`
	KeyID string    `json:"key_id" db:"key_id"`
	MAC   string    `json:"mac" db:"mac"`
}

// mac signs the checkpoint's fields.
func (cp AuditCheckpoint) mac(key []byte) string {
	return keyedMAC(key, "itilflow-audit-checkpoint", cp.Seq, cp.Hash, cp.At.UTC().Format(time.RFC3339Nano), cp.KeyID)
}

func (cp AuditCheckpoint) validWith(key []byte) bool {
	return hmac.Equal([]byte(cp.mac(key)), []byte(cp.MAC))
}

// SignAuditHead returns a checkpoint of the chain's head at time at, signed with
// the store's first audit key; its Seq is 0 while the chain is empty. It first
// verifies the records it will vouch for — those after since, the previous
// checkpoint, or the whole chain when since is nil — and refuses with ECONFLICT
// when since's record no longer has since's hash or a later record does not
// verify, so the key never vouches for a rewritten chain.
func (s *Store) SignAuditHead(ctx context.Context, at time.Time, since *AuditCheckpoint) (AuditCheckpoint, error) {
	const op = "store.SignAuditHead"
	if len(s.auditKeys) == 0 {
		return AuditCheckpoint{}, errNoAuditKey()
	}
	refuse := func(problem string) error {
		return &engine.Error{Code: engine.ECONFLICT, Op: op, Message: "not signing the audit chain's head: " + problem + " (run itilflow audit verify)"}
	}
	from := int64(1)
	if since != nil {
		from = since.Seq
	}
	rows, err := s.db.QueryxContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE seq >= $1 ORDER BY seq`, from)
	if err != nil {
		return AuditCheckpoint{}, fail(op, err)
	}
	defer rows.Close()
	c := chainCheck{keys: s.auditKeys, next: 1}
	for rows.Next() {
		var r AuditRecord
		if err := rows.StructScan(&r); err != nil {
			return AuditCheckpoint{}, fail(op, err)
		}
		if since != nil && c.next == 1 {
			// The previous checkpoint's record starts the walk: it must be as
			// it was vouched for.
			if r.Seq != since.Seq || r.Hash != since.Hash {
				return AuditCheckpoint{}, refuse(fmt.Sprintf("record %d no longer has the hash the last checkpoint vouched for", since.Seq))
			}
			c.follow(r)
			continue
		}
		if _, problem := c.check(r); problem != "" {
			return AuditCheckpoint{}, refuse(problem)
		}
	}
	if err := rows.Err(); err != nil {
		return AuditCheckpoint{}, fail(op, err)
	}
	if since != nil && c.next == 1 {
		return AuditCheckpoint{}, refuse(fmt.Sprintf("record %d, which the last checkpoint vouched for, is gone", since.Seq))
	}
	if c.next == 1 {
		return AuditCheckpoint{}, nil
	}
	key := s.auditKeys[0]
	// PostgreSQL keeps microseconds: sign what the outbox will read back.
	cp := AuditCheckpoint{Kind: CheckpointKind, Seq: c.next - 1, Hash: c.prev, At: at.UTC().Truncate(time.Microsecond), KeyID: key.id}
	cp.MAC = cp.mac(key.key)
	return cp, nil
}
