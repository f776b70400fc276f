package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestKnowledgeArticlesAreCheckedBeforeTheWorkflowIsAsked: a knowledge field
// names an article the caller may see, in the states the field lists; the
// service checks it before the update, so a refusal leaves no trace.
func TestKnowledgeArticlesAreCheckedBeforeTheWorkflowIsAsked(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	article := c.must(201, "POST", "/api/v1/processes/knowledge", "dev-tier2",
		map[string]any{"input": map[string]any{"title": "Disk full", "solution": "Rotate the logs"}})["id"].(string)
	inc := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "Disk full on web-1"}})["id"].(string)
	c.must(200, "POST", "/api/v1/processes/"+inc+"/actions/acknowledge", "dev-tier1", nil)
	c.must(200, "POST", "/api/v1/processes/"+inc+"/actions/resolve", "dev-tier1", map[string]any{"input": map[string]any{"resolution": "rotated the logs"}})
	seq := c.must(200, "GET", "/api/v1/processes/"+inc, "dev-auditor", nil)["seq"]
	link := func(knowledge string) (int, map[string]any) {
		return c.call("POST", "/api/v1/processes/"+inc+"/actions/link_knowledge", "dev-tier1", map[string]any{"input": map[string]any{"knowledge": knowledge}})
	}
	for _, tc := range []struct {
		name, article, says string
	}{
		{"Unknown", "knowledge-999999", `no knowledge article "knowledge-999999"`},
		{"NotAnArticle", inc, fmt.Sprintf("no knowledge article %q", inc)},
		{"ADraft", article, "is draft; it must be published"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := link(tc.article)
			if status != 422 || !strings.Contains(fmt.Sprint(body), "input.knowledge") || !strings.Contains(fmt.Sprint(body), tc.says) {
				t.Fatalf("%d %v", status, body)
			}
		})
	}
	if after := c.must(200, "GET", "/api/v1/processes/"+inc, "dev-auditor", nil)["seq"]; after != seq {
		t.Fatalf("refused links changed the incident: seq %v, then %v", seq, after)
	}
	status, body := c.call("POST", "/api/v1/processes/"+inc+"/actions/close", "dev-service-desk", map[string]any{})
	if status != 409 || !strings.Contains(fmt.Sprint(body), "vars.knowledge") {
		t.Fatalf("close without an article: %d %v", status, body)
	}
	c.must(200, "POST", "/api/v1/processes/"+article+"/actions/submit", "dev-tier2", map[string]any{})
	if status, body := c.call("POST", "/api/v1/processes/"+article+"/actions/publish", "dev-tier2", map[string]any{}); status != 403 || !strings.Contains(fmt.Sprint(body), "submit") {
		t.Fatalf("the author published their own article: %d %v", status, body)
	}
	c.must(200, "POST", "/api/v1/processes/"+article+"/actions/publish", "dev-tier3", map[string]any{"input": map[string]any{"review": "ok"}})
	if status, body := link(article); status != 200 {
		t.Fatalf("linking a published article: %d %v", status, body)
	}
	c.must(200, "POST", "/api/v1/processes/"+inc+"/actions/close", "dev-service-desk", map[string]any{})
	p := c.waitFor(inc, "closed", func(p map[string]any) bool { return p["ended_at"] != nil })
	if p["vars"].(map[string]any)["knowledge"] != article {
		t.Fatalf("vars %v", p["vars"])
	}
	// A requester cannot read the knowledge base, so cannot name an article.
	if status, _ := c.call("GET", "/api/v1/processes/"+article, "dev-requester", nil); status != 404 {
		t.Fatalf("a requester reads an article: %d", status)
	}
}
