package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// twentyApprovers is a change voted on by twenty named approvers, a majority
// deciding.
func twentyApprovers(users []string) string {
	return fmt.Sprintf(`
name: big-cab
input:
  title: {type: string, required: true}
initial: authorise
states:
  authorise:
    approval:
      approvers: {users: [%s]}
      quorum: majority
      approved: scheduled
      rejected: rejected
  scheduled: {final: true}
  rejected: {final: true}
`, strings.Join(users, ", "))
}

// TestTwentyApproversVoteAtOnce: twenty approvers vote on one change at the same
// instant through the real stack. Exactly one vote decides, the tally counts each
// accepted vote once, every later vote gets 409, and the person who raised the
// change cannot approve it. Users and tokens come from `itilflow user`.
func TestTwentyApproversVoteAtOnce(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	// `itilflow user` finds the audit key dev made in its data directory.
	getenv := env(map[string]string{"DATABASE_URL": devDatabaseURL(t, cfg), "ITILFLOW_DATA_DIR": cfg.dataDir})
	var users []string
	tokens := map[string]string{}
	for i := 1; i <= 20; i++ {
		id := fmt.Sprintf("voter%02d", i)
		users = append(users, id)
		if err := run(context.Background(), []string{"user", "add", id, "--name", "Voter " + id, "--roles", "cab-member"}, getenv, io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := run(context.Background(), []string{"user", "token", id, "--label", "test"}, getenv, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		tokens[id] = strings.TrimSpace(out.String())
	}
	c := apiClient{t: t, base: cfg.httpAddr}
	c.must(201, "PUT", "/api/v1/definitions/big-cab", "dev-process-owner", twentyApprovers(users))
	// voter01 raises the change: separation of duties keeps them out of the vote.
	p := c.must(201, "POST", "/api/v1/processes/big-cab", tokens["voter01"], map[string]any{"input": map[string]any{"title": "core switch firmware"}})
	id := p["id"].(string)
	vote := func(token, decision string, header ...string) (int, map[string]any) {
		return c.call("POST", "/api/v1/processes/"+id+"/approvals/authorise", token, map[string]any{"decision": decision, "comment": "ok"}, header...)
	}

	if code, out := vote(tokens["voter01"], "approve"); code != 403 || !strings.Contains(fmt.Sprint(out), "separation of duties") {
		t.Fatalf("own change: %d %v", code, out)
	}
	inbox := c.must(200, "GET", "/api/v1/approvals?status=pending", tokens["voter02"], nil)
	if inbox["total"] != 1.0 {
		t.Fatalf("voter02's inbox: %v", inbox)
	}
	if own := c.must(200, "GET", "/api/v1/approvals", tokens["voter01"], nil); own["total"] != 0.0 {
		t.Fatalf("the raiser's inbox lists their own change: %v", own)
	}
	// A requester who has no part in the change does not even learn it exists.
	if code, _ := vote("dev-requester", "approve"); code != 404 {
		t.Fatalf("an outsider voted: %d", code)
	}
	// A retried vote with the same Idempotency-Key counts once.
	for i := 0; i < 2; i++ {
		if code, out := vote(tokens["voter02"], "approve", "Idempotency-Key", "voter02-vote"); code != 200 || out["outcome"] != "pending" {
			t.Fatalf("vote %d: %d %v", i, code, out)
		}
	}

	// The other eighteen at once: eleven approve and seven reject, so the
	// majority of twenty (eleven approvals) is reached, with voter02's vote.
	type answer struct {
		voter string
		code  int
		body  map[string]any
	}
	answers := make(chan answer, 18)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 3; i <= 20; i++ {
		voter, decision := users[i-1], "approve"
		if i > 13 {
			decision = "reject"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			b, _ := json.Marshal(map[string]any{"decision": decision})
			req, _ := http.NewRequest("POST", "http://"+cfg.httpAddr+"/api/v1/processes/"+id+"/approvals/authorise", bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+tokens[voter])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				answers <- answer{voter: voter, code: -1}
				return
			}
			defer resp.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			answers <- answer{voter: voter, code: resp.StatusCode, body: body}
		}()
	}
	close(start)
	wg.Wait()
	close(answers)

	accepted, refused, decided := 0, 0, 0
	for a := range answers {
		switch a.code {
		case 200:
			accepted++
			if a.body["outcome"] != "pending" {
				decided++
				if a.body["outcome"] != "approved" {
					t.Errorf("%s decided %v", a.voter, a.body["outcome"])
				}
			}
		case 409:
			refused++
		default:
			t.Errorf("%s: status %d %v", a.voter, a.code, a.body)
		}
	}
	if decided != 1 {
		t.Fatalf("%d votes decided the approval, want exactly one", decided)
	}
	p = c.waitFor(id, "ended", func(p map[string]any) bool { return p["ended_at"] != nil })
	var decision map[string]any
	votes := 0
	for _, e := range p["events"].([]any) {
		ev := e.(map[string]any)
		switch ev["type"] {
		case "approval_decided":
			if decision != nil {
				t.Fatal("two approval_decided events")
			}
			decision = ev
		case "action":
			votes++
		}
	}
	tally := decision["data"].(map[string]any)["tally"].(map[string]any)
	// Every accepted vote is in the tally once (voter02's counted once), and
	// the votes refused with 409 are in no event.
	if p["state"] != "scheduled" || tally["approve"] != 11.0 || int(tally["approve"].(float64)+tally["reject"].(float64)) != accepted+1 ||
		votes != accepted+1 || accepted+refused != 18 {
		t.Fatalf("state %v, tally %v, %d vote events, %d accepted, %d refused", p["state"], tally, votes, accepted, refused)
	}
	if code, out := vote(tokens["voter20"], "reject"); code != 409 || !strings.Contains(fmt.Sprint(out), "was decided (approved)") {
		t.Fatalf("a vote after the decision: %d %v", code, out)
	}
	t.Logf("18 concurrent votes: %d accepted, %d refused after the decision", accepted, refused)
}

// TestDelegatedVote: the change manager, a mandatory member of the CAB, hands
// his votes to the service manager for an hour; the delegate finds the change on
// the open meeting's agenda in his inbox and approves it for him; the vote counts
// once, as the change manager's, and the change records who cast it.
func TestDelegatedVote(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	id := submitToCAB(c, "dev-requester", map[string]any{"title": "Replace the core router"})
	meeting := openCABMeeting(c, id)
	vote := func(token string, body map[string]any) (int, map[string]any) {
		return c.call("POST", "/api/v1/processes/"+meeting+"/approvals/meeting", token, body)
	}
	// Before the delegation the meeting is hidden from the service manager.
	if code, _ := vote("dev-service-manager", map[string]any{"decision": "approve", "item": id, "on_behalf_of": "carl.change"}); code != 404 {
		t.Fatalf("a vote for someone without a delegation: %d", code)
	}
	c.outsideContract().must(422, "POST", "/api/v1/delegations", "dev-change-manager", map[string]any{"to": "sid.service"})
	c.must(201, "POST", "/api/v1/delegations", "dev-change-manager", map[string]any{
		"to": "sid.service", "ends_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "reason": "on leave"})
	inbox := c.must(200, "GET", "/api/v1/approvals", "dev-service-manager", nil)
	items, _ := inbox["approvals"].([]any)
	if len(items) != 1 {
		t.Fatalf("delegate's inbox: %v", inbox)
	}
	entry := items[0].(map[string]any)
	item, _ := entry["item"].(map[string]any)
	if entry["id"] != meeting || entry["step"] != "meeting" || entry["on_behalf_of"] != "carl.change" || item["id"] != id || item["title"] != "Replace the core router" {
		t.Fatalf("delegate's inbox entry: %v", entry)
	}
	code, out := vote("dev-service-manager", map[string]any{"decision": "approve", "item": id, "on_behalf_of": "carl.change", "comment": "for Carl"})
	if code != 200 || out["outcome"] != "pending" || out["item"] != id {
		t.Fatalf("delegated vote: %d %v", code, out)
	}
	if missing := out["tally"].(map[string]any)["missing"]; missing != nil {
		t.Fatalf("the mandatory approver is still missing: %v", missing)
	}
	if code, out := vote("dev-change-manager", map[string]any{"decision": "reject", "item": id}); code != 409 || !strings.Contains(fmt.Sprint(out), "already voted") {
		t.Fatalf("the delegator voted again: %d %v", code, out)
	}
	given := c.must(200, "GET", "/api/v1/delegations", "dev-change-manager", nil)
	if g, _ := given["given"].([]any); len(g) != 1 {
		t.Fatalf("delegations: %v", given)
	}
	// Two members more and the change is authorised, with the delegated vote on record.
	for _, tok := range []string{"dev-cab1", "dev-cab2"} {
		c.must(200, "POST", "/api/v1/processes/"+meeting+"/approvals/meeting", tok, map[string]any{"decision": "approve", "item": id})
	}
	p := pollProcess(c, id, "scheduling", cabWait, func(p map[string]any) bool { return p["state"] == "scheduling" })
	if d := eventsOf(p, "approval_decided"); len(d) != 1 || !hasVote(d[0], "carl.change", "sid.service", "approve", "for Carl") {
		t.Fatalf("the change's decision: %v", d)
	}
}

// TestOneChangePerConfigurationItemAtATime: two authorised changes on the same
// item cannot be scheduled at overlapping times; the second is refused with 409
// naming the first, and may take a window that does not overlap.
func TestOneChangePerConfigurationItemAtATime(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	c.must(200, "PUT", "/api/v1/cis/core-switch-1", "dev-admin", map[string]any{"name": "Core switch 1", "type": "switch"})
	first := submitToCAB(c, "dev-requester", map[string]any{"title": "Firmware upgrade", "ci": "core-switch-1"})
	second := submitToCAB(c, "dev-requester", map[string]any{"title": "Port reconfiguration", "ci": "core-switch-1"})
	authoriseAtCAB(c, first, second)
	schedule := func(id, from, to string) (int, map[string]any) {
		return c.call("POST", "/api/v1/processes/"+id+"/actions/schedule", "dev-change-manager", map[string]any{"input": map[string]any{
			"planned_start": from, "planned_end": to, "implementer": "ian.implementer"}})
	}
	if code, out := schedule(first, "2027-02-01T20:00:00Z", "2027-02-01T23:00:00Z"); code != 200 {
		t.Fatalf("first: %d %v", code, out)
	}
	code, out := schedule(second, "2027-02-01T22:00:00Z", "2027-02-02T01:00:00Z")
	if code != 409 || !strings.Contains(fmt.Sprint(out), "core-switch-1 is already scheduled by "+first) {
		t.Fatalf("overlap: %d %v", code, out)
	}
	if p := c.must(200, "GET", "/api/v1/processes/"+second, "dev-change-manager", nil); p["state"] != "scheduling" {
		t.Fatalf("the refused change moved to %v", p["state"])
	}
	if code, out := schedule(second, "2027-02-01T23:00:00Z", "2027-02-02T01:00:00Z"); code != 200 {
		t.Fatalf("adjacent window: %d %v", code, out)
	}
}
