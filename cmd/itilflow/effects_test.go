package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestDevRunsWebhookAndStartSteps runs effects on the real stack: a webhook whose
// answer sets a variable, and a start step whose process is started through
// Temporal, linked both ways, and whose end takes the parent's on_end action.
func TestDevRunsWebhookAndStartSteps(t *testing.T) {
	var calls atomic.Int32
	var key atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		key.Store(r.Header.Get("Idempotency-Key"))
		io.ReadAll(r.Body)
		io.WriteString(w, `{"ticket":"EXT-9"}`)
	}))
	defer srv.Close()
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	// The definitions of the golden effects history (golden_test.go).
	c.must(201, "PUT", "/api/v1/definitions/golden-child", "dev-process-owner", goldenChild)
	c.must(201, "PUT", "/api/v1/definitions/golden-parent", "dev-process-owner", strings.Replace(goldenParent, "HOOK", srv.URL, 1))
	p := c.must(201, "POST", "/api/v1/processes/golden-parent", "dev-requester", map[string]any{"input": map[string]any{"title": "hello"}})
	id := p["id"].(string)
	p = c.waitFor(id, "linked", func(p map[string]any) bool {
		links, _ := p["links"].([]any)
		vars, _ := p["vars"].(map[string]any)
		return len(links) == 1 && vars["ticket"] == "EXT-9"
	})
	kid := p["links"].([]any)[0].(map[string]any)["id"].(string)
	if calls.Load() != 1 || key.Load() != id+"/2" {
		t.Fatalf("webhook called %d times with Idempotency-Key %v", calls.Load(), key.Load())
	}
	k := c.waitFor(kid, "started", func(p map[string]any) bool { return p["state"] == "open" })
	if links, _ := k["links"].([]any); len(links) != 1 || links[0].(map[string]any)["id"] != id {
		t.Fatalf("child links %v", k["links"])
	}
	// The child was started by the system and names no roles: only those who
	// see everything see it (and may take its role-free action).
	c.must(404, "POST", "/api/v1/processes/"+kid+"/actions/finish", "dev-requester", nil)
	c.must(200, "POST", "/api/v1/processes/"+kid+"/actions/finish", "dev-admin", nil)
	p = c.waitFor(id, "closed", func(p map[string]any) bool { return p["state"] == "closed" })
	var types []string
	for _, e := range p["events"].([]any) {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	if got := strings.Join(types, " "); !strings.Contains(got, "subprocess_started") || !strings.HasSuffix(got, "subprocess_ended action process_ended") {
		t.Fatalf("parent events %s", got)
	}
	// Both histories replay against the code.
	for _, pid := range []string{id, kid} {
		out := c.must(200, "POST", "/api/v1/processes/"+pid+"/replay", "dev-auditor", nil)
		if out["deterministic"] != true {
			t.Fatalf("replay %s: %v", pid, out)
		}
	}
}
