package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Normal changes are authorised at CAB meetings (definitions/cab-review.yaml):
// nobody votes on the change itself. These helpers drive a meeting through the
// API as the dev users would; the tests that need an authorised change use them.

// cabWait bounds how long a test waits for the meeting's activities: collecting
// the agenda from PostgreSQL, and releasing each decision to its change.
const cabWait = 20 * time.Second

// submitToCAB raises a normal change as raiser (a dev token) with input, and
// has the change manager accept it and submit it to the CAB: it then waits in
// authorising for a meeting.
func submitToCAB(c apiClient, raiser string, input map[string]any) string {
	c.t.Helper()
	if input["change_type"] == nil {
		input["change_type"] = "network"
	}
	id := c.must(201, "POST", "/api/v1/processes/change-normal", raiser, map[string]any{"input": input})["id"].(string)
	c.must(200, "POST", "/api/v1/processes/"+id+"/actions/accept", "dev-change-manager", nil)
	c.must(200, "POST", "/api/v1/processes/"+id+"/actions/submit_to_cab", "dev-change-manager", map[string]any{"input": map[string]any{
		"impact": "none", "risk": "low", "implementation_plan": "apply", "backout_plan": "revert"}})
	return id
}

// pollProcess polls the process (as the auditor) until cond holds, for at most
// within, and fails the test naming what did not happen.
func pollProcess(c apiClient, id, what string, within time.Duration, cond func(p map[string]any) bool) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, p := c.call("GET", "/api/v1/processes/"+id, "dev-auditor", nil)
		if code == 200 && cond(p) {
			return p
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: %s did not happen within %s; state %v, vars %v, last events %v", id, what, within, p["state"], p["vars"], lastEvents(p, 5))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// lastEvents returns the types of the process's last n events.
func lastEvents(p map[string]any, n int) []any {
	events, _ := p["events"].([]any)
	var out []any
	for _, e := range events[max(0, len(events)-n):] {
		m := e.(map[string]any)
		out = append(out, fmt.Sprintf("%v%v", m["type"], m["data"]))
	}
	return out
}

// agendaOf returns the ids the meeting collected into vars.changes.
func agendaOf(p map[string]any) []string {
	vars, _ := p["vars"].(map[string]any)
	list, _ := vars["changes"].([]any)
	var out []string
	for _, v := range list {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// publishCABAgenda starts a CAB meeting as the change manager, publishes its
// agenda and waits until the agenda — collected asynchronously from
// PostgreSQL — holds every one of changeIDs. The meeting is not open yet.
func publishCABAgenda(c apiClient, changeIDs ...string) (meeting string) {
	c.t.Helper()
	meeting = c.must(201, "POST", "/api/v1/processes/cab-review", "dev-change-manager", map[string]any{"input": map[string]any{
		"title": "Weekly CAB", "meeting_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}})["id"].(string)
	c.must(200, "POST", "/api/v1/processes/"+meeting+"/actions/publish_agenda", "dev-change-manager", map[string]any{"input": map[string]any{
		"agenda": "The normal changes awaiting the CAB"}})
	pollProcess(c, meeting, fmt.Sprintf("an agenda holding %v", changeIDs), cabWait, func(p map[string]any) bool {
		agenda := agendaOf(p)
		for _, id := range changeIDs {
			if !slices.Contains(agenda, id) {
				return false
			}
		}
		return true
	})
	return meeting
}

// openCABMeeting publishes an agenda holding changeIDs and opens the meeting's
// vote.
func openCABMeeting(c apiClient, changeIDs ...string) (meeting string) {
	c.t.Helper()
	meeting = publishCABAgenda(c, changeIDs...)
	c.must(200, "POST", "/api/v1/processes/"+meeting+"/actions/open_meeting", "dev-change-manager", nil)
	return meeting
}

// voteAtCAB casts token's vote on one change at the meeting; body may add
// on_behalf_of or a comment.
func voteAtCAB(c apiClient, meeting, token, decision, change string, body map[string]any) (int, map[string]any) {
	c.t.Helper()
	b := map[string]any{"decision": decision, "item": change}
	for k, v := range body {
		b[k] = v
	}
	return c.call("POST", "/api/v1/processes/"+meeting+"/approvals/meeting", token, b)
}

// authoriseAtCAB authorises normal changes waiting in authorising: a meeting
// collects them, cara, cole and carl (the change manager, who must approve)
// approve each, and every change takes the decision and reaches scheduling.
func authoriseAtCAB(c apiClient, changeIDs ...string) (meeting string) {
	c.t.Helper()
	meeting = openCABMeeting(c, changeIDs...)
	for _, id := range changeIDs {
		for _, tok := range []string{"dev-cab1", "dev-cab2", "dev-change-manager"} {
			if code, out := voteAtCAB(c, meeting, tok, "approve", id, nil); code != 200 {
				c.t.Fatalf("%s approving %s at %s: %d %v", tok, id, meeting, code, out)
			}
		}
	}
	for _, id := range changeIDs {
		pollProcess(c, id, "scheduling after the CAB's approval at "+meeting, cabWait, func(p map[string]any) bool { return p["state"] == "scheduling" })
	}
	return meeting
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

// hasVote reports whether a change's approval_decided event records the vote
// of actor, cast by by ("" for themselves), with the decision and comment.
func hasVote(decided map[string]any, actor, by, decision, comment string) bool {
	data, _ := decided["data"].(map[string]any)
	votes, _ := data["votes"].([]any)
	str := func(v any) string { s, _ := v.(string); return s }
	for _, v := range votes {
		m := v.(map[string]any)
		if str(m["actor"]) == actor && str(m["by"]) == by && str(m["decision"]) == decision && str(m["comment"]) == comment {
			return true
		}
	}
	return false
}

// itemOf returns the meeting's agenda item for change, with its tally.
func itemOf(t *testing.T, meeting map[string]any, change string) map[string]any {
	t.Helper()
	a, _ := meeting["approval"].(map[string]any)
	items, _ := a["items"].([]any)
	for _, it := range items {
		if m := it.(map[string]any); m["id"] == change {
			return m
		}
	}
	t.Fatalf("%v has no agenda item %s: %v", meeting["id"], change, a)
	return nil
}

// TestCABMeetingReleasesDecisions: through the real stack, a CAB meeting
// collects the normal changes waiting for it — and only those — its members
// vote change by change under the per-item rules (no votes on the change
// itself, none on a change one raised or owns, members only), and each
// decision is released to its change, which records the meeting and the votes.
// A change withdrawn after the agenda was collected refuses its release, and the
// meeting records that.
func TestCABMeetingReleasesDecisions(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}

	cms := submitToCAB(c, "dev-requester", map[string]any{"title": "Upgrade the CMS", "change_type": "software"})
	// Raised by the service desk for a customer; cole.cab builds it.
	fw := submitToCAB(c, "dev-service-desk", map[string]any{"title": "Firewall rules", "owner": "cole.cab"})
	san := submitToCAB(c, "dev-requester", map[string]any{"title": "Retire the old SAN", "change_type": "hardware"})
	registered := c.must(201, "POST", "/api/v1/processes/change-normal", "dev-requester",
		map[string]any{"input": map[string]any{"title": "Not yet accepted", "change_type": "network"}})["id"].(string)

	meeting := publishCABAgenda(c, cms, fw, san)
	m := c.must(200, "GET", "/api/v1/processes/"+meeting, "dev-auditor", nil)
	if got, want := agendaOf(m), []string{cms, fw, san}; !slices.Equal(got, want) {
		t.Fatalf("agenda %v, want exactly the changes awaiting the CAB, oldest first: %v (not %s, still registered)", got, want, registered)
	}
	// The meeting's vote is not open: the items, with who may not vote on them, are in agenda_collected.
	collected := eventsOf(m, "agenda_collected")
	if len(collected) != 1 {
		t.Fatalf("agenda_collected: %v", collected)
	}
	if items := collected[0]["data"].(map[string]any)["items"].([]any); len(items) != 3 ||
		items[1].(map[string]any)["started_by"] != "sam.desk" || fmt.Sprint(items[1].(map[string]any)["excluded"]) != "[cole.cab]" {
		t.Fatalf("the collected items: %v", items)
	}
	// Withdrawn after it was collected: it stays on this meeting's agenda.
	c.must(200, "POST", "/api/v1/processes/"+san+"/actions/withdraw", "dev-requester", map[string]any{"input": map[string]any{"reason": "the SAN stays a year"}})
	c.must(200, "POST", "/api/v1/processes/"+meeting+"/actions/open_meeting", "dev-change-manager", nil)
	// The change manager convened the meeting and is a member: the three
	// changes are in his inbox.
	if items, _ := c.must(200, "GET", "/api/v1/approvals", "dev-change-manager", nil)["approvals"].([]any); len(items) != 3 {
		t.Fatalf("the convenor's inbox: %v", items)
	}
	// The change's own view offers no vote: its votes are cast at the meeting.
	if acts := fmt.Sprint(c.must(200, "GET", "/api/v1/processes/"+cms, "dev-cab1", nil)["actions"]); strings.Contains(acts, "approve") {
		t.Fatalf("the change offers votes: %s", acts)
	}

	// Nobody votes on the change itself: the meeting decides it.
	if code, out := c.call("POST", "/api/v1/processes/"+cms+"/approvals/authorising", "dev-cab1", map[string]any{"decision": "approve"}); code != 409 ||
		!strings.Contains(fmt.Sprint(out), "decided at a cab-review meeting") {
		t.Fatalf("a vote on the change itself: %d %v", code, out)
	}
	// Cole owns the firewall change; the requester raised the CMS change and is no member.
	if code, out := voteAtCAB(c, meeting, "dev-cab2", "approve", fw, nil); code != 403 || !strings.Contains(fmt.Sprint(out), "cole.cab has a part in "+fw) {
		t.Fatalf("cole on his own change: %d %v", code, out)
	}
	// The requester sees her changes, not the meetings that decide them.
	for _, item := range []string{cms, fw} {
		if code, out := voteAtCAB(c, meeting, "dev-requester", "approve", item, nil); code != 404 {
			t.Fatalf("the requester at the meeting, on %s: %d %v", item, code, out)
		}
	}
	m = c.must(200, "GET", "/api/v1/processes/"+meeting, "dev-auditor", nil)
	if tally := itemOf(t, m, fw)["tally"].(map[string]any); tally["approve"] != 0.0 || tally["reject"] != 0.0 || tally["electorate"] != 3.0 || eventCount(m, "action") != 2 {
		t.Fatalf("the refused votes counted: tally %v, %d actions", tally, eventCount(m, "action"))
	}

	// The CMS change: three of four approve, the change manager among them.
	for _, v := range []struct{ token, comment string }{
		{"dev-cab1", "fine with a snapshot first"}, {"dev-cab2", "tested in staging"}, {"dev-change-manager", "window agreed"}} {
		if code, out := voteAtCAB(c, meeting, v.token, "approve", cms, map[string]any{"comment": v.comment}); code != 200 {
			t.Fatalf("%s on %s: %d %v", v.token, cms, code, out)
		}
	}
	p := pollProcess(c, cms, "scheduling", cabWait, func(p map[string]any) bool { return p["state"] == "scheduling" })
	decided := eventsOf(p, "approval_decided")
	if len(decided) != 1 {
		t.Fatalf("%s: approval_decided %v", cms, decided)
	}
	data := decided[0]["data"].(map[string]any)
	if data["meeting"] != meeting || data["board"] != "cab-review" || data["outcome"] != "approved" || len(data["votes"].([]any)) != 3 ||
		!hasVote(decided[0], "cara.cab", "", "approve", "fine with a snapshot first") || !hasVote(decided[0], "cole.cab", "", "approve", "tested in staging") ||
		!hasVote(decided[0], "carl.change", "", "approve", "window agreed") {
		t.Fatalf("%s's decision: %v", cms, data)
	}
	if code, out := voteAtCAB(c, meeting, "dev-cab3", "reject", cms, nil); code != 409 || !strings.Contains(fmt.Sprint(out), cms+" was decided (approved)") {
		t.Fatalf("a vote after the item's decision: %d %v", code, out)
	}

	// The firewall change: the change manager's rejection is a veto.
	if code, out := voteAtCAB(c, meeting, "dev-change-manager", "reject", fw, map[string]any{"comment": "clashes with the audit"}); code != 200 || out["outcome"] != "rejected" {
		t.Fatalf("the veto: %d %v", code, out)
	}
	p = pollProcess(c, fw, "rejected", cabWait, func(p map[string]any) bool { return p["state"] == "rejected" && p["ended_at"] != nil })
	if d := eventsOf(p, "approval_decided"); len(d) != 1 || d[0]["data"].(map[string]any)["meeting"] != meeting ||
		!hasVote(d[0], "carl.change", "", "reject", "clashes with the audit") {
		t.Fatalf("%s's decision: %v", fw, d)
	}

	// The withdrawn change: one vote decides it; its release is refused.
	if code, out := voteAtCAB(c, meeting, "dev-change-manager", "reject", san, map[string]any{"comment": "withdrawn"}); code != 200 || out["state"] != "minutes" {
		t.Fatalf("the last item: %d %v", code, out)
	}
	m = pollProcess(c, meeting, "two releases and a refusal", cabWait, func(p map[string]any) bool {
		return len(eventsOf(p, "decision_released"))+len(eventsOf(p, "release_refused")) == 3
	})
	released := map[string]any{}
	for _, e := range eventsOf(m, "decision_released") {
		d := e["data"].(map[string]any)
		released[d["process"].(string)] = d["outcome"]
	}
	refused := eventsOf(m, "release_refused")
	if m["state"] != "minutes" || released[cms] != "approved" || released[fw] != "rejected" || len(released) != 2 ||
		len(refused) != 1 || refused[0]["data"].(map[string]any)["process"] != san || !strings.Contains(fmt.Sprint(refused[0]["data"]), "ended") {
		t.Fatalf("meeting %s in %v: released %v, refused %v", meeting, m["state"], released, refused)
	}
	if p := c.must(200, "GET", "/api/v1/processes/"+san, "dev-auditor", nil); p["state"] != "cancelled" || eventCount(p, "approval_decided") != 0 {
		t.Fatalf("the withdrawn change took a decision: %v %v", p["state"], eventsOf(p, "approval_decided"))
	}
	if p := c.must(200, "GET", "/api/v1/processes/"+registered, "dev-auditor", nil); p["state"] != "registered" {
		t.Fatalf("the registered change moved: %v", p["state"])
	}
}
