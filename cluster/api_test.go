package cluster

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// api calls an itilflow API as the dev users do, by token.
type api struct {
	t    *testing.T
	base string // http://host:port
}

// call sends a request; a map body is sent as JSON, a string as YAML. Every
// POST carries an Idempotency-Key and is retried with it on 503 — what a
// client does when a worker died under its request and Temporal did not
// answer in time: the API acts once.
func (a api) call(method, path, token string, body any) (int, map[string]any) {
	a.t.Helper()
	var raw []byte
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		raw, contentType = []byte(b), "application/yaml"
	default:
		raw, _ = json.Marshal(b)
	}
	key := make([]byte, 12)
	rand.Read(key)
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequest(method, a.base+path, bytes.NewReader(raw))
		if err != nil {
			a.t.Fatalf("%s %s: %v", method, path, err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", contentType)
		}
		if method == "POST" {
			req.Header.Set("Idempotency-Key", hex.EncodeToString(key))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			a.t.Fatalf("%s %s: %v", method, path, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			a.t.Fatalf("%s %s: read the answer: %v", method, path, err)
		}
		if resp.StatusCode == http.StatusServiceUnavailable && method == "POST" && attempt < 5 {
			a.t.Logf("%s %s: 503 (%s); retrying with its Idempotency-Key", method, path, bytes.TrimSpace(b))
			time.Sleep(time.Second)
			continue
		}
		var out map[string]any
		if len(b) > 0 && json.Unmarshal(b, &out) != nil {
			a.t.Fatalf("%s %s: %d, not JSON: %.500s", method, path, resp.StatusCode, b)
		}
		return resp.StatusCode, out
	}
}

// must calls and fails the test unless the answer has the status.
func (a api) must(status int, method, path, token string, body any) map[string]any {
	a.t.Helper()
	got, out := a.call(method, path, token, body)
	if got != status {
		a.t.Fatalf("%s %s as %s: %d, want %d: %v", method, path, token, got, status, out)
	}
	return out
}

// process returns the process as the auditor sees it.
func (a api) process(id string) map[string]any {
	a.t.Helper()
	return a.must(200, "GET", "/api/v1/processes/"+id, "dev-auditor", nil)
}

// waitFor polls the process until cond holds, for at most within.
func (a api) waitFor(id, what string, within time.Duration, cond func(p map[string]any) bool) map[string]any {
	a.t.Helper()
	deadline := time.Now().Add(within)
	for {
		p := a.process(id)
		if cond(p) {
			return p
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("%s: %s did not happen within %v; state %v, slas %v, last events %v", id, what, within, p["state"], p["slas"], lastEvents(p, 6))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// eventsOf returns the process's events of a type.
func eventsOf(p map[string]any, typ string) []map[string]any {
	var out []map[string]any
	events, _ := p["events"].([]any)
	for _, e := range events {
		if m := e.(map[string]any); m["type"] == typ {
			out = append(out, m)
		}
	}
	return out
}

// lastEvents describes the process's last n events, for failures.
func lastEvents(p map[string]any, n int) []string {
	events, _ := p["events"].([]any)
	var out []string
	for _, e := range events[max(0, len(events)-n):] {
		m := e.(map[string]any)
		out = append(out, fmt.Sprintf("%v %v%v", m["at"], m["type"], m["data"]))
	}
	return out
}
