package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

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

// notifyBatch bounds one delivery run, so an activity attempt stays short.
const notifyBatch = 100

// DeliverNotifications posts the undelivered notifications, oldest first, to the
// notification webhook ({"kind":"notification",…}), each with Idempotency-Key
// notification-<id> so a receiver
// drops the duplicates a crash between posting and marking can cause; then, the
// same way, the undelivered audit checkpoints ({"kind":"audit_checkpoint",…},
// Idempotency-Key audit-checkpoint-<seq>), so a copy of each lives outside the
// database. It stops at the first failure (the activity is retried; order is
// kept) and returns how many it delivered.
func (a *Activities) DeliverNotifications(ctx context.Context) (int, error) {
	if a.Outbox == nil || a.NotifyURL == "" || a.HTTPClient == nil {
		return 0, temporal.NewNonRetryableApplicationError("notification delivery is not configured", "notify_config", nil)
	}
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
