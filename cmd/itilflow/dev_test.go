package main

// Integration tests: they run the real `itilflow dev` — embedded Temporal on a
// SQLite file, a private PostgreSQL from the system's binaries, worker and API —
// and drive it over HTTP. They are the only tests that link the Temporal server
// besides temporalserver's own, so the server is linked into few test binaries.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"go.temporal.io/sdk/client"

	"github.com/itilflow/itilflow/pgcluster"
)

// quickDefinition breaches its response SLA two seconds after start.
const quickDefinition = `name: quick
title: Quick check
input:
  title: {type: string, required: true}
initial: new
states:
  new:
    actions:
      acknowledge: {to: done, roles: [service-desk]}
  done: {final: true}
slas:
  response:
    target: 2s
    stop_on_leave: [new]
escalations:
  - on: {sla: response, at: 100%}
    do: [{notify: {role: incident-manager}}, {set: {escalated: true}}]
`

// freePort returns a port nothing listens on, below Linux's ephemeral range
// (32768–60999): a port the kernel handed out for ":0" can be handed out again
// as the local port of an outgoing connection before dev binds it, and a
// restarted dev must bind the same ports again.
func freePort(t testing.TB) int {
	t.Helper()
	for range 200 {
		port := 20000 + rand.IntN(12000)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no free port below 32000")
	return 0
}

// devDataDir returns a data directory that PostgreSQL's own user can reach.
func devDataDir(t testing.TB) string {
	t.Helper()
	if _, err := pgcluster.FindBinaries(); err != nil {
		t.Skipf("no PostgreSQL binaries: %v", err)
	}
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	return filepath.Join(dir, "data")
}

// devDatabaseURL is the URL of the PostgreSQL cluster a running dev started,
// as its owner: what someone with database access can do, tests can.
func devDatabaseURL(t testing.TB, cfg devConfig) string {
	t.Helper()
	port, err := os.ReadFile(filepath.Join(cfg.dataDir, "pg", "port"))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%s/itilflow?sslmode=disable", strings.TrimSpace(string(port)))
}

type devConfig struct {
	dataDir      string
	httpAddr     string
	temporalPort int
	uiPort       int
	// extra flags for the dev command
	extra []string
}

func newDevConfig(t testing.TB) devConfig {
	return devConfig{dataDir: devDataDir(t), httpAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), temporalPort: freePort(t), uiPort: freePort(t)}
}

func (c devConfig) args() []string {
	return append([]string{"dev", "--data-dir", c.dataDir, "--http-addr", c.httpAddr,
		"--temporal-port", fmt.Sprint(c.temporalPort), "--ui-port", fmt.Sprint(c.uiPort), "--definitions", "../../definitions", "--log-level", "warn"}, c.extra...)
}

// startInProcess runs `itilflow dev` in this process and returns a function that
// stops it cleanly (as SIGINT would) and waits for it.
func startInProcess(t testing.TB, cfg devConfig) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return ""
		}
		return os.Getenv(k)
	}
	go func() { done <- run(ctx, cfg.args(), getenv, io.Discard, testWriter{t}) }()
	waitHealthy(t, cfg.httpAddr, done)
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("dev exited with %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("dev did not stop within 60s")
		}
	}
	t.Cleanup(stop)
	return stop
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func waitHealthy(t testing.TB, addr string, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("dev exited before it was healthy: %v", err)
		default:
		}
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("dev not healthy within 2 minutes")
}

// apiClient calls the API of a running dev and holds every exchange to
// api/openapi.yaml (contract_test.go): a request a test sends outside it, or
// an answer outside it, fails the test.
type apiClient struct {
	t    testing.TB
	base string
	// malformed requests are outside the contract on purpose (bad JSON,
	// unknown fields, NUL bytes, parameters out of range): only their
	// answers are checked.
	malformed bool
	// foreign is a server other than itilflow's API (the Temporal UI), which
	// the document does not describe.
	foreign bool
}

// outsideContract is c for requests a test sends outside the contract on
// purpose, to check how they are refused.
func (c apiClient) outsideContract() apiClient {
	c.malformed = true
	return c
}

// call sends a request with the token and returns the status and decoded body.
func (c apiClient) call(method, path, token string, body any, header ...string) (int, map[string]any) {
	c.t.Helper()
	status, _, raw := c.do(method, path, token, body, header...)
	var out map[string]any
	if len(raw) > 0 && json.Unmarshal(raw, &out) != nil {
		c.t.Fatalf("%s %s: not JSON: %s", method, path, raw)
	}
	return status, out
}

// do sends a request and returns the answer's status, headers and body. A
// body is JSON unless it is a string, which is sent as it is; without a
// Content-Type header, it is sent as the type the document gives it.
func (c apiClient) do(method, path, token string, body any, header ...string) (int, http.Header, []byte) {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		raw, _ = json.Marshal(b)
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, "http://"+c.base+path, r)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	var k *contractChecker
	var x exchange
	if !c.foreign {
		if k, err = contract(); err != nil {
			c.t.Fatalf("%s: %v", contractFile, err)
		}
		x = k.route(req)
		if body != nil && req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", x.contentType())
		}
		if !c.malformed {
			if err := k.checkRequest(x, raw); err != nil {
				c.t.Errorf("%s %s: the request is outside %s (if on purpose, send it with outsideContract()): %s", method, path, contractFile, contractError(err))
			}
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	if k != nil {
		if err := k.checkResponse(x, resp.StatusCode, resp.Header, out); err != nil {
			c.t.Errorf("%s %s: the answer (%d) is outside %s: %s\nanswer: %.1000s", method, path, resp.StatusCode, contractFile, contractError(err), out)
		}
	}
	return resp.StatusCode, resp.Header, out
}

func (c apiClient) must(status int, method, path, token string, body any, header ...string) map[string]any {
	c.t.Helper()
	got, out := c.call(method, path, token, body, header...)
	if got != status {
		c.t.Fatalf("%s %s: status %d, want %d: %v", method, path, got, status, out)
	}
	return out
}

// waitFor polls the process until cond holds.
func (c apiClient) waitFor(id, what string, cond func(p map[string]any) bool) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, p := c.call("GET", "/api/v1/processes/"+id, "dev-auditor", nil)
		if cond(p) {
			return p
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: not %s within 60s: %v", id, what, p)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// getText GETs a plain-text resource as the auditor.
func getText(t *testing.T, addr, path string) string {
	t.Helper()
	status, _, b := apiClient{t: t, base: addr}.do("GET", path, "dev-auditor", nil)
	if status != 200 {
		t.Fatalf("GET %s: %d %s", path, status, b)
	}
	return string(b)
}

func breached(sla string) func(map[string]any) bool {
	return func(p map[string]any) bool {
		slas, _ := p["slas"].([]any)
		for _, s := range slas {
			m := s.(map[string]any)
			if m["name"] == sla && m["breached"] == true {
				return true
			}
		}
		return false
	}
}

// eventCount counts the process's events of a type, or all of them for "".
func eventCount(p map[string]any, typ string) int {
	n := 0
	events, _ := p["events"].([]any)
	for _, e := range events {
		if typ == "" || e.(map[string]any)["type"] == typ {
			n++
		}
	}
	return n
}

func TestDevRunsIncidentThroughBreachRestartAndClosure(t *testing.T) {
	cfg := newDevConfig(t)
	stop := startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}

	c.must(201, "PUT", "/api/v1/definitions/quick", "dev-process-owner", quickDefinition)
	// Business calendars from definitions/calendars.yaml are known to the API and
	// copied into the published version.
	onSite := strings.Replace(strings.Replace(quickDefinition, "name: quick", "name: onsite", 1), "title: Quick check", "title: On site\ncalendar: 5x8", 1)
	c.must(201, "PUT", "/api/v1/definitions/onsite", "dev-process-owner", onSite)
	if d := c.must(200, "GET", "/api/v1/definitions/onsite", "dev-auditor", nil); d["definition"].(map[string]any)["calendar_spec"].(map[string]any)["timezone"] != "Asia/Shanghai" {
		t.Fatalf("calendar not in the snapshot: %v", d["definition"])
	}
	// Versions, a diff between two of them, and the picture.
	c.must(201, "PUT", "/api/v1/definitions/quick", "dev-process-owner", strings.Replace(quickDefinition, "target: 2s", "target: 3s", 1))
	if vs := c.must(200, "GET", "/api/v1/definitions/quick/versions", "dev-auditor", nil)["items"].([]any); len(vs) != 2 {
		t.Fatalf("versions %v", vs)
	}
	diff := getText(t, cfg.httpAddr, "/api/v1/definitions/quick/diff?from=1&to=2")
	if !strings.Contains(diff, "-    target: 2s\n+    target: 3s\n") || !strings.Contains(diff, "--- quick v1") {
		t.Fatalf("diff:\n%s", diff)
	}
	c.must(201, "PUT", "/api/v1/definitions/quick", "dev-process-owner", quickDefinition) // back to 2s, as version 3
	if g := getText(t, cfg.httpAddr, "/api/v1/definitions/incident/graph"); !strings.Contains(g, "resolved --> closed : after 1w  close (timer)") {
		t.Fatalf("graph:\n%s", g)
	}
	if g := getText(t, cfg.httpAddr, "/api/v1/definitions/incident/graph?format=dot"); !strings.HasPrefix(g, `digraph "incident" {`) {
		t.Fatalf("dot:\n%s", g)
	}
	if sch := c.must(200, "GET", "/api/v1/schema/process.json", "", nil); sch["$defs"] == nil {
		t.Fatalf("schema %v", sch)
	}
	q := c.must(201, "POST", "/api/v1/processes/quick", "dev-requester", map[string]any{"input": map[string]any{"title": "breach me"}})
	inc := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "core switch down", "priority": "P1"}})
	quickID, incID := q["id"].(string), inc["id"].(string)
	if !strings.HasPrefix(incID, "incident-") || inc["state"] != "new" || len(inc["slas"].([]any)) != 3 {
		t.Fatalf("started incident %v", inc)
	}
	c.must(200, "POST", "/api/v1/processes/"+incID+"/actions/acknowledge", "dev-tier1", nil)

	// Restart the whole stack, worker included, before the quick SLA falls due.
	stop()
	startInProcess(t, cfg)

	p := c.waitFor(quickID, "breached", breached("response"))
	if eventCount(p, "escalation") != 1 || eventCount(p, "notification") != 1 {
		t.Fatalf("breach not escalated once: %v", p["events"])
	}
	_, notes := c.call("GET", "/api/v1/notifications", "dev-incident-manager", nil)
	if items, _ := notes["items"].([]any); len(items) == 0 {
		t.Fatal("incident manager has no notification")
	}

	c.must(200, "POST", "/api/v1/processes/"+incID+"/actions/resolve", "dev-tier1",
		map[string]any{"input": map[string]any{"resolution": "replaced line card"}, "comment": "fixed"})
	c.must(200, "POST", "/api/v1/processes/"+incID+"/actions/waive_knowledge", "dev-service-desk",
		map[string]any{"input": map[string]any{"knowledge_waiver": "a line card swap needs no article"}})
	closed := c.must(200, "POST", "/api/v1/processes/"+incID+"/actions/close", "dev-service-desk",
		map[string]any{"input": map[string]any{"satisfaction": "5"}})
	if closed["state"] != "closed" {
		t.Fatalf("close returned %v", closed)
	}
	got := c.waitFor(incID, "closed", func(p map[string]any) bool { return p["state"] == "closed" && p["ended_at"] != nil })
	if eventCount(got, "action") != 4 || eventCount(got, "process_ended") != 1 {
		t.Fatalf("events %v", got["events"])
	}
	list := c.must(200, "GET", "/api/v1/processes?definition=incident&state=closed", "dev-auditor", nil)
	ui := apiClient{t: t, base: fmt.Sprintf("127.0.0.1:%d", cfg.uiPort), foreign: true}
	if ns := ui.must(200, "GET", "/api/v1/namespaces/default", "", nil); ns["namespaceInfo"] == nil {
		t.Fatalf("Temporal UI does not reach the embedded server: %v", ns)
	}
	if list["total"].(float64) != 1 {
		t.Fatalf("list %v", list)
	}
	c.must(409, "POST", "/api/v1/processes/"+incID+"/actions/reopen", "dev-requester", map[string]any{"input": map[string]any{"reason": "again"}})

	// Auditors export the history and replay it against the running code.
	h := c.must(200, "GET", "/api/v1/processes/"+incID+"/history", "dev-auditor", nil)
	if events, _ := h["events"].([]any); len(events) < 20 {
		t.Fatalf("history has %d events", len(events))
	}
	tl := c.must(200, "GET", "/api/v1/processes/"+incID+"/timeline", "dev-auditor", nil)
	entries := tl["entries"].([]any)
	if tl["definition"] != "incident" || !strings.HasPrefix(tl["definition_hash"].(string), "sha256:") || len(entries) != eventCount(got, "") {
		t.Fatalf("timeline %v (events %d)", tl, len(entries))
	}
	// As of the acknowledgement, the incident was in progress with the response SLA stopped.
	for _, e := range entries {
		if m := e.(map[string]any); m["action"] == "acknowledge" {
			past := c.must(200, "GET", "/api/v1/processes/"+incID+"?as_of="+m["at"].(string), "dev-tier1", nil)["process"].(map[string]any)
			if past["state"] != "in_progress" || past["slas"].([]any)[0].(map[string]any)["status"] != "stopped" {
				t.Fatalf("as_of acknowledgement: %v", past)
			}
		}
	}
	rep := c.must(200, "POST", "/api/v1/processes/"+incID+"/replay", "dev-auditor", nil)
	if rep["deterministic"] != true {
		t.Fatalf("replay: %v", rep)
	}
	// Every change made through the API is in the audit chain, which verifies.
	v := c.must(200, "GET", "/api/v1/audit/verify", "dev-auditor", nil)
	if v["ok"] != true || v["records"].(float64) < 7 {
		t.Fatalf("audit verify: %v", v)
	}
	recs := c.must(200, "GET", "/api/v1/audit?actor=tom.tier1", "dev-auditor", nil)
	if items := recs["items"].([]any); len(items) != 2 || items[0].(map[string]any)["action"] != "action:acknowledge" || items[0].(map[string]any)["request_id"] == "" {
		t.Fatalf("tier 1's audit records: %v", recs)
	}
	req, _ := http.NewRequest("GET", "http://"+cfg.httpAddr+"/api/v1/audit?format=csv", nil)
	req.Header.Set("Authorization", "Bearer dev-auditor")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csvBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(csvBody), "seq,at,actor,action,request_id,target,payload_digest,prev_hash,hash,link,key_id,source\n1,") {
		t.Fatalf("csv export: %s", csvBody)
	}

	// A process owner checks a stricter resolution target against the past.
	proposal := filepath.Join(t.TempDir(), "incident.yaml")
	src, _ := os.ReadFile("../../definitions/incident.yaml")
	os.WriteFile(proposal, []byte(strings.Replace(string(src), "targets: {P1: 2h, P2: 4h, P3: 1d, P4: 3d}", "targets: {P1: 1s, P2: 1s, P3: 1s, P4: 1s}", 1)), 0o644)
	var wi bytes.Buffer
	if err := run(context.Background(), []string{"whatif", "--definition", proposal, "--since", "2020-01-01",
		"--temporal-address", fmt.Sprintf("127.0.0.1:%d", cfg.temporalPort)}, func(string) string { return "" }, &wi, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(wi.String(), incID+": [breached [] → [resolution]") || !strings.Contains(wi.String(), "SLA breaches 0 → 1") {
		t.Fatalf("whatif:\n%s", wi.String())
	}

	var out bytes.Buffer
	err = run(context.Background(), []string{"replay", "--temporal-address", fmt.Sprintf("127.0.0.1:%d", cfg.temporalPort),
		"--definition", "incident", "--since", "2020-01-01"}, func(string) string { return "" }, &out, io.Discard)
	if err != nil || !strings.Contains(out.String(), incID+": deterministic") {
		t.Fatalf("replay --definition: %v\n%s", err, out.String())
	}
}

// TestDevErrorsAreNeverInternal sends every kind of bad request and requires the
// documented 4xx, with the error shape of the API conventions.
func TestDevErrorsAreNeverInternal(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	inc := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "printer"}})
	id := inc["id"].(string)
	act := "/api/v1/processes/" + id + "/actions/"
	long := strings.Repeat("x", 201)
	// The requests the document refuses, sent to see how the server does:
	// only their answers are held to it.
	outsideContract := map[string]bool{"UnknownRoute": true, "MalformedJSON": true, "UnknownBodyField": true, "BadLimit": true,
		"PublishInvalidYAML": true, "GraphBadFormat": true, "DiffWithoutFrom": true, "ValidateTooLarge": true, "BadVersion": true,
		"AuditBadFormat": true, "AuditBadFrom": true, "AsOfMalformed": true}
	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		status                    int
		mention                   string
	}{
		{"NoToken", "GET", "/api/v1/processes", "", nil, 401, "bearer"},
		{"BadToken", "GET", "/api/v1/processes", "nope", nil, 401, "token"},
		{"UnknownRoute", "GET", "/api/v1/nothing", "dev-auditor", nil, 404, ""},
		{"UnknownDefinition", "POST", "/api/v1/processes/nosuch", "dev-requester", map[string]any{"input": map[string]any{}}, 404, "nosuch"},
		{"MalformedJSON", "POST", "/api/v1/processes/incident", "dev-requester", `{"input": {`, 400, "malformed"},
		{"UnknownBodyField", "POST", "/api/v1/processes/incident", "dev-requester", `{"inptu": {}}`, 400, "inptu"},
		{"MissingRequiredInput", "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{}}, 422, "input.title"},
		{"BadEnum", "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "x", "priority": "P7"}}, 422, "input.priority"},
		{"TooLong", "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": long}}, 422, "input.title"},
		{"WrongType", "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": 5}}, 422, "input.title"},
		{"MissingRole", "POST", act + "acknowledge", "dev-requester", nil, 403, "service-desk"},
		{"WrongState", "POST", act + "resolve", "dev-tier1", map[string]any{"input": map[string]any{"resolution": "x"}}, 409, "acknowledge"},
		{"UnknownAction", "POST", act + "explode", "dev-tier1", nil, 404, "explode"},
		{"UnknownProcess", "POST", "/api/v1/processes/incident-999999/actions/acknowledge", "dev-tier1", nil, 404, ""},
		{"GetUnknownProcess", "GET", "/api/v1/processes/incident-999999", "dev-tier1", nil, 404, ""},
		{"BadLimit", "GET", "/api/v1/processes?limit=abc", "dev-auditor", nil, 400, "limit"},
		{"PublishWithoutRole", "PUT", "/api/v1/definitions/quick", "dev-requester", quickDefinition, 403, "process-owner"},
		{"PublishInvalidYAML", "PUT", "/api/v1/definitions/quick", "dev-process-owner", "name: quick\nstates: [\n", 422, "line"},
		{"PublishBadDefinition", "PUT", "/api/v1/definitions/quick", "dev-process-owner", strings.Replace(quickDefinition, "to: done", "to: gone", 1), 422, `"line":9`},
		{"GraphBadFormat", "GET", "/api/v1/definitions/incident/graph?format=png", "dev-auditor", nil, 400, "format"},
		{"DiffWithoutFrom", "GET", "/api/v1/definitions/incident/diff", "dev-auditor", nil, 400, "from"},
		{"VersionsOfUnknown", "GET", "/api/v1/definitions/nosuch/versions", "dev-auditor", nil, 404, "nosuch"},
		{"PublishUnknownCalendar", "PUT", "/api/v1/definitions/quick", "dev-process-owner", strings.Replace(quickDefinition, "title: Quick check", "title: Quick check\ncalendar: 5x9", 1), 422, "defined: 24x7, 5x8"},
		{"PublishNameMismatch", "PUT", "/api/v1/definitions/other", "dev-process-owner", quickDefinition, 422, "name"},
		{"ValidateBad", "POST", "/api/v1/definitions/validate", "dev-process-owner", "name: x\n", 422, "initial"},
		{"ValidateWithoutRole", "POST", "/api/v1/definitions/validate", "dev-requester", "name: x\n", 403, "process-owner"},
		{"ValidateTooLarge", "POST", "/api/v1/definitions/validate", "dev-process-owner", "# " + strings.Repeat("x", 300<<10) + "\n", 413, "256 KiB"},
		{"BadVersion", "GET", "/api/v1/definitions/incident?version=zero", "dev-auditor", nil, 400, "version"},
		{"MissingVersion", "GET", "/api/v1/definitions/incident?version=99", "dev-auditor", nil, 404, "99"},
		{"HistoryWithoutRole", "GET", "/api/v1/processes/" + id + "/history", "dev-requester", nil, 403, "auditor"},
		{"HistoryOfUnknownProcess", "GET", "/api/v1/processes/incident-999999/history", "dev-auditor", nil, 404, ""},
		{"ReplayWithoutRole", "POST", "/api/v1/processes/" + id + "/replay", "dev-tier1", nil, 403, "auditor"},
		{"AuditWithoutRole", "GET", "/api/v1/audit", "dev-process-owner", nil, 403, "auditor"},
		{"AuditVerifyWithoutRole", "GET", "/api/v1/audit/verify", "dev-requester", nil, 403, "auditor"},
		{"AuditBadFormat", "GET", "/api/v1/audit?format=xml", "dev-auditor", nil, 400, "format"},
		{"AuditBadFrom", "GET", "/api/v1/audit?from=yesterday", "dev-auditor", nil, 400, "from"},
		{"AsOfMalformed", "GET", "/api/v1/processes/" + id + "?as_of=noon", "dev-tier1", nil, 400, "as_of"},
		{"AsOfBeforeStart", "GET", "/api/v1/processes/" + id + "?as_of=2001-01-01T00:00:00Z", "dev-tier1", nil, 404, "did not exist yet"},
		{"TimelineOfAnothersProcess", "GET", "/api/v1/processes/" + id + "/timeline", "dev-requester2", nil, 404, "no process"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := apiClient{t: t, base: cfg.httpAddr}
			if outsideContract[tc.name] {
				c = c.outsideContract()
			}
			status, body := c.call(tc.method, tc.path, tc.token, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			e, _ := body["error"].(map[string]any)
			if e == nil || e["code"] == "" || e["message"] == "" {
				t.Fatalf("no error object: %v", body)
			}
			if b, _ := json.Marshal(e); !strings.Contains(strings.ToLower(string(b)), strings.ToLower(tc.mention)) {
				t.Fatalf("error does not mention %q: %s", tc.mention, b)
			}
		})
	}
	t.Run("IdempotencyKeyActsOnce", func(t *testing.T) {
		first := c.must(200, "POST", act+"acknowledge", "dev-tier1", nil, "Idempotency-Key", "ack-1")
		again := c.must(200, "POST", act+"acknowledge", "dev-tier1", nil, "Idempotency-Key", "ack-1")
		if first["seq"] != again["seq"] {
			t.Fatalf("second call acted again: seq %v then %v", first["seq"], again["seq"])
		}
		p := c.must(200, "GET", "/api/v1/processes/"+id, "dev-tier1", nil)
		if eventCount(p, "action") != 1 {
			t.Fatalf("acknowledged %d times", eventCount(p, "action"))
		}
	})
}

// TestDevSurvivesSIGKILL kills the real binary before a deadline and starts it
// again: the timer that came due while it was down fires, and the breach is
// recorded at its true time.
func TestDevSurvivesSIGKILL(t *testing.T) {
	cfg := newDevConfig(t)
	bin := filepath.Join(t.TempDir(), "itilflow")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// start runs the binary; exited delivers its one Wait (a second concurrent Wait
	// would race the first for the output pipes and can block for ever).
	start := func() (cmd *exec.Cmd, exited <-chan error) {
		cmd = exec.Command(bin, cfg.args()...)
		cmd.Env = append(os.Environ(), "DATABASE_URL=")
		cmd.Stdout, cmd.Stderr = io.Discard, testWriter{t}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		waitHealthy(t, cfg.httpAddr, done)
		return cmd, done
	}
	cmd, exited := start()
	c := apiClient{t: t, base: cfg.httpAddr}
	c.must(201, "PUT", "/api/v1/definitions/quick", "dev-process-owner", quickDefinition)
	q := c.must(201, "POST", "/api/v1/processes/quick", "dev-requester", map[string]any{"input": map[string]any{"title": "crash"}})
	due := q["slas"].([]any)[0].(map[string]any)["due"].(string)

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the killed process's output did not close within 30s: a child outlived it")
	}
	time.Sleep(3 * time.Second) // the deadline passes while nothing runs

	cmd, exited = start()
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		<-exited
	}()
	p := c.waitFor(q["id"].(string), "breached", breached("response"))
	sla := p["slas"].([]any)[0].(map[string]any)
	if sla["breached_at"] != due {
		t.Fatalf("breach recorded at %v, want the due time %v", sla["breached_at"], due)
	}
	if eventCount(p, "escalation") != 1 {
		t.Fatalf("escalations %v", p["events"])
	}
}

// TestReconcileRepairsDrift damages the projection of running processes behind
// the workflow's back and checks that reconcile reports and repairs it.
func TestReconcileRepairsDrift(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	a := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "a"}})
	b := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "b"}})
	c.must(200, "POST", "/api/v1/processes/"+a["id"].(string)+"/actions/acknowledge", "dev-tier1", nil)

	dbURL := devDatabaseURL(t, cfg)
	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A restored backup: a's acknowledgement is lost from the projection.
	if _, err := db.Exec(`UPDATE processes SET state = 'new', seq = 3,
		view = jsonb_set(jsonb_set(view, '{state}', '"new"'), '{seq}', '3') WHERE id = $1`, a["id"]); err != nil {
		t.Fatal(err)
	}
	vars := env(map[string]string{"DATABASE_URL": dbURL, "TEMPORAL_ADDRESS": fmt.Sprintf("127.0.0.1:%d", cfg.temporalPort)})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"reconcile", "--dry-run"}, vars, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), a["id"].(string)+": state new → in_progress") || strings.Contains(out.String(), b["id"].(string)) {
		t.Fatalf("dry run:\n%s", out.String())
	}
	if got := c.must(200, "GET", "/api/v1/processes/"+a["id"].(string), "dev-auditor", nil); got["state"] != "new" {
		t.Fatal("dry run repaired")
	}
	out.Reset()
	if err := run(context.Background(), []string{"reconcile"}, vars, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1 repaired") {
		t.Fatalf("reconcile:\n%s", out.String())
	}
	if got := c.must(200, "GET", "/api/v1/processes/"+a["id"].(string), "dev-auditor", nil); got["state"] != "in_progress" {
		t.Fatalf("not repaired: %v", got["state"])
	}
	out.Reset()
	run(context.Background(), []string{"reconcile"}, vars, &out, io.Discard)
	if !strings.Contains(out.String(), "0 repaired") {
		t.Fatalf("second reconcile found drift again:\n%s", out.String())
	}

	// A terminated workflow runs no code: reconcile ends its process.
	tc, err := dialTemporal(context.Background(), client.Options{HostPort: fmt.Sprintf("127.0.0.1:%d", cfg.temporalPort)})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if err := tc.TerminateWorkflow(context.Background(), b["id"].(string), "", "operator"); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"reconcile"}, vars, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), b["id"].(string)+": state new → new") || !strings.Contains(out.String(), "workflow terminated at") {
		t.Fatalf("reconcile after terminate:\n%s", out.String())
	}
	if got := c.must(200, "GET", "/api/v1/processes/"+b["id"].(string), "dev-auditor", nil); got["ended_at"] == nil {
		t.Fatalf("terminated process still open: %v", got)
	}
}
