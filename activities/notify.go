package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/itilflow/itilflow/store"
)

// Outbox holds the notifications and the audit checkpoints to deliver. The
// store package implements it.
type Outbox interface {
	PendingNotifications(ctx context.Context, limit int) ([]store.Notification, error)
	MarkDelivered(ctx context.Context, ids []int64) error
	PendingAuditCheckpoints(ctx context.Context, limit int) ([]store.AuditCheckpoint, error)
	MarkAuditCheckpointsDelivered(ctx context.Context, seqs []int64) error
}

// EmailOutbox holds the e-mails the notifications owe people. The store
// package implements it.
type EmailOutbox interface {
	// ExpandEmails turns new notifications into the e-mails they owe.
	ExpandEmails(ctx context.Context, limit int) (int, error)
	// SendNextEmail claims the next e-mail that is due, calls send with it and
	// records the outcome; false when none is due.
	SendNextEmail(ctx context.Context, now time.Time, send func(context.Context, store.PendingEmail) error) (bool, error)
}

// Mailer sends one notification e-mail. The mailer package implements it.
type Mailer interface {
	Send(ctx context.Context, e store.PendingEmail) error
}

// notifyBatch bounds one delivery run, so an activity attempt stays short.
const notifyBatch = 100

// DeliverNotifications delivers the outbox: by e-mail to the people who are
// reached that way (deliverEmails), and to the notification webhook
// (deliverWebhook), whichever are configured. One failing does not hold the
// other back; the activity is retried when either failed. It returns how many
// messages it delivered.
func (a *Activities) DeliverNotifications(ctx context.Context) (int, error) {
	webhook := a.Outbox != nil && a.NotifyURL != "" && a.HTTPClient != nil
	email := a.Emails != nil && a.Mailer != nil
	if !webhook && !email {
		return 0, temporal.NewNonRetryableApplicationError("notification delivery is not configured", "notify_config", nil)
	}
	var delivered int
	var errs []error
	if email {
		n, err := a.deliverEmails(ctx)
		delivered += n
		errs = append(errs, err)
	}
	if webhook {
		n, err := a.deliverWebhook(ctx)
		delivered += n
		errs = append(errs, err)
	}
	return delivered, errors.Join(errs...)
}

// deliverEmails expands the new notifications into the e-mails they owe and
// sends those that are due, one at a time, each claimed, sent and marked in
// one transaction of the outbox (store.SendNextEmail), so two notifiers never
// send the same e-mail and a crash before the mark frees it at once. It stops
// at the first failure: the e-mail that failed waits its backoff, the others
// go out at the next run.
func (a *Activities) deliverEmails(ctx context.Context) (int, error) {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	if _, err := a.Emails.ExpandEmails(ctx, notifyBatch); err != nil {
		return 0, err
	}
	sent := 0
	for sent < notifyBatch {
		found, err := a.Emails.SendNextEmail(ctx, now(), a.Mailer.Send)
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

// deliverWebhook posts the undelivered notifications, oldest first, to the
// notification webhook ({"kind":"notification",…}), each with Idempotency-Key
// notification-<id> so a receiver
// drops the duplicates a crash between posting and marking can cause; then, the
// same way, the undelivered audit checkpoints ({"kind":"audit_checkpoint",…},
// Idempotency-Key audit-checkpoint-<seq>), so a copy of each lives outside the
// database. It stops at the first failure (the activity is retried; order is
// kept) and returns how many it delivered.
func (a *Activities) deliverWebhook(ctx context.Context) (int, error) {
	pending, err := a.Outbox.PendingNotifications(ctx, notifyBatch)
	if err != nil {
		return 0, err
	}
	delivered := 0
	for _, n := range pending {
		if err := a.post(ctx, fmt.Sprintf("notification-%d", n.ID), NotificationMessage{Kind: KindNotification, Notification: n}); err != nil {
			return delivered, err
		}
		if err := a.Outbox.MarkDelivered(ctx, []int64{n.ID}); err != nil {
			return delivered, err
		}
		delivered++
	}
	checkpoints, err := a.Outbox.PendingAuditCheckpoints(ctx, notifyBatch)
	if err != nil {
		return delivered, err
	}
	for _, cp := range checkpoints {
		if err := a.post(ctx, fmt.Sprintf("audit-checkpoint-%d", cp.Seq), cp); err != nil {
			return delivered, err
		}
		if err := a.Outbox.MarkAuditCheckpointsDelivered(ctx, []int64{cp.Seq}); err != nil {
			return delivered, err
		}
		delivered++
	}
	return delivered, nil
}

// KindNotification is the kind of a notification posted to the webhook; an
// audit checkpoint's is store.CheckpointKind.
const KindNotification = "notification"

// NotificationMessage is a notification as the webhook receives it: with its
// kind, so that a receiver tells it from the audit checkpoints at the same
// URL by one field (api/openapi.yaml, webhooks).
type NotificationMessage struct {
	Kind string `json:"kind"`
	store.Notification
}

// post sends one message of the outbox to the webhook, signed when the
// deployment has a secret for it.
func (a *Activities) post(ctx context.Context, idempotencyKey string, message any) error {
	body, err := json.Marshal(message)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.NotifyURL, bytes.NewReader(body))
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), "notify_config", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", idempotencyKey)
	req.Header.Set("User-Agent", "itilflow")
	// Signed at each attempt: a retry is a fresh request, within the
	// receiver's tolerance however long the receiver was down.
	a.NotifySigner.Sign(req, body)
	resp, err := a.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		// Every failure is retried: a notification must not be lost because the
		// receiver was briefly wrong.
		return fmt.Errorf("%s: %s answered %s", idempotencyKey, a.NotifyURL, resp.Status)
	}
	return nil
}
