package main

// Trust tests on the real stack: who sees what, route by route; text that
// PostgreSQL or a person cannot take; idempotent starts; one vote per person.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"go.temporal.io/sdk/client"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/workflows"
)

// noticeDefinition notifies every requester when it starts, as definitions
// written before relations did: visibility must keep the notice of one
// requester's process from the others.
const noticeDefinition = `name: notice
input:
  title: {type: string, required: true}
initial: open
states:
  open:
    on_enter: [{notify: {role: requester}}]
    actions:
      close: {to: closed, roles: [service-desk]}
  closed: {final: true}
`

// noticeNotification waits for the notification of the notice process to be
// projected and returns its id, as Rita lists it.
func noticeNotification(t *testing.T, c apiClient, notice string) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		items, _ := c.must(200, "GET", "/api/v1/notifications", "dev-requester", nil)["items"].([]any)
		for _, it := range items {
			if m := it.(map[string]any); m["process_id"] == notice {
				return fmt.Sprint(int64(m["id"].(float64)))
			}
		}
	}
	t.Fatalf("the notification of %s never came", notice)
	return ""
}

// visibilityCallers are the demo users of the table: the requester who
// opened the incident, another requester, a tier-1 agent (a staff role of
// incidents), a CAB member (staff, but not of incidents), the process owner,
// the auditor and the admin.
var visibilityCallers = []string{"dev-requester", "dev-requester2", "dev-tier1", "dev-cab1", "dev-process-owner", "dev-auditor", "dev-admin"}

func TestTrust(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	c.must(201, "PUT", "/api/v1/definitions/notice", "dev-process-owner", noticeDefinition)
	c.must(200, "PUT", "/api/v1/cis/rita-laptop", "dev-admin", map[string]any{"name": "Laptop 17", "type": "laptop"})
	inc := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "Rita's laptop", "description": "private", "ci": "rita-laptop"}})
	id := inc["id"].(string)
	notice := c.must(201, "POST", "/api/v1/processes/notice", "dev-requester", map[string]any{"input": map[string]any{"title": "Rita's notice"}})["id"].(string)
	startedAt := inc["started_at"].(string)

	// The table: for each route, the status each caller gets for Rita's
	// incident (in state new). Hidden is 404 everywhere, never 403.
	t.Run("VisibilityByRoute", func(t *testing.T) {
		p := "/api/v1/processes/" + id
		// The notice's notification, addressed to the requesters: only Rita,
		// who sees the notice, may mark it read.
		read := "/api/v1/notifications/" + noticeNotification(t, c, notice) + "/read"
		routes := []struct {
			name, method, path string
			body               any
			want               []int // in the order of visibilityCallers
		}{
			{"Process", "GET", p, nil, []int{200, 404, 200, 404, 404, 200, 200}},
			{"AsOf", "GET", p + "?as_of=" + startedAt, nil, []int{200, 404, 200, 404, 404, 200, 200}},
			{"Timeline", "GET", p + "/timeline", nil, []int{200, 404, 200, 404, 404, 200, 200}},
			{"History", "GET", p + "/history", nil, []int{403, 404, 403, 404, 404, 200, 200}},
			{"Replay", "POST", p + "/replay", nil, []int{403, 404, 403, 404, 404, 200, 200}},
			{"ActionNotAllowedHere", "POST", p + "/actions/close", nil, []int{409, 404, 409, 404, 404, 409, 409}},
			// Once tier 1 has acknowledged, those who see it are told it is too late.
			{"ActionNotTheirs", "POST", p + "/actions/acknowledge", map[string]any{"comment": "mine now"}, []int{403, 404, 200, 404, 404, 409, 409}},
			{"Vote", "POST", p + "/approvals/new", map[string]any{"decision": "approve"}, []int{404, 404, 404, 404, 404, 404, 404}},
			// Work notes: whoever sees the process, but not as an auditor.
			{"WorkNote", "POST", p + "/comments", map[string]any{"comment": "noted"}, []int{201, 404, 201, 404, 404, 403, 201}},
			{"AuditExport", "GET", "/api/v1/audit", nil, []int{403, 403, 403, 403, 403, 200, 200}},
			{"AuditVerify", "GET", "/api/v1/audit/verify", nil, []int{403, 403, 403, 403, 403, 200, 200}},
			// Reports count every process and name staff: managers, auditors and admins only.
			{"Reports", "GET", "/api/v1/reports", nil, []int{403, 403, 403, 403, 403, 200, 200}},
			{"Report", "GET", "/api/v1/reports/fault-summary?from=2026-11", nil, []int{403, 403, 403, 403, 403, 200, 200}},
			// Rick holds the role it names but may not see the notice; the
			// auditor and the admin see it but are not its addressees.
			{"ReadNotification", "POST", read, nil, []int{200, 404, 404, 404, 404, 404, 404}},
			{"ReadNoNotification", "POST", "/api/v1/notifications/999999/read", nil, []int{404, 404, 404, 404, 404, 404, 404}},
			// The registry is no secret; changing it is the admin's (or a
			// configuration manager's). What the item's page lists is below.
			{"CI", "GET", "/api/v1/cis/rita-laptop", nil, []int{200, 200, 200, 200, 200, 200, 200}},
			{"CIs", "GET", "/api/v1/cis", nil, []int{200, 200, 200, 200, 200, 200, 200}},
			{"PutCI", "PUT", "/api/v1/cis/rita-laptop", map[string]any{"name": "Laptop 17", "type": "laptop"}, []int{403, 403, 403, 403, 403, 403, 200}},
			{"ImportCIs", "POST", "/api/v1/cis/import", map[string]any{"items": []any{}}, []int{403, 403, 403, 403, 403, 403, 200}},
		}
		for _, r := range routes {
			absent := "no process"
			if strings.HasPrefix(r.name, "Read") {
				absent = "no notification"
			}
			for i, who := range visibilityCallers {
				status, body := c.call(r.method, r.path, who, r.body)
				if status != r.want[i] {
					t.Errorf("%s as %s: %d, want %d: %v", r.name, who, status, r.want[i], body)
				}
				if status == 404 && !strings.Contains(fmt.Sprint(body), absent) && r.name != "Vote" {
					t.Errorf("%s as %s: a hidden %s must read like an absent one: %v", r.name, who, strings.TrimPrefix(absent, "no "), body)
				}
			}
		}
		// The lists: whether the incident and the notice are in them, and
		// totals that count only what the caller sees.
		lists := []struct {
			name, path, field string
			item              string
			want              []bool
		}{
			{"List", "/api/v1/processes?definition=incident&limit=500", "items", id, []bool{true, false, true, false, false, true, true}},
			{"ListByCI", "/api/v1/processes?ci=rita-laptop", "items", id, []bool{true, false, true, false, false, true, true}},
			{"CIPage", "/api/v1/cis/rita-laptop", "processes", id, []bool{true, false, true, false, false, true, true}},
			{"Notifications", "/api/v1/notifications", "items", notice, []bool{true, false, false, false, false, false, false}},
			// Rita has read it (ReadNotification above).
			{"UnreadNotifications", "/api/v1/notifications?unread=true", "items", notice, []bool{false, false, false, false, false, false, false}},
		}
		for _, l := range lists {
			for i, who := range visibilityCallers {
				body := c.must(200, "GET", l.path, who, nil)
				items, _ := body[l.field].([]any)
				found := false
				for _, it := range items {
					m := it.(map[string]any)
					found = found || m["id"] == l.item || m["process_id"] == l.item
				}
				if found != l.want[i] {
					t.Errorf("%s as %s: lists %s = %v, want %v", l.name, who, l.item, found, l.want[i])
				}
				if total, ok := body["total"].(float64); ok && int(total) != len(items) {
					t.Errorf("%s as %s: total %v counts what the caller does not see (%d items)", l.name, who, total, len(items))
				}
			}
		}
		// The console's pages, as each caller signed in to it: the same
		// answers as the API's, and the same lists.
		page := "/processes/" + id
		// The process owner's pages are theirs and the admin's; checking the
		// shipped incident, or publishing it unchanged, sends nothing new.
		incident := c.must(200, "GET", "/api/v1/definitions/incident", "dev-process-owner", nil)["source"].(string)
		check := url.Values{"op": {"check"}, "source": {incident}}
		publish := url.Values{"op": {"publish"}, "source": {incident}}
		test := url.Values{"op": {"test"}, "source": {incident}, "scenarios": {"tests:\n  - name: starts\n    input: {title: t}\n    steps:\n      - at: 1m\n        expect: {state: new}\n"}}
		consoleRoutes := []struct {
			name, method, path string
			form               url.Values // a vote's when nil
			want               []int
		}{
			{"ConsoleProcess", "GET", page, nil, []int{200, 404, 200, 404, 404, 200, 200}},
			{"ConsoleSeq", "GET", page + "/seq", nil, []int{200, 404, 200, 404, 404, 200, 200}},
			{"ConsoleActionNotAllowedHere", "POST", page + "/actions/close", nil, []int{409, 404, 409, 404, 404, 409, 409}},
			{"ConsoleVote", "POST", page + "/approvals/new", nil, []int{404, 404, 404, 404, 404, 404, 404}},
			{"ConsoleAsOf", "GET", page + "?as_of=" + url.QueryEscape(startedAt), nil, []int{200, 404, 200, 404, 404, 200, 200}},
			{"ConsoleReplay", "POST", page + "/replay", nil, []int{403, 404, 403, 404, 404, 200, 200}},
			{"ConsoleHistory", "GET", page + "/history.json", nil, []int{403, 404, 403, 404, 404, 200, 200}},
			{"ConsoleAudit", "GET", "/audit", nil, []int{403, 403, 403, 403, 403, 200, 200}},
			{"ConsoleAuditExport", "GET", "/audit/export.csv", nil, []int{403, 403, 403, 403, 403, 200, 200}},
			{"ConsoleDelegations", "GET", "/delegations", nil, []int{200, 200, 200, 200, 200, 200, 200}},
			// The item's page is everyone's; what it lists is not (the check
			// below: no "Rita" for whoever may not see her incident).
			{"ConsoleCI", "GET", "/cis/rita-laptop", nil, []int{200, 200, 200, 200, 200, 200, 200}},
			{"ConsoleNoCI", "GET", "/cis/no-such-item", nil, []int{404, 404, 404, 404, 404, 404, 404}},
			{"ConsoleRevokeNoDelegation", "POST", "/delegations/999999/revoke", nil, []int{404, 404, 404, 404, 404, 404, 404}},
			{"ConsoleDefinitions", "GET", "/definitions", nil, []int{403, 403, 403, 403, 200, 403, 200}},
			{"ConsoleDefinition", "GET", "/definitions/incident?from=1", nil, []int{403, 403, 403, 403, 200, 403, 200}},
			{"ConsoleEditor", "GET", "/definitions/incident/edit", nil, []int{403, 403, 403, 403, 200, 403, 200}},
			{"ConsoleNewEditor", "GET", "/definitions/new", nil, []int{403, 403, 403, 403, 200, 403, 200}},
			{"ConsoleCheck", "POST", "/definitions/incident/edit", check, []int{403, 403, 403, 403, 200, 403, 200}},
			{"ConsolePublishUnchanged", "POST", "/definitions/incident/edit", publish, []int{403, 403, 403, 403, 303, 403, 403}},
			{"ConsoleRetireWithoutReason", "POST", "/definitions/incident/retire", url.Values{"reason": {" "}}, []int{403, 403, 403, 403, 422, 403, 422}},
			{"ConsoleRunScenarios", "POST", "/definitions/incident/edit", test, []int{403, 403, 403, 403, 200, 403, 200}},
			{"ConsoleWhatIf", "POST", "/definitions/incident/edit", url.Values{"op": {"whatif"}, "source": {incident}, "days": {"1"}}, []int{403, 403, 403, 403, 200, 403, 200}},
			{"ConsoleDiagram", "GET", "/definitions/incident/graph.svg", nil, []int{403, 403, 403, 403, 200, 403, 200}},
			{"ConsoleReinstateNotRetired", "POST", "/definitions/incident/reinstate", url.Values{}, []int{403, 403, 403, 403, 409, 403, 409}},
			{"ConsoleWorkNote", "POST", page + "/comments", url.Values{"comment": {"noted"}}, []int{303, 404, 303, 404, 404, 403, 303}},
			{"ConsoleReports", "GET", "/reports", nil, []int{403, 403, 403, 403, 403, 200, 200}},
			{"ConsoleReport", "GET", "/reports/fault-summary?from=2026-11", nil, []int{403, 403, 403, 403, 403, 200, 200}},
			{"ConsoleReportExport", "GET", "/reports/daily-log/export.csv?from=2026-11", nil, []int{403, 403, 403, 403, 403, 200, 200}},
			// Without --oidc-issuer there is no OpenID Connect sign-in to start
			// or finish (TestConsoleSignsInWithOIDC has the routes with one).
			{"ConsoleOIDCLoginOff", "GET", "/oidc/login?next=%2Fqueue", nil, []int{404, 404, 404, 404, 404, 404, 404}},
			{"ConsoleOIDCCallbackOff", "GET", "/oidc/callback?state=x&code=y", nil, []int{404, 404, 404, 404, 404, 404, 404}},
		}
		for i, who := range visibilityCallers {
			cc := signInConsole(t, cfg.httpAddr, who)
			for _, r := range consoleRoutes {
				var status int
				var body string
				if r.method == "GET" {
					status, body = cc.get(r.path)
				} else if r.form != nil {
					status, body = cc.post(r.path, r.form)
				} else {
					status, body = cc.post(r.path, url.Values{"decision": {"approve"}})
				}
				if status != r.want[i] {
					t.Errorf("%s as %s: %d, want %d: %.300s", r.name, who, status, r.want[i], body)
				}
				if hidden := consoleRoutes[0].want[i] == 404; hidden && strings.Contains(body, "Rita") {
					t.Errorf("%s as %s: the not-found page tells of the process: %.300s", r.name, who, body)
				}
			}
			_, queue := cc.get("/queue?definition=incident&ended=on")
			if listed, want := strings.Contains(queue, page), []bool{true, false, true, false, false, true, true}[i]; listed != want {
				t.Errorf("ConsoleQueue as %s: lists %s = %v, want %v", who, id, listed, want)
			}
		}
	})

	t.Run("TextThatCannotBeStoredIsRefusedAtTheDoor", func(t *testing.T) {
		before := c.must(200, "GET", "/api/v1/processes?definition=incident", "dev-auditor", nil)["total"]
		cases := []struct {
			name, method, path string
			body               string
			status             int
			field              string
		}{
			{"NULInInput", "POST", "/api/v1/processes/incident", `{"input":{"title":"a\u0000b"}}`, 422, "input.title"},
			{"InvalidUTF8InInput", "POST", "/api/v1/processes/incident", "{\"input\":{\"title\":\"caf\xe9\"}}", 422, "input.title"},
			{"BlankRequiredText", "POST", "/api/v1/processes/incident", `{"input":{"title":"   "}}`, 422, "input.title"},
			{"NULInComment", "POST", "/api/v1/processes/" + id + "/actions/wait_for_customer", `{"comment":"x\u0000"}`, 422, "comment"},
			{"NULInWorkNote", "POST", "/api/v1/processes/" + id + "/comments", `{"comment":"x\u0000"}`, 422, "comment"},
			{"NULInPath", "GET", "/api/v1/processes/%00", "", 400, "id"},
			{"NULInQuery", "GET", "/api/v1/processes?state=%00", "", 400, "state"},
			{"InvalidUTF8InQuery", "GET", "/api/v1/processes?definition=%ff", "", 400, "definition"},
			{"NULInReportPeriod", "GET", "/api/v1/reports/fault-summary?from=%00", "", 400, "from"},
			{"FutureAsOf", "GET", "/api/v1/processes/" + id + "?as_of=2999-01-01T00:00:00Z", "", 422, "as_of"},
			{"NULInNotificationPath", "POST", "/api/v1/notifications/%00/read", "", 400, "id"},
			{"NULInCI", "PUT", "/api/v1/cis/x-1", `{"name":"a\u0000b"}`, 422, "name"},
			{"NULInCIPath", "GET", "/api/v1/cis/%00", "", 400, "id"},
			{"NULInCIQuery", "GET", "/api/v1/cis?type=%00", "", 400, "type"},
			{"UnknownCI", "POST", "/api/v1/processes/incident", `{"input":{"title":"t","ci":"ghost-1"}}`, 422, "input.ci"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				status, body := c.call(tc.method, tc.path, "dev-tier1", tc.body)
				if status != tc.status || !strings.Contains(fmt.Sprint(body["error"]), tc.field) {
					t.Fatalf("status %d, want %d naming %s: %v", status, tc.status, tc.field, body)
				}
			})
		}
		// The directory's new fields pass it too (as the administrator, the
		// one who may write them).
		for _, tc := range []struct{ name, body, field string }{
			{"NULInEmail", `{"name":"Nul","roles":[],"email":"nul\u0000@example.com"}`, "email"},
			{"InvalidUTF8InEmail", "{\"name\":\"Bad\",\"roles\":[],\"email\":\"caf\xe9@example.com\"}", "email"},
			{"NotAnAddress", `{"name":"Bad","roles":[],"email":"Ivy <ivy@example.com>"}`, "email"},
			{"UnknownChannel", `{"name":"Bad","roles":[],"channel":"pager"}`, "channel"},
			{"NULInLanguage", `{"name":"Bad","roles":[],"language":"en\u0000"}`, "language"},
		} {
			status, body := c.outsideContract().call("PUT", "/api/v1/admin/users/gate.user", "dev-admin", tc.body)
			if status != 422 || !strings.Contains(fmt.Sprint(body["error"]), tc.field) {
				t.Errorf("%s: status %d, want 422 naming %s: %v", tc.name, status, tc.field, body)
			}
		}
		// The console's forms and addresses pass the same gate.
		cc := signInConsole(t, cfg.httpAddr, "dev-tier1")
		for _, tc := range []struct {
			name, path string
			form       url.Values
			status     int
			field      string
		}{
			{"ConsoleNULInInput", "/start/incident", url.Values{"title": {"a\x00b"}}, 422, "title"},
			{"ConsoleInvalidUTF8InComment", "/processes/" + id + "/actions/wait_for_customer", url.Values{"comment": {"caf\xe9"}}, 422, "comment"},
			{"ConsoleNULInPath", "/processes/%00", nil, 400, "id"},
			{"ConsoleNULInQuery", "/queue?state=%00", nil, 400, "state"},
			{"ConsoleNULInCI", "/cis/%00", nil, 400, "id"},
			{"ConsoleNULInDefinition", "/definitions/incident/edit", url.Values{"op": {"check"}, "source": {"name: a\x00b"}}, 422, "source"},
			{"ConsoleNULInVersion", "/definitions/incident?version=%00", nil, 400, "version"},
			{"ConsoleNULInRetireReason", "/definitions/incident/retire", url.Values{"reason": {"a\x00b"}}, 422, "reason"},
			{"ConsoleNULInReportPeriod", "/reports/fault-summary?from=%00", nil, 400, "from"},
			{"ConsoleNULInWorkNote", "/processes/" + id + "/comments", url.Values{"comment": {"a\x00b"}}, 422, "comment"},
		} {
			var status int
			var body string
			if tc.form != nil {
				status, body = cc.post(tc.path, tc.form)
			} else {
				status, body = cc.get(tc.path)
			}
			if status != tc.status || !strings.Contains(body, tc.field) {
				t.Errorf("%s: status %d, want %d naming %s: %.400s", tc.name, status, tc.status, tc.field, body)
			}
		}
		// YAML's "\0" escape spells a NUL the parser lets through.
		nul := "name: nulled\ntitle: \"a\\0b\"\ninitial: a\nstates:\n  a: {actions: {go: {to: b}}}\n  b: {final: true}\n"
		if status, body := c.call("PUT", "/api/v1/definitions/nulled", "dev-process-owner", nul); status != 422 || !strings.Contains(fmt.Sprint(body), "title") {
			t.Fatalf("a definition holding a NUL: %d %v", status, body)
		}
		if after := c.must(200, "GET", "/api/v1/processes?definition=incident", "dev-auditor", nil)["total"]; after != before {
			t.Fatalf("a refused start started something: %v processes, then %v", before, after)
		}
		// "é" typed as e and a combining accent is stored composed (NFC).
		p := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "Cafe\u0301 printer"}})
		if title := p["input"].(map[string]any)["title"]; title != "Caf\u00e9 printer" {
			t.Fatalf("stored title %q, want it in NFC", title)
		}
	})

	t.Run("ConsoleSessionsEndAndFormsNeedTheirToken", func(t *testing.T) {
		cc := signInConsole(t, cfg.httpAddr, "dev-tier1")
		if status, _ := cc.get("/queue"); status != 200 {
			t.Fatalf("signed in, the queue answers %d", status)
		}
		// A form without the session's CSRF token is refused, and does nothing.
		req, _ := http.NewRequest("POST", cc.base+"/processes/"+id+"/actions/wait_for_customer", strings.NewReader("comment=forged"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if status, _ := cc.do(req); status != 403 && status != 400 {
			t.Errorf("a form without its CSRF token: %d, want 403", status)
		}
		if status, _ := cc.post("/signout", nil); status != 303 {
			t.Fatalf("sign-out: %d", status)
		}
		if status, _ := cc.get("/queue"); status != 303 {
			t.Errorf("signed out, the queue answers %d, want a redirect to sign-in", status)
		}
		// A session past its time ends, wherever it is checked.
		cc = signInConsole(t, cfg.httpAddr, "dev-tier1")
		db, err := sqlx.Open("postgres", devDatabaseURL(t, cfg))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`UPDATE sessions SET expiry = now() - interval '1 second'`); err != nil {
			t.Fatal(err)
		}
		if status, _ := cc.get("/queue"); status != 303 {
			t.Errorf("with its session expired, the queue answers %d, want a redirect to sign-in", status)
		}
	})

	t.Run("BreakGlassNeedsARealReason", func(t *testing.T) {
		change := submitToCAB(c, "dev-requester", map[string]any{"title": "Emergency firmware"})
		status, body := c.call("POST", "/api/v1/processes/"+change+"/actions/break_glass", "dev-change-manager", map[string]any{"input": map[string]any{"reason": "   "}})
		if status != 422 || !strings.Contains(fmt.Sprint(body), "must not be blank") {
			t.Fatalf("a blank reason: %d %v", status, body)
		}
	})

	// A process whose workflow holds a NUL (started before the API refused
	// it, here straight through Temporal) is stored with U+FFFD instead of
	// failing its projection for ever, and stays quick to act on.
	t.Run("ANULInAWorkflowNeverFreezesItsRecord", func(t *testing.T) {
		var d struct {
			Version    int               `json:"version"`
			Hash       string            `json:"hash"`
			Definition engine.Definition `json:"definition"`
		}
		raw, _ := json.Marshal(c.must(200, "GET", "/api/v1/definitions/incident", "dev-auditor", nil))
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		tc, err := client.Dial(client.Options{HostPort: fmt.Sprintf("127.0.0.1:%d", cfg.temporalPort)})
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		frozen := "incident-frozen-1"
		if _, err := tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: frozen, TaskQueue: workflows.TaskQueue},
			workflows.ProcessType, workflows.Input{ID: frozen, Definition: d.Definition, Version: d.Version, Hash: d.Hash,
				Input: map[string]any{"title": "a\x00b"}, Actor: engine.Actor{ID: "rita.requester", Roles: []string{"requester"}}}); err != nil {
			t.Fatal(err)
		}
		p := c.waitFor(frozen, "projected", func(p map[string]any) bool { return p["state"] == "new" })
		if title := p["input"].(map[string]any)["title"]; title != "a\ufffdb" {
			t.Fatalf("stored title %q", title)
		}
		start := time.Now()
		c.must(200, "POST", "/api/v1/processes/"+frozen+"/actions/acknowledge", "dev-tier1", map[string]any{"comment": "still works"})
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("acting took %s: the projection is stuck", took)
		}

		// Reconcile repairs it too (from a history holding the NUL), and goes
		// on past a record it cannot read — a row whose workflow is no process.
		dbURL := devDatabaseURL(t, cfg)
		db, err := sqlx.Open("postgres", dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: "incident-stray-1", TaskQueue: "nobody-listens"}, "not-a-process"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO processes (id, definition, version, state, started_at, started_by, seq, view)
			SELECT 'incident-stray-1', definition, version, state, started_at, started_by, 0, view FROM processes WHERE id = $1`, frozen); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`UPDATE processes SET state = 'new', seq = 1, view = jsonb_set(view, '{state}', '"new"') WHERE id = $1`, frozen); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		err = run(context.Background(), []string{"reconcile"}, env(map[string]string{"DATABASE_URL": dbURL,
			"TEMPORAL_ADDRESS": fmt.Sprintf("127.0.0.1:%d", cfg.temporalPort)}), &out, io.Discard)
		if err == nil || !strings.Contains(out.String(), "incident-stray-1: cannot be reconciled") ||
			!strings.Contains(out.String(), frozen+": state new → in_progress") || !strings.Contains(out.String(), "1 failed") {
			t.Fatalf("reconcile: %v\n%s", err, out.String())
		}
		if got := c.must(200, "GET", "/api/v1/processes/"+frozen, "dev-auditor", nil); got["state"] != "in_progress" {
			t.Fatalf("not repaired: %v", got["state"])
		}
	})

	t.Run("IdempotentStarts", func(t *testing.T) {
		body := map[string]any{"input": map[string]any{"title": "Printer jam"}}
		start := func(token, key string, body any) (int, map[string]any, http.Header) {
			b, _ := json.Marshal(body)
			req, _ := http.NewRequest("POST", "http://"+cfg.httpAddr+"/api/v1/processes/incident", bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Idempotency-Key", key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]any
			raw, _ := io.ReadAll(resp.Body)
			json.Unmarshal(raw, &out)
			return resp.StatusCode, out, resp.Header
		}
		s1, first, h1 := start("dev-requester", "start-1", body)
		s2, again, h2 := start("dev-requester", "start-1", body)
		if s1 != 201 || s2 != 201 || first["id"] != again["id"] || h1.Get("Idempotent-Replayed") != "" || h2.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("a retried start: %d %v, then %d %v (replayed %q)", s1, first["id"], s2, again["id"], h2.Get("Idempotent-Replayed"))
		}
		if s, out, _ := start("dev-requester", "start-1", map[string]any{"input": map[string]any{"title": "Another printer"}}); s != 409 || !strings.Contains(fmt.Sprint(out), "Idempotency-Key") {
			t.Fatalf("the key reused for other input: %d %v", s, out)
		}
		if s, out, _ := start("dev-requester2", "start-1", body); s != 201 || out["id"] == first["id"] {
			t.Fatalf("another caller's key: %d %v", s, out["id"])
		}
	})

	// A key names one request of one caller: another caller (or action)
	// reusing it acts, instead of silently receiving the first result.
	t.Run("IdempotencyKeysAreScopedToCallerAndAction", func(t *testing.T) {
		p := "/api/v1/processes/" + id + "/actions/"
		c.must(200, "POST", p+"wait_for_customer", "dev-tier1", nil, "Idempotency-Key", "shared-1")
		again := c.must(200, "POST", p+"wait_for_customer", "dev-tier1", nil, "Idempotency-Key", "shared-1")
		if again["state"] != "pending_customer" {
			t.Fatalf("the retry: %v", again["state"])
		}
		replied := c.must(200, "POST", p+"customer_replied", "dev-requester", nil, "Idempotency-Key", "shared-1")
		if replied["state"] != "in_progress" {
			t.Fatalf("rita's reply with a key tier 1 used: state %v", replied["state"])
		}
	})

	// A delegate who is also an approver casts one vote per change, not
	// their own and the delegator's.
	t.Run("OnePersonOneVote", func(t *testing.T) {
		change := submitToCAB(c, "dev-requester", map[string]any{"title": "Core router"})
		meeting := openCABMeeting(c, change)
		c.must(201, "POST", "/api/v1/delegations", "dev-change-manager", map[string]any{
			"to": "cara.cab", "ends_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "reason": "on leave"})
		c.must(200, "POST", "/api/v1/processes/"+meeting+"/approvals/meeting", "dev-cab1", map[string]any{"decision": "approve", "item": change, "on_behalf_of": "carl.change"})
		status, body := voteAtCAB(c, meeting, "dev-cab1", "approve", change, nil)
		if status != 409 || !strings.Contains(fmt.Sprint(body), "one person, one vote") {
			t.Fatalf("cara's own vote after she voted for carl: %d %v", status, body)
		}
		m := c.must(200, "GET", "/api/v1/processes/"+meeting, "dev-auditor", nil)
		votes := 0
		for _, v := range m["approval"].(map[string]any)["votes"].([]any) {
			if v.(map[string]any)["item"] == change {
				votes++
			}
		}
		if votes != 1 {
			t.Fatalf("%d votes on %s, want 1", votes, change)
		}
		inbox := c.must(200, "GET", "/api/v1/approvals", "dev-cab1", nil)["approvals"].([]any)
		if slices.ContainsFunc(inbox, func(a any) bool { it, _ := a.(map[string]any)["item"].(map[string]any); return it["id"] == change }) {
			t.Fatalf("the inbox still offers cara a vote on %s: %v", change, inbox)
		}
	})
}
