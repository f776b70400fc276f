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
