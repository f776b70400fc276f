package store

import (
	"context"

	"github.com/lib/pq"
)

// The notifications table is the outbox: the projection writes each
// notification in the same transaction as its event, and the notifier delivers
// the undelivered ones in order.

// PendingNotifications returns up to limit undelivered notifications, oldest first.
func (s *Store) PendingNotifications(ctx context.Context, limit int) ([]Notification, error) {
	out := []Notification{}
	err := s.db.SelectContext(ctx, &out, `SELECT id, process_id, seq, role, user_id, message, created_at FROM notifications
		WHERE delivered_at IS NULL ORDER BY id LIMIT $1`, limit)
	return out, fail("store.PendingNotifications", err)
}

// MarkDelivered records that notifications were delivered.
func (s *Store) MarkDelivered(ctx context.Context, ids []int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE notifications SET delivered_at = now() WHERE id = ANY($1) AND delivered_at IS NULL`, pq.Array(ids))
	return fail("store.MarkDelivered", err)
}

// The audit_checkpoints table is the outbox of audit checkpoints: the notifier
// delivers them too, in seq order, so a receiver outside the database keeps a
// copy its writers cannot rewrite.

// QueueAuditCheckpoint adds a checkpoint to the outbox. A checkpoint of the same
// record, from another server or an earlier attempt, is queued once.
func (s *Store) QueueAuditCheckpoint(ctx context.Context, cp AuditCheckpoint) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO audit_checkpoints (seq, hash, at, key_id, mac) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (seq) DO NOTHING`, cp.Seq, cp.Hash, cp.At, cp.KeyID, cp.MAC)
	return fail("store.QueueAuditCheckpoint", err)
}

// PendingAuditCheckpoints returns up to limit undelivered checkpoints, oldest first.
func (s *Store) PendingAuditCheckpoints(ctx context.Context, limit int) ([]AuditCheckpoint, error) {
	out := []AuditCheckpoint{}
	err := s.db.SelectContext(ctx, &out, `SELECT seq, hash, at, key_id, mac FROM audit_checkpoints
		WHERE delivered_at IS NULL ORDER BY seq LIMIT $1`, limit)
	for i := range out {
		out[i].Kind, out[i].At = CheckpointKind, out[i].At.UTC()
	}
	return out, fail("store.PendingAuditCheckpoints", err)
}

// MarkAuditCheckpointsDelivered records that checkpoints were delivered.
func (s *Store) MarkAuditCheckpointsDelivered(ctx context.Context, seqs []int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE audit_checkpoints SET delivered_at = now() WHERE seq = ANY($1) AND delivered_at IS NULL`, pq.Array(seqs))
	return fail("store.MarkAuditCheckpointsDelivered", err)
}
