package mailer

import (
	"context"
	"log/slog"
	"time"

	"github.com/itilflow/itilflow/store"
)

// Outbox holds the e-mails the notifications owe people. The store package
// implements it; every method is safe to call from several servers at once.
type Outbox interface {
	// ExpandEmails turns new notifications into the e-mails they owe.
	ExpandEmails(ctx context.Context, limit int) (int, error)
	// SendNextEmail claims the next e-mail that is due, calls send with it and
	// records the outcome in the same transaction; false when none is due.
	SendNextEmail(ctx context.Context, now time.Time, send func(context.Context, store.PendingEmail) error) (bool, error)
	// SendNextDigest does the same for one person's reminders raised
	// before until.
	SendNextDigest(ctx context.Context, now, until time.Time, send func(context.Context, store.Digest) error) (bool, error)
}

// Dispatcher sends the e-mails of the notification outbox. It runs beside the
// API in every `dev` and `serve`, outside any workflow: the outbox's row
// locks keep two servers from sending one e-mail, and a server that dies
// mid-send frees its e-mail at once (no activity timeout to wait out), so
// another server, or the same one restarted, sends it at its next round.
type Dispatcher struct {
	Outbox Outbox
	Mailer *Mailer
	// Interval is the pause between rounds when nothing was sent.
	Interval time.Duration
	// Now is the clock of retries; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// batch bounds one round, so a large backlog does not starve the expansion
// of newer notifications.
const batch = 100

// Round expands the new notifications and sends the e-mails that are due,
// one at a time, then the digests of reminders: each person who chose one
// gets, at the first round after 00:00 UTC (08:00 in Beijing), the reminders
// raised before it. It stops at the first failure — that e-mail waits its
// backoff, the others go at the next round — and returns how many it sent.
func (d *Dispatcher) Round(ctx context.Context) (int, error) {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	if _, err := d.Outbox.ExpandEmails(ctx, batch); err != nil {
		return 0, err
	}
	sent := 0
	for sent < batch {
		found, err := d.Outbox.SendNextEmail(ctx, now(), d.Mailer.Send)
		if err != nil {
			return sent, err
		}
		if !found {
			break
		}
		sent++
	}
	t := now().UTC()
	until := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	for sent < batch {
		found, err := d.Outbox.SendNextDigest(ctx, t, until, d.Mailer.SendDigest)
		if err != nil {
			return sent, err
		}
		if !found {
			break
		}
		sent++
	}
	return sent, nil
}

// Run sends e-mails until ctx ends: a round at once, then whenever Interval
// has passed, or at once again when the last round sent a full batch.
func (d *Dispatcher) Run(ctx context.Context) {
	for {
		n, err := d.Round(ctx)
		if err != nil && ctx.Err() == nil {
			// Logged, not fatal: the e-mail is kept and tried again.
			d.Log.Warn("notification e-mail not sent; it is tried again", "error", err)
		}
		wait := d.Interval
		if n >= batch {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
