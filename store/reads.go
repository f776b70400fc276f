package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// InboxNotification is a notification as its addressee reads it: with when
// they read it (nil while unread). Read state is per person, so a
// notification to a role is read by each member on their own.
type InboxNotification struct {
	Notification
	ReadAt *time.Time `json:"read_at" db:"read_at"`
}

// NotificationInbox returns the notifications addressed to the viewer or one
// of their roles about processes they may see, newest first, with the
// viewer's read state; only the unread ones when unread is set.
func (s *Store) NotificationInbox(ctx context.Context, v Viewer, unread bool, limit int) ([]InboxNotification, error) {
	out := []InboxNotification{}
	err := s.db.SelectContext(ctx, &out, `SELECT n.id, n.process_id, n.seq, n.role, n.user_id, n.message, n.created_at, r.read_at
		FROM notifications n JOIN processes p ON p.id = n.process_id
		LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.user_id = $1
		WHERE `+visibleTo+` AND (n.user_id = $1 OR n.role = ANY($2)) AND (NOT $5 OR r.read_at IS NULL)
		ORDER BY n.created_at DESC, n.id DESC LIMIT $4`,
		append(v.args(), limit, unread)...)
	for i := range out {
		if out[i].ReadAt != nil {
			at := out[i].ReadAt.UTC()
			out[i].ReadAt = &at
		}
	}
	return out, fail("store.NotificationInbox", err)
}

// MarkNotificationRead records that the viewer read a notification addressed
// to them or one of their roles, about a process they may see, and returns it
// with its read_at. Marking it again keeps the first time. Any other
// notification — someone else's, about a hidden process, or none — is
// ENOTFOUND, worded alike, so an id tells nobody that it exists.
func (s *Store) MarkNotificationRead(ctx context.Context, v Viewer, id int64, at time.Time) (InboxNotification, error) {
	const op = "store.MarkNotificationRead"
	var n InboxNotification
	err := s.db.GetContext(ctx, &n, `WITH addressed AS (
			SELECT n.* FROM notifications n JOIN processes p ON p.id = n.process_id
			WHERE `+visibleTo+` AND n.id = $4 AND (n.user_id = $1 OR n.role = ANY($2))
		), marked AS (
			INSERT INTO notification_reads (notification_id, user_id, read_at) SELECT id, $1, $5 FROM addressed
			ON CONFLICT (notification_id, user_id) DO UPDATE SET read_at = notification_reads.read_at
			RETURNING read_at
		)
		SELECT a.id, a.process_id, a.seq, a.role, a.user_id, a.message, a.created_at, m.read_at FROM addressed a, marked m`,
		append(v.args(), id, at)...)
	if errors.Is(err, sql.ErrNoRows) {
		return n, engine.Errorf(engine.ENOTFOUND, "no notification %d", id)
	}
	if n.ReadAt != nil {
		at := n.ReadAt.UTC()
		n.ReadAt = &at
	}
	return n, fail(op, err)
}
