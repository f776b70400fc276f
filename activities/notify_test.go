package activities_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/itilflow/itilflow/activities"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/webhook"
)

// memOutbox is an outbox in memory that records what was marked delivered.
type memOutbox struct {
	notes       []store.Notification
	checkpoints []store.AuditCheckpoint
	marked      []string
}

func (o *memOutbox) PendingNotifications(context.Context, int) ([]store.Notification, error) {
	return o.notes, nil
}

func (o *memOutbox) MarkDelivered(_ context.Context, ids []int64) error {
	for _, id := range ids {
		o.marked = append(o.marked, fmt.Sprintf("n%d", id))
	}
	return nil
}

func (o *memOutbox) PendingAuditCheckpoints(context.Context, int) ([]store.AuditCheckpoint, error) {
	return o.checkpoints, nil
}

func (o *memOutbox) MarkAuditCheckpointsDelivered(_ context.Context, seqs []int64) error {
	for _, seq := range seqs {
		o.marked = append(o.marked, fmt.Sprintf("c%d", seq))
	}
	return nil
}

// TestDeliverNotificationsAlsoDeliversAuditCheckpoints: checkpoints follow the
// notifications to the same webhook, each with its kind and its own
// Idempotency-Key, all signed with the notification secret, and a failure stops
// the run before marking.
func TestDeliverNotificationsAlsoDeliversAuditCheckpoints(t *testing.T) {
	var keys []string
	var kinds []any
	fail := ""
	secret := []byte("notification-secret-0123456789abcdef")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		if r.Header.Get("Idempotency-Key") == fail {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		// The receiver checks that itilflow sent it, over the body as sent.
		if err := webhook.Verify(r.Header.Get(webhook.SignatureHeader), b, [][]byte{secret}, time.Now(), webhook.DefaultTolerance); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		keys, kinds = append(keys, r.Header.Get("Idempotency-Key")), append(kinds, m["kind"])
	}))
	defer srv.Close()
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	o := &memOutbox{
		notes:       []store.Notification{{ID: 1, ProcessID: "incident-000001", Message: "late"}},
		checkpoints: []store.AuditCheckpoint{{Kind: store.CheckpointKind, Seq: 7, Hash: "h7", At: at, KeyID: "k", MAC: "m"}, {Kind: store.CheckpointKind, Seq: 9, At: at}},
	}
	a := &activities.Activities{Outbox: o, NotifyURL: srv.URL, HTTPClient: srv.Client(), NotifySigner: &webhook.Signer{Secrets: [][]byte{secret}}}
	n, err := a.DeliverNotifications(context.Background())
	if err != nil || n != 3 {
		t.Fatalf("delivered %d: %v", n, err)
	}
	if !slices.Equal(keys, []string{"notification-1", "audit-checkpoint-7", "audit-checkpoint-9"}) ||
		kinds[0] != "notification" || kinds[1] != "audit_checkpoint" || !slices.Equal(o.marked, []string{"n1", "c7", "c9"}) {
		t.Fatalf("posted %v (kinds %v), marked %v", keys, kinds, o.marked)
	}
	keys, o.marked, fail = nil, nil, "audit-checkpoint-7"
	if n, err := a.DeliverNotifications(context.Background()); err == nil || n != 1 || !slices.Equal(o.marked, []string{"n1"}) {
		t.Fatalf("with checkpoint 7 refused: delivered %d, marked %v: %v", n, o.marked, err)
	}
}
