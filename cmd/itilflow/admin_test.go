package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestAdminInDev drives the README's admin session against itilflow dev: the demo
// admin adds a user and a token that works until it is revoked, the demo groups
// are there, and a revoked delegation stops the delegate's votes at once.
func TestAdminInDev(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}

	groups := c.must(200, "GET", "/api/v1/admin/groups", "dev-admin", nil)
	if got := fmt.Sprint(groups["items"]); !strings.Contains(got, "members:[cara.cab cody.cab cole.cab]") || !strings.Contains(got, "change-managers") {
		t.Fatalf("demo groups: %v", got)
	}
	if code, out := c.call("GET", "/api/v1/admin/users", "dev-auditor", nil); code != 403 || !strings.Contains(fmt.Sprint(out), "needs the role admin") {
		t.Fatalf("the auditor listed users: %d %v", code, out)
	}
	c.must(200, "PUT", "/api/v1/admin/users/ana", "dev-admin", map[string]any{"name": "Ana", "roles": []string{"cab-member"}})
	tok := c.must(201, "POST", "/api/v1/admin/users/ana/tokens", "dev-admin", map[string]any{"label": "laptop"})["token"].(string)
	if me := c.must(200, "GET", "/api/v1/me", tok, nil); me["id"] != "ana" {
		t.Fatalf("me: %v", me)
	}
	if out := c.must(200, "DELETE", "/api/v1/admin/users/ana/tokens?label=laptop", "dev-admin", nil); out["revoked"] != float64(1) {
		t.Fatalf("revoke: %v", out)
	}
	c.must(401, "GET", "/api/v1/me", tok, nil)

	// A change is on an open CAB meeting's agenda; the change manager delegates, then revokes.
	id := submitToCAB(c, "dev-requester", map[string]any{"title": "Patch the firewall"})
	meeting := openCABMeeting(c, id)
	d := c.must(201, "POST", "/api/v1/delegations", "dev-change-manager", map[string]any{
		"to": "sid.service", "ends_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "reason": "on leave"})
	path := fmt.Sprintf("/api/v1/delegations/%v", d["id"])
	if items, _ := c.must(200, "GET", "/api/v1/approvals", "dev-service-manager", nil)["approvals"].([]any); len(items) != 1 ||
		items[0].(map[string]any)["item"].(map[string]any)["id"] != id {
		t.Fatalf("delegate's inbox before: %v", items)
	}
	c.must(403, "DELETE", path, "dev-service-manager", nil)
	c.must(200, "DELETE", path, "dev-change-manager", nil)
	c.must(409, "DELETE", path, "dev-admin", nil)
	if items, _ := c.must(200, "GET", "/api/v1/approvals", "dev-service-manager", nil)["approvals"].([]any); len(items) != 0 {
		t.Fatalf("delegate's inbox after the revocation: %v", items)
	}
	// Without the delegation the meeting is none of sid's business: it is not found.
	if code, out := voteAtCAB(c, meeting, "dev-service-manager", "approve", id, map[string]any{"on_behalf_of": "carl.change"}); code != 404 {
		t.Fatalf("a vote for carl after the revocation: %d %v", code, out)
	}

	recs := c.must(200, "GET", "/api/v1/audit?actor=ada.admin", "dev-auditor", nil)["items"].([]any)
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.(map[string]any)["action"].(string))
	}
	if got := strings.Join(actions, " "); got != "user_saved token_issued token_revoked" {
		t.Fatalf("the admin's audit records: %s", got)
	}
}
