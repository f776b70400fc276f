package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/apiclient"
)

// contractDoer sends the typed client's requests and holds every exchange to
// the document, as apiClient does: the generated client and the server can
// then only agree by both following it.
type contractDoer struct{ t testing.TB }

func (d contractDoer) Do(req *http.Request) (*http.Response, error) {
	k, err := contract()
	if err != nil {
		d.t.Fatalf("%s: %v", contractFile, err)
	}
	var body []byte
	if req.Body != nil {
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	x := k.route(req)
	if err := k.checkRequest(x, body); err != nil {
		d.t.Errorf("%s %s: the typed client sent a request outside %s: %s", req.Method, req.URL.Path, contractFile, contractError(err))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	if err := k.checkResponse(x, resp.StatusCode, resp.Header, raw); err != nil {
		d.t.Errorf("%s %s: the answer (%d) is outside %s: %s\nanswer: %.1000s", req.Method, req.URL.Path, resp.StatusCode, contractFile, contractError(err), raw)
	}
	return resp, nil
}

// typedClient is the generated client for addr, acting with token.
func typedClient(t testing.TB, addr, token string) *apiclient.ClientWithResponses {
	t.Helper()
	c, err := apiclient.NewClientWithResponses("http://"+addr, apiclient.WithHTTPClient(contractDoer{t}), apiclient.WithRequestEditorFn(bearer(token)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTypedClient drives the real stack through the client generated from the
// OpenAPI document: an incident's life, a CAB vote and `itilflow load`.
func TestTypedClient(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	ctx := context.Background()

	t.Run("IncidentLifecycle", func(t *testing.T) {
		requester, tier1 := typedClient(t, cfg.httpAddr, "dev-requester"), typedClient(t, cfg.httpAddr, "dev-tier1")
		input := map[string]any{"title": "Mail server down", "priority": "P1", "service": "mail"}
		started, err := requester.StartProcessWithResponse(ctx, "incident", nil, apiclient.StartRequest{Input: &input})
		if err != nil || started.JSON201 == nil {
			t.Fatalf("start: %v %d %s", err, started.StatusCode(), started.Body)
		}
		p := started.JSON201
		if p.State != "new" || len(p.Slas) != 3 || started.HTTPResponse.Header.Get("Location") != "/api/v1/processes/"+p.Id {
			t.Fatalf("started %+v, Location %q", p, started.HTTPResponse.Header.Get("Location"))
		}
		refused, err := requester.TakeActionWithResponse(ctx, p.Id, "acknowledge", nil, apiclient.ActionRequest{})
		if err != nil || refused.JSON403 == nil || refused.JSON403.Error.Code != apiclient.ErrorCodeForbidden {
			t.Fatalf("the requester acknowledging: %v %d %s", err, refused.StatusCode(), refused.Body)
		}
		key := "ack-" + p.Id
		for _, step := range []struct {
			who         *apiclient.ClientWithResponses
			action, to  string
			input       map[string]any
			comment     string
			idempotency *string
		}{
			{tier1, "acknowledge", "in_progress", nil, "", &key},
			{tier1, "acknowledge", "in_progress", nil, "", &key}, // a retry acts once
			{tier1, "wait_for_customer", "pending_customer", nil, "", nil},
			{requester, "customer_replied", "in_progress", nil, "", nil},
			{tier1, "resolve", "resolved", map[string]any{"resolution": "Replaced the failed disk"}, "RAID rebuilt", nil},
			{typedClient(t, cfg.httpAddr, "dev-service-desk"), "waive_knowledge", "resolved", map[string]any{"knowledge_waiver": "A disk swap needs no article"}, "", nil},
			{typedClient(t, cfg.httpAddr, "dev-service-desk"), "close", "closed", map[string]any{"satisfaction": "5"}, "", nil},
		} {
			body := apiclient.ActionRequest{}
			if step.input != nil {
				body.Input = &step.input
			}
			if step.comment != "" {
				body.Comment = &step.comment
			}
			resp, err := step.who.TakeActionWithResponse(ctx, p.Id, step.action, &apiclient.TakeActionParams{IdempotencyKey: step.idempotency}, body)
			if err != nil || resp.JSON200 == nil || resp.JSON200.State != step.to {
				t.Fatalf("%s: %v %d %s", step.action, err, resp.StatusCode(), resp.Body)
			}
		}
		read, err := typedClient(t, cfg.httpAddr, "dev-auditor").GetProcessWithResponse(ctx, p.Id, nil)
		if err != nil || read.JSON200 == nil {
			t.Fatalf("read: %v %s", err, read.Body)
		}
		closed, err := read.JSON200.AsProcess()
		if err != nil || closed.EndedAt == nil || closed.Events == nil || eventsOfType(*closed.Events, "action") != 6 { // the waiver is one
			t.Fatalf("the closed incident: %+v (%v)", closed, err)
		}
	})

	t.Run("CABVote", func(t *testing.T) {
		requester, manager, cab1 := typedClient(t, cfg.httpAddr, "dev-requester"), typedClient(t, cfg.httpAddr, "dev-change-manager"), typedClient(t, cfg.httpAddr, "dev-cab1")
		act := func(c *apiclient.ClientWithResponses, id, action string, input map[string]any) apiclient.Process {
			t.Helper()
			body := apiclient.ActionRequest{}
			if input != nil {
				body.Input = &input
			}
			resp, err := c.TakeActionWithResponse(ctx, id, action, nil, body)
			if err != nil || resp.JSON200 == nil {
				t.Fatalf("%s %s: %v %d %s", action, id, err, resp.StatusCode(), resp.Body)
			}
			return *resp.JSON200
		}
		start := func(c *apiclient.ClientWithResponses, definition string, input map[string]any) string {
			t.Helper()
			resp, err := c.StartProcessWithResponse(ctx, definition, nil, apiclient.StartRequest{Input: &input})
			if err != nil || resp.JSON201 == nil {
				t.Fatalf("start %s: %v %d %s", definition, err, resp.StatusCode(), resp.Body)
			}
			return resp.JSON201.Id
		}
		change := start(requester, "change-normal", map[string]any{"title": "Upgrade core switch firmware", "change_type": "network"})
		act(manager, change, "accept", nil)
		if p := act(manager, change, "submit_to_cab", map[string]any{"impact": "10 min outage", "risk": "medium",
			"implementation_plan": "stage, then flip", "backout_plan": "flip back"}); p.State != "authorising" || p.Approval == nil || p.Approval.Board == nil {
			t.Fatalf("submitted: %+v", p)
		}
		meeting := start(manager, "cab-review", map[string]any{"title": "Weekly CAB", "meeting_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		act(manager, meeting, "publish_agenda", map[string]any{"agenda": "1. Core switch firmware"})
		auditor := typedClient(t, cfg.httpAddr, "dev-auditor")
		for deadline := time.Now().Add(cabWait); ; time.Sleep(200 * time.Millisecond) {
			read, err := auditor.GetProcessWithResponse(ctx, meeting, nil)
			if err != nil || read.JSON200 == nil {
				t.Fatalf("read %s: %v", meeting, err)
			}
			p, _ := read.JSON200.AsProcess()
			if p.Vars != nil && strings.Contains(strings.Join(anyStrings((*p.Vars)["changes"]), ","), change) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s's agenda did not collect %s within %s: %v", meeting, change, cabWait, p.Vars)
			}
		}
		act(manager, meeting, "open_meeting", nil)

		inbox, err := cab1.ListApprovalsWithResponse(ctx, nil)
		if err != nil || inbox.JSON200 == nil {
			t.Fatalf("inbox: %v %s", err, inbox.Body)
		}
		found := false
		for _, a := range inbox.JSON200.Approvals {
			found = found || a.Id == meeting && a.Item != nil && a.Item.Id == change
		}
		if !found {
			t.Fatalf("cara's inbox lacks %s at %s: %s", change, meeting, inbox.Body)
		}
		comment := "tested in the lab"
		voted, err := cab1.VoteWithResponse(ctx, meeting, "meeting", nil, apiclient.VoteRequest{Decision: apiclient.VoteRequestDecisionApprove, Item: &change, Comment: &comment})
		if err != nil || voted.JSON200 == nil {
			t.Fatalf("vote: %v %d %s", err, voted.StatusCode(), voted.Body)
		}
		if v := voted.JSON200; v.Outcome != apiclient.VoteResultOutcomePending || v.Tally.Approve != 1 || v.Item == nil || *v.Item != change {
			t.Fatalf("vote result %+v", v)
		}
		// A requester sees her change, not the meeting that decides it.
		hidden, err := requester.VoteWithResponse(ctx, meeting, "meeting", nil, apiclient.VoteRequest{Decision: apiclient.VoteRequestDecisionApprove, Item: &change})
		if err != nil || hidden.JSON404 == nil {
			t.Fatalf("the requester's vote: %v %d %s", err, hidden.StatusCode(), hidden.Body)
		}
	})

	// README.md, "Go client", line for line (but the errors checked).
	t.Run("ReadmeExample", func(t *testing.T) {
		auth := func(token string) apiclient.RequestEditorFn {
			return func(_ context.Context, r *http.Request) error {
				r.Header.Set("Authorization", "Bearer "+token)
				return nil
			}
		}
		c, err := apiclient.NewClientWithResponses("http://"+cfg.httpAddr, apiclient.WithHTTPClient(contractDoer{t}))
		if err != nil {
			t.Fatal(err)
		}
		in := map[string]any{"title": "Patch the VPN gateway", "change_type": "software"}
		started, err := c.StartProcessWithResponse(ctx, "change-emergency", nil, apiclient.StartRequest{Input: &in}, auth("dev-requester"))
		if err != nil || started.JSON201 == nil {
			t.Fatalf("start: %v %s", err, started.Body)
		}
		id := started.JSON201.Id
		plan := map[string]any{"impact": "VPN down 5 min", "implementation_plan": "apply the vendor's patch", "backout_plan": "restore the snapshot"}
		if r, err := c.TakeActionWithResponse(ctx, id, "convene_ecab", nil, apiclient.ActionRequest{Input: &plan}, auth("dev-change-manager")); err != nil || r.JSON200 == nil {
			t.Fatalf("convene_ecab: %v %s", err, r.Body)
		}
		vote, err := c.VoteWithResponse(ctx, id, "ecab", nil, apiclient.VoteRequest{Decision: apiclient.VoteRequestDecisionApprove}, auth("dev-cab1"))
		if err != nil || vote.JSON200 == nil {
			t.Fatalf("vote: %v %s", err, vote.Body)
		}
		if got := fmt.Sprint(vote.JSON200.Outcome, " ", vote.JSON200.Tally.Approve); got != "pending 1" {
			t.Fatalf("the README prints %q", got)
		}
	})

	t.Run("Load", func(t *testing.T) {
		var out bytes.Buffer
		if err := run(ctx, []string{"load", "--api", "http://" + cfg.httpAddr, "--n", "4", "--concurrency", "2"},
			func(string) string { return "" }, &out, io.Discard); err != nil {
			t.Fatalf("load: %v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), "start   4 requests") || !strings.Contains(out.String(), "action  4 requests") {
			t.Fatalf("load:\n%s", out.String())
		}
	})

	t.Run("DeprecatedStartSaysSo", func(t *testing.T) {
		c := apiClient{t: t, base: cfg.httpAddr}
		status, h, body := c.do("POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "old path"}})
		if status != 201 || h.Get("Deprecation") != "@1795910400" || h.Get("Link") != `</api/v1/definitions/incident/processes>; rel="successor-version"` {
			t.Fatalf("%d, Deprecation %q, Link %q: %s", status, h.Get("Deprecation"), h.Get("Link"), body)
		}
	})
}

func eventsOfType(events []apiclient.Event, typ string) int {
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// anyStrings reads a JSON list of strings.
func anyStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
