package activities_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/itilflow/itilflow/activities"
	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/webhook"
)

func call(t *testing.T, method string, status int, body string) (engine.WebhookResponse, *http.Request, string, error) {
	t.Helper()
	var got *http.Request
	var sent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, sent = r, string(b)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	a := &activities.Activities{HTTPClient: srv.Client()}
	resp, err := a.CallWebhook(context.Background(), activities.WebhookInput{Process: "incident-000001", Effect: 4,
		Call: engine.WebhookCall{Webhook: engine.Webhook{URL: srv.URL + "/hook", Method: method}, Payload: map[string]any{"n": 1}}})
	return resp, got, sent, err
}

func nonRetryable(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.NonRetryable()
}

func TestCallWebhook(t *testing.T) {
	resp, r, sent, err := call(t, "POST", 200, `{"id": "X-1", "n": [1, 2]}`)
	if err != nil || resp.Status != 200 || resp.Body.(map[string]any)["id"] != "X-1" {
		t.Fatalf("resp %+v err %v", resp, err)
	}
	if r.Header.Get("Idempotency-Key") != "incident-000001/4" || r.Header.Get("Content-Type") != "application/json" || sent != `{"n":1}` {
		t.Fatalf("sent %q with headers %v", sent, r.Header)
	}

	if resp, _, _, err := call(t, "PUT", 204, ""); err != nil || resp.Status != 204 || resp.Body != nil {
		t.Fatalf("empty answer: %+v %v", resp, err)
	}
	if resp, _, _, err := call(t, "POST", 200, "accepted"); err != nil || resp.Body != "accepted" {
		t.Fatalf("text answer: %+v %v", resp, err)
	}
	if _, r, sent, err := call(t, "GET", 200, "{}"); err != nil || sent != "" || r.Header.Get("Content-Type") != "" {
		t.Fatalf("GET sent %q (%v)", sent, err)
	}

	for status, retry := range map[int]bool{400: false, 404: false, 422: false, 408: true, 429: true, 500: true, 503: true} {
		_, _, _, err := call(t, "POST", status, `{"error":"no"}`)
		if err == nil || nonRetryable(err) == retry || !strings.Contains(err.Error(), `{"error":"no"}`) {
			t.Errorf("status %d: error %v, want retryable=%v naming the answer", status, err, retry)
		}
	}
}

// TestCallWebhookSignsWithTheDeploymentsSecret: a webhook step's call carries
// Itilflow-Signature over its body, which the receiver verifies with the
// secret the deployment shares with it; without a secret, no header.
func TestCallWebhookSignsWithTheDeploymentsSecret(t *testing.T) {
	secret := []byte("webhook-steps-secret-0123456789abcdef")
	var header, sent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		header, sent = r.Header.Get(webhook.SignatureHeader), string(b)
	}))
	defer srv.Close()
	in := activities.WebhookInput{Process: "change-normal-000002", Effect: 9,
		Call: engine.WebhookCall{Webhook: engine.Webhook{URL: srv.URL, Method: "POST"}, Payload: map[string]any{"text": "overdue"}}}
	a := &activities.Activities{HTTPClient: srv.Client(), WebhookSigner: &webhook.Signer{Secrets: [][]byte{secret}}}
	if _, err := a.CallWebhook(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if err := webhook.Verify(header, []byte(sent), [][]byte{secret}, time.Now(), webhook.DefaultTolerance); err != nil {
		t.Fatalf("the receiver refuses %q over %s: %v", header, sent, err)
	}
	a.WebhookSigner = nil
	if _, err := a.CallWebhook(context.Background(), in); err != nil || header != "" {
		t.Fatalf("unsigned call sent %q (%v)", header, err)
	}
}

func TestCallWebhookNeedsAClient(t *testing.T) {
	_, err := (&activities.Activities{}).CallWebhook(context.Background(), activities.WebhookInput{})
	if !nonRetryable(err) {
		t.Fatalf("got %v, want a non-retryable configuration error", err)
	}
}

type processes struct{ keys []string }

func (p *processes) Definition(_ context.Context, name string, _ int) (store.Definition, error) {
	if name != "change" {
		return store.Definition{}, &engine.Error{Code: engine.ENOTFOUND, Message: "no such definition"}
	}
	def, err := engine.Parse([]byte("name: change\ninput:\n  reason: {type: string, required: true}\ninitial: a\nstates:\n  a: {actions: {go: {to: b}}}\n  b: {final: true}\n"))
	if err != nil {
		return store.Definition{}, err
	}
	return store.Definition{Name: "change", Version: 2, Hash: "sha256:c", Compiled: *def}, nil
}

func (p *processes) StartID(_ context.Context, key, definition string) (string, error) {
	p.keys = append(p.keys, key)
	return definition + "-000009", nil
}

type starter struct{ launches []activities.Launch }

func (s *starter) Start(_ context.Context, l activities.Launch) error {
	s.launches = append(s.launches, l)
	return nil
}

func TestStartProcess(t *testing.T) {
	p, s := &processes{}, &starter{}
	a := &activities.Activities{Processes: p, Starter: s}
	ctx := context.Background()
	id, err := a.StartProcess(ctx, activities.StartInput{Parent: "problem-000001", ParentDefinition: "problem", Effect: 5, Process: "change", Input: map[string]any{"reason": "fix"}})
	if err != nil || id != "change-000009" || len(p.keys) != 1 || p.keys[0] != "problem-000001/5" {
		t.Fatalf("id %q err %v keys %v", id, err, p.keys)
	}
	if l := s.launches[0]; l.ID != id || l.Version != 2 || l.Parent != "problem-000001" || l.Input["reason"] != "fix" {
		t.Fatalf("launch %+v", l)
	}
	for name, in := range map[string]activities.StartInput{
		"unknown process": {Parent: "p", Effect: 1, Process: "chnage"},
		"invalid input":   {Parent: "p", Effect: 1, Process: "change", Input: map[string]any{"reason": 7}},
	} {
		if _, err := a.StartProcess(ctx, in); !nonRetryable(err) {
			t.Errorf("%s: got %v, want a non-retryable failure", name, err)
		}
	}
	if len(s.launches) != 1 {
		t.Fatalf("failed starts launched %+v", s.launches[1:])
	}
}
