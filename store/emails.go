package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// The e-mail side of the notification outbox (migration 017). The dispatcher
// first expands each new notification into the e-mails it owes — one per
// addressee who is reached by e-mail — then sends them one at a time, each in
// a transaction that holds the row's lock while the message goes out.

// Channels a user may be reached by. The empty channel is the default: e-mail
// when the user has an address, nothing otherwise. The notification webhook
// receives every notification whatever the channels say.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
	ChannelNone    = "none"
)

// Channels lists the channels a user may choose, for validation messages.
var Channels = []string{ChannelEmail, ChannelWebhook, ChannelNone}

// Languages of notification e-mails; the empty language is English.
const (
	LanguageEnglish = "en"
	LanguageChinese = "zh-Hans"
)

// PendingEmail is one e-mail the outbox owes one person for one notification.
type PendingEmail struct {
	Notification
	To       string `db:"address"`
	UserID   string `db:"recipient"`
	UserName string `db:"recipient_name"`
	Language string `db:"language"`
	Attempts int    `db:"attempts"`
}

// ExpandEmails turns up to limit notifications not yet expanded into the
// e-mails they owe: to the addressed user, or to every member of the
// addressed role, who has an address, whose channel is e-mail (or the
// default), and who may see the process — the rule of every read (Viewer),
// so an e-mail never tells someone of a process the API would hide from
// them. A notification is expanded once, so a later change of the
// directory never mails it again. It returns how many notifications it
// expanded.
func (s *Store) ExpandEmails(ctx context.Context, limit int) (int, error) {
	// A reminder is a notification that a reminder event raised: the
	// latest event before it that is not itself a notification.
	res, err := s.db.ExecContext(ctx, `WITH batch AS (
			SELECT n.id, n.process_id, n.role, n.user_id, coalesce((SELECT ev.type = 'reminder' FROM events ev
				WHERE ev.process_id = n.process_id AND ev.seq < n.seq AND ev.type <> 'notification'
				ORDER BY ev.seq DESC LIMIT 1), false) AS reminder
			FROM notifications n WHERE n.email_expanded_at IS NULL
			ORDER BY n.id LIMIT $1 FOR UPDATE OF n SKIP LOCKED
		), owed AS (
			INSERT INTO notification_emails (notification_id, user_id, address, language, digest)
			SELECT b.id, u.id, u.email, u.language, b.reminder AND u.reminder_digest FROM batch b
				JOIN processes p ON p.id = b.process_id
				JOIN users u ON u.id = b.user_id OR (b.role <> '' AND b.role = ANY(u.roles))
			WHERE u.email <> '' AND u.notify_channel IN ('', $2) AND `+userSees+`
			ON CONFLICT DO NOTHING
		)
		UPDATE notifications SET email_expanded_at = now() WHERE id IN (SELECT id FROM batch)`, limit, ChannelEmail)
	if err != nil {
		return 0, fail("store.ExpandEmails", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// emailLease is how long a transaction that sends one e-mail may stay idle
// on the server while the SMTP server answers: longer than the mailer's own
// timeout, so the mailer gives up first.
const emailLease = 5 * time.Minute

// SendNextEmail claims the oldest e-mail that is due and not claimed by
// another dispatcher, calls send with it, and records the outcome: sent_at
// when send succeeds, in the same transaction as the claim, or the error and
// a later attempt (backoff) when it fails. The claim is the row's lock, so a
// dispatcher that dies before it commits frees the e-mail at once; if it died
// after send succeeded, the e-mail is sent again (at least once). It returns
// false when nothing is due, and send's error when send failed.
func (s *Store) SendNextEmail(ctx context.Context, now time.Time, send func(context.Context, PendingEmail) error) (bool, error) {
	const op = "store.SendNextEmail"
	var found bool
	var sendErr error
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SET LOCAL idle_in_transaction_session_timeout = `+pqInterval(emailLease)); err != nil {
			return err
		}
		var e PendingEmail
		err := tx.GetContext(ctx, &e, `SELECT n.id, n.process_id, n.seq, n.role, n.user_id, n.message, n.created_at,
				e.address, e.user_id AS recipient, coalesce(u.name, e.user_id) AS recipient_name, e.language, e.attempts
			FROM notification_emails e JOIN notifications n ON n.id = e.notification_id LEFT JOIN users u ON u.id = e.user_id
			WHERE e.sent_at IS NULL AND NOT e.digest AND (e.next_attempt_at IS NULL OR e.next_attempt_at <= $1)
			ORDER BY e.notification_id, e.user_id LIMIT 1 FOR UPDATE OF e SKIP LOCKED`, now)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		if sendErr = send(ctx, e); sendErr != nil {
			_, err = tx.ExecContext(ctx, `UPDATE notification_emails SET attempts = attempts + 1, last_error = $3,
				next_attempt_at = $4 WHERE notification_id = $1 AND user_id = $2`,
				e.ID, e.UserID, truncate(sendErr.Error(), 1000), now.Add(emailBackoff(e.Attempts+1)))
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE notification_emails SET attempts = attempts + 1, last_error = '', sent_at = $3
			WHERE notification_id = $1 AND user_id = $2`, e.ID, e.UserID, now)
		return err
	})
	if err != nil {
		return found, err
	}
	return found, sendErr
}

// Digest is the e-mail of one person's reminders of a day.
type Digest struct {
	UserID   string
	UserName string
	To       string
	Language string
	// Until is the end of the period the digest covers: every reminder
	// raised before it and not yet sent.
	Until time.Time
	Items []Notification
}

// digestRow is a reminder owed in a digest, with its addressee.
type digestRow struct {
	Notification
	To       string `db:"address"`
	UserName string `db:"recipient_name"`
	Language string `db:"language"`
	Attempts int    `db:"attempts"`
}

// SendNextDigest gathers one person's reminders raised before until that
// are owed in their digest, calls send with them, and records the outcome,
// as SendNextEmail does for one e-mail: the person's rows are claimed under
// a transaction-scoped advisory lock, so two dispatchers never send one
// digest, and marked sent in the same transaction. It returns false when no
// digest is due.
func (s *Store) SendNextDigest(ctx context.Context, now, until time.Time, send func(context.Context, Digest) error) (bool, error) {
	const op = "store.SendNextDigest"
	var found bool
	var sendErr error
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SET LOCAL idle_in_transaction_session_timeout = `+pqInterval(emailLease)); err != nil {
			return err
		}
		due := `e.digest AND e.sent_at IS NULL AND (e.next_attempt_at IS NULL OR e.next_attempt_at <= $1) AND n.created_at < $2`
		var users []string
		if err := tx.SelectContext(ctx, &users, `SELECT DISTINCT e.user_id FROM notification_emails e
			JOIN notifications n ON n.id = e.notification_id WHERE `+due+` ORDER BY e.user_id LIMIT 10`, now, until); err != nil {
			return err
		}
		var user string
		for _, u := range users {
			var locked bool
			if err := tx.GetContext(ctx, &locked, `SELECT pg_try_advisory_xact_lock(hashtext('itilflow-digest:' || $1))`, u); err != nil {
				return err
			}
			if locked {
				user = u
				break
			}
		}
		if user == "" {
			return nil
		}
		// Read under the lock: a digest another dispatcher just sent is
		// marked, and not read again.
		var rows []digestRow
		if err := tx.SelectContext(ctx, &rows, `SELECT n.id, n.process_id, n.seq, n.role, n.user_id, n.message, n.created_at,
				e.address, coalesce(u.name, e.user_id) AS recipient_name, e.language, e.attempts
			FROM notification_emails e JOIN notifications n ON n.id = e.notification_id LEFT JOIN users u ON u.id = e.user_id
			WHERE e.user_id = $3 AND `+due+` ORDER BY n.created_at, n.id`, now, until, user); err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		found = true
		d := Digest{UserID: user, UserName: rows[0].UserName, To: rows[0].To, Language: rows[0].Language, Until: until.UTC()}
		ids := make([]int64, len(rows))
		attempts := 0
		for i, r := range rows {
			d.Items = append(d.Items, r.Notification)
			ids[i] = r.ID
			attempts = max(attempts, r.Attempts)
		}
		if sendErr = send(ctx, d); sendErr != nil {
			_, err := tx.ExecContext(ctx, `UPDATE notification_emails SET attempts = attempts + 1, last_error = $3, next_attempt_at = $4
				WHERE user_id = $1 AND notification_id = ANY($2)`, user, pq.Array(ids), truncate(sendErr.Error(), 1000), now.Add(emailBackoff(attempts+1)))
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE notification_emails SET attempts = attempts + 1, last_error = '', sent_at = $3
			WHERE user_id = $1 AND notification_id = ANY($2)`, user, pq.Array(ids), now)
		return err
	})
	if err != nil {
		return found, err
	}
	return found, sendErr
}

// emailBackoff is how long an e-mail waits after its nth failed attempt:
// doubling from 10 s, at most an hour, so an SMTP outage is not hammered and
// a refused address does not hold the others back.
func emailBackoff(n int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// SentEmail is an e-mail of the outbox as an operator sees it.
type SentEmail struct {
	NotificationID int64      `db:"notification_id"`
	UserID         string     `db:"user_id"`
	Address        string     `db:"address"`
	Attempts       int        `db:"attempts"`
	LastError      string     `db:"last_error"`
	SentAt         *time.Time `db:"sent_at"`
}

// Emails returns the e-mails owed for a notification, sent or not, by user.
func (s *Store) Emails(ctx context.Context, notificationID int64) ([]SentEmail, error) {
	out := []SentEmail{}
	err := s.db.SelectContext(ctx, &out, `SELECT notification_id, user_id, address, attempts, last_error, sent_at
		FROM notification_emails WHERE notification_id = $1 ORDER BY user_id`, notificationID)
	return out, fail("store.Emails", err)
}

// pqInterval writes a duration as a PostgreSQL setting in milliseconds.
func pqInterval(d time.Duration) string { return "'" + milliseconds(d) + "'" }

// truncate bounds an error kept in the database, never splitting a
// character (PostgreSQL refuses invalid UTF-8).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
