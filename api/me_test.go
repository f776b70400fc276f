package api

import (
	"fmt"
	"testing"
	"time"
)

func TestMeListsGroupsAndDelegations(t *testing.T) {
	a := newAdminTest(t)
	a.must(200, "PUT", "/api/v1/admin/groups/cab", "ada.admin", map[string]any{"name": "CAB", "members": []string{"carl.change", "sid.service"}})
	a.must(200, "PUT", "/api/v1/admin/groups/change-managers", "ada.admin", map[string]any{"name": "Change managers", "members": []string{"carl.change"}})
	a.must(201, "POST", "/api/v1/delegations", "carl.change", map[string]any{
		"to": "sid.service", "ends_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "reason": "leave"})

	carl := a.must(200, "GET", "/api/v1/me", "carl.change", nil)
	given := carl["delegations"].(map[string]any)["given"].([]any)
	if carl["id"] != "carl.change" || fmt.Sprint(carl["roles"]) != "[change-manager]" || fmt.Sprint(carl["groups"]) != "[cab change-managers]" ||
		len(given) != 1 || given[0].(map[string]any)["to"] != "sid.service" {
		t.Fatalf("carl: %v", carl)
	}
	sid := a.must(200, "GET", "/api/v1/me", "sid.service", nil)
	received := sid["delegations"].(map[string]any)["received"].([]any)
	if fmt.Sprint(sid["groups"]) != "[cab]" || len(received) != 1 || received[0].(map[string]any)["from"] != "carl.change" {
		t.Fatalf("sid: %v", sid)
	}
	// Nothing to list is an empty list, not a missing field.
	rita := a.must(200, "GET", "/api/v1/me", "rita.requester", nil)
	if fmt.Sprint(rita["groups"]) != "[]" || fmt.Sprint(rita["delegations"]) != "map[given:[] received:[]]" {
		t.Fatalf("rita: %v", rita)
	}
}
