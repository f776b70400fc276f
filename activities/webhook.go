package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/gate"
)

// WebhookInput is one webhook step of a process: the call, and the process and
// effect it belongs to, which make its idempotency key.
type WebhookInput struct {
	Process string             `json:"process"`
	Effect  int64              `json:"effect"`
	Call    engine.WebhookCall `json:"call"`
}

// IdempotencyKey is sent with every attempt of the same step, so a receiver can
// drop the duplicates that retries make.
func (in WebhookInput) IdempotencyKey() string { return fmt.Sprintf("%s/%d", in.Process, in.Effect) }

// Error types of webhook failures that are not worth retrying.
const (
	ErrWebhookRefused = "webhook_refused" // a 4xx answer: the request itself is wrong
	ErrWebhookAnswer  = "webhook_answer"  // an answer too large to take
	ErrNotConfigured  = "not_configured"  // a dependency missing from the wiring
)

// maxWebhookResponse bounds the response body read into the process.
const maxWebhookResponse = 1 << 20

// CallWebhook sends the call's payload as JSON (GET sends none) and returns the
// status and the decoded JSON body: nil when empty, the text itself when it is
// not JSON. An answer outside 2xx is an error; 4xx (except 408 and 429) is not
// retried, because the same request would be refused again. Temporal retries
// the rest up to the step's retries.
func (a *Activities) CallWebhook(ctx context.Context, in WebhookInput) (engine.WebhookResponse, error) {
	if a.HTTPClient == nil {
		return engine.WebhookResponse{}, temporal.NewNonRetryableApplicationError("the worker has no HTTP client for webhooks", ErrNotConfigured, nil)
	}
	c := in.Call
	var body io.Reader
	var raw []byte // what is signed: the body, empty for a GET
	if c.Method != http.MethodGet {
		payload := c.Payload
		if payload == nil {
			payload = map[string]any{}
		}
		b, err := json.Marshal(payload)
		if err != nil {
			return engine.WebhookResponse{}, temporal.NewNonRetryableApplicationError("encoding the webhook body: "+err.Error(), ErrWebhookRefused, err)
		}
		raw, body = b, bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, c.Method, c.URL, body)
	if err != nil {
		return engine.WebhookResponse{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrWebhookRefused, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "itilflow")
	req.Header.Set("Idempotency-Key", in.IdempotencyKey())
	a.WebhookSigner.Sign(req, raw)
	resp, err := a.HTTPClient.Do(req)
	if err != nil {
		return engine.WebhookResponse{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxWebhookResponse+1))
	if err != nil {
		return engine.WebhookResponse{}, fmt.Errorf("%s %s: reading the answer: %w", c.Method, c.URL, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := fmt.Sprintf("%s %s answered %s", c.Method, c.URL, resp.Status)
		if s := snippet(data); s != "" {
			msg += ": " + s
		}
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
			return engine.WebhookResponse{}, temporal.NewNonRetryableApplicationError(msg, ErrWebhookRefused, nil)
		}
		return engine.WebhookResponse{}, temporal.NewApplicationError(msg, "webhook_status")
	}
	if len(data) > maxWebhookResponse {
		return engine.WebhookResponse{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s %s answered more than %d bytes", c.Method, c.URL, maxWebhookResponse), ErrWebhookAnswer, nil)
	}
	return engine.WebhookResponse{Status: resp.StatusCode, Body: decodeBody(data)}, nil
}

// decodeBody decodes a JSON answer; an empty one is nil and one that is not JSON
// is kept as text, so a call that succeeded does not fail over its answer.
// Text another system sent that the database or a person could not take (a
// NUL, bytes that are not UTF-8) is replaced before the process holds it.
func decodeBody(data []byte) any {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return gate.CleanString(string(data))
	}
	v, _ = gate.Clean(v)
	return v
}

// snippet is the start of an error answer, for the failure message.
func snippet(data []byte) string {
	const max = 200
	s := gate.CleanString(strings.TrimSpace(string(data)))
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
