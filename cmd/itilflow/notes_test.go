package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestWorkNotes adds work notes to an incident as its agent and its
// requester do, through the API and the console: each is an event of its
// history and an audit record, once per Idempotency-Key; an empty note is
// 422 at its field, and an ended process takes none.
func TestWorkNotes(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	id := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "Scanner offline"}})["id"].(string)
	notes := "/api/v1/processes/" + id + "/comments"

	c.must(201, "POST", notes, "dev-tier1", map[string]any{"comment": "Called the user: the cable was loose."}, "Idempotency-Key", "note-1")
	c.must(201, "POST", notes, "dev-tier1", map[string]any{"comment": "Called the user: the cable was loose."}, "Idempotency-Key", "note-1")
	c.must(201, "POST", notes, "dev-requester", map[string]any{"comment": "It works again, thanks."})
	if status, body := c.call("POST", notes, "dev-tier1", map[string]any{"comment": "  "}); status != 422 || !strings.Contains(fmt.Sprint(body), "comment") {
		t.Fatalf("an empty note: %d %v", status, body)
	}
	cc := signInConsole(t, cfg.httpAddr, "dev-tier1")
	if status, _ := cc.post("/processes/"+id+"/comments", url.Values{"comment": {"Closing after the call."}}); status != 303 {
		t.Fatalf("a note from the console: %d", status)
	}
	if status, page := cc.get("/processes/" + id); status != 200 || !strings.Contains(page, "Closing after the call.") || !strings.Contains(page, "tom.tier1 added a work note") {
		t.Fatalf("the process page after a note: %d, note shown %v", status, strings.Contains(page, "Closing after the call."))
	}

	p := c.must(200, "GET", "/api/v1/processes/"+id, "dev-auditor", nil)
	var got []string
	for _, e := range p["events"].([]any) {
		if e := e.(map[string]any); e["type"] == "comment" {
			got = append(got, fmt.Sprintf("%v: %v", e["actor"], e["comment"]))
		}
	}
	want := []string{"tom.tier1: Called the user: the cable was loose.", "rita.requester: It works again, thanks.", "tom.tier1: Closing after the call."}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the notes in the history:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	audit := c.must(200, "GET", "/api/v1/audit?target=process:"+id, "dev-auditor", nil)
	n := 0
	for _, r := range audit["items"].([]any) {
		if r.(map[string]any)["action"] == "comment" {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d audit records of notes, want 3: %v", n, audit)
	}
	if v := c.must(200, "GET", "/api/v1/audit/verify", "dev-auditor", nil); v["ok"] != true {
		t.Fatalf("the audit chain after notes: %v", v)
	}

	c.must(200, "POST", "/api/v1/processes/"+id+"/actions/cancel", "dev-service-desk", map[string]any{"input": map[string]any{"reason": "duplicate"}})
	c.waitFor(id, "ended", func(p map[string]any) bool { return p["ended_at"] != nil })
	if status, body := c.call("POST", notes, "dev-tier1", map[string]any{"comment": "too late"}); status != 409 {
		t.Fatalf("a note on an ended process: %d %v", status, body)
	}
}
