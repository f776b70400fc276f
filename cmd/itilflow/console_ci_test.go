package main

import (
	"strings"
	"testing"
)

// TestConsoleShowsAConfigurationItem: an incident's page links its item; the
// item's page shows what it is, its parts, and its incidents and problems as
// the person may see them (the rule's problem among them), in English and
// in Chinese.
func TestConsoleShowsAConfigurationItem(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	c.must(200, "POST", "/api/v1/cis/import", "dev-admin", map[string]any{"items": []any{
		map[string]any{"id": "mail-01", "name": "Mail server 1", "type": "server", "service": "mail", "location": "DC1", "parent": "rack-4"},
		map[string]any{"id": "rack-4", "name": "Rack 4", "type": "rack"},
	}})
	var ids []string
	for _, title := range []string{"Mail down", "Mail down again", "Mail down a third time"} {
		id := c.must(201, "POST", "/api/v1/processes/incident", "dev-service-desk", map[string]any{"input": map[string]any{"title": title, "ci": "mail-01"}})["id"].(string)
		c.waitFor(id, "counted", func(p map[string]any) bool { return ruleEvaluated(p) != nil })
		ids = append(ids, id)
	}
	c.waitFor(ids[2], "linked to its problem", func(p map[string]any) bool { links, _ := p["links"].([]any); return len(links) == 1 })

	b := newBrowser(t, cfg.httpAddr, 1280, 900)
	b.signIn("dev-service-desk")
	b.visit("/processes/" + ids[0])
	if !b.has("a[href='/cis/mail-01']") {
		t.Fatalf("the incident's page does not link its item:\n%.2000s", b.html())
	}
	b.visit("/cis/mail-01")
	b.waitText("h1", "Mail server 1")
	b.waitText("dl.facts", "DC1")
	if !b.has("a[href='/cis/rack-4']") {
		t.Error("the item's page does not link its parent")
	}
	incidents := b.text("section[data-section='ci.incidents']")
	for _, id := range ids {
		if !strings.Contains(incidents, id) {
			t.Errorf("the incidents section lacks %s:\n%s", id, incidents)
		}
	}
	b.waitText("section[data-section='ci.problems']", "Repeated faults on mail-01")
	b.shot("ci", false)
	b.visit("/cis/rack-4")
	b.waitText("ul.parts", "Mail server 1")

	// A requester sees only their own: here, nothing.
	b.signOut()
	b.signIn("dev-requester")
	b.visit("/cis/mail-01")
	b.waitText("main", "No process you may see names this item.")
	b.expectRefusal("/cis/no-such-item")
	b.visit("/cis/no-such-item")
	b.waitText("main", "no configuration item")
}
