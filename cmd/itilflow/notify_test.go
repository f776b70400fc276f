package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/itilflow/itilflow/webhook"
)

// TestNotificationsAreDeliveredOnce: with --notify-webhook, the notifier
// workflow posts each notification of the outbox to the webhook, signed with
// --notify-webhook-secret-file, retrying a receiver that fails, each with its
// own Idempotency-Key, and the outbox marks them delivered.
func TestNotificationsAreDeliveredOnce(t *testing.T) {
	secret := []byte("notify-secret-for-the-test-0123456789")
	secretFile := filepath.Join(t.TempDir(), "notify.secret")
	if err := os.WriteFile(secretFile, append(secret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	delivered := map[string]map[string]any{} // Idempotency-Key → notification
	posts := map[string]int{}                // successful posts per key
	checkpoints := 0                         // audit checkpoints, which share the webhook
	attempts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if attempts == 1 {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(r.Body)
		// As a receiver does: refuse what itilflow did not sign.
		if err := webhook.Verify(r.Header.Get(webhook.SignatureHeader), body, [][]byte{secret}, time.Now(), webhook.DefaultTolerance); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var n map[string]any
		if err := json.Unmarshal(body, &n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if n["kind"] == "audit_checkpoint" {
			checkpoints++
			return
		}
		delivered[r.Header.Get("Idempotency-Key")] = n
		posts[r.Header.Get("Idempotency-Key")]++
	}))
	defer srv.Close()
	cfg := newDevConfig(t)
	cfg.extra = []string{"--notify-webhook", srv.URL, "--notify-webhook-secret-file", secretFile}
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	// Declaring a major incident notifies three roles at once.
	p := c.must(201, "POST", "/api/v1/processes/major-incident", "dev-requester",
		map[string]any{"input": map[string]any{"title": "Campus network down", "service": "network"}})
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(delivered)
		mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivered %d of 3 notifications in 30s", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Delivered ones are marked in the outbox: the next run (at once, since the
	// last one delivered something) posts none of them again.
	time.Sleep(time.Second)
	mu.Lock()
	defer mu.Unlock()
	for key, n := range posts {
		if n != 1 {
			t.Errorf("%s delivered %d times", key, n)
		}
	}
	roles := map[any]bool{}
	for key, n := range delivered {
		if n["process_id"] != p["id"] || n["kind"] != "notification" || key == "" {
			t.Fatalf("notification %s: %v", key, n)
		}
		roles[n["role"]] = true
	}
	if len(delivered) != 3 || !roles["regional-manager"] || !roles["incident-manager"] || !roles["service-desk"] || attempts < 4 {
		t.Fatalf("delivered %v after %d attempts", delivered, attempts)
	}
	if checkpoints == 0 {
		t.Fatal("the audit checkpoint of the start was not delivered")
	}
}
