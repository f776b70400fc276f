package cluster

import (
	"slices"
	"time"
)

// cabWait bounds how long the test waits for a meeting's activities
// (collecting the agenda, releasing a decision to its change). A worker
// killed in the middle of one leaves it to be retried when its 30s
// start-to-close timeout ends.
const cabWait = 90 * time.Second

// submitToCAB raises a normal change and has the change manager accept it
// and submit it to the CAB: it then waits in authorising for a meeting.
func submitToCAB(a api, title string) string {
	a.t.Helper()
	id := a.must(201, "POST", "/api/v1/processes/change-normal", "dev-requester",
		map[string]any{"input": map[string]any{"title": title, "change_type": "network"}})["id"].(string)
	a.must(200, "POST", "/api/v1/processes/"+id+"/actions/accept", "dev-change-manager", nil)
	a.must(200, "POST", "/api/v1/processes/"+id+"/actions/submit_to_cab", "dev-change-manager", map[string]any{"input": map[string]any{
		"impact": "none", "risk": "low", "implementation_plan": "apply", "backout_plan": "revert"}})
	return id
}

// openMeeting starts a CAB meeting, publishes its agenda, waits until the
// agenda (collected from PostgreSQL by an activity) holds every change, and
// opens the vote.
func openMeeting(a api, changes ...string) string {
	a.t.Helper()
	m := a.must(201, "POST", "/api/v1/processes/cab-review", "dev-change-manager", map[string]any{"input": map[string]any{
		"title": "CAB on the cluster", "meeting_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}})["id"].(string)
	a.must(200, "POST", "/api/v1/processes/"+m+"/actions/publish_agenda", "dev-change-manager",
		map[string]any{"input": map[string]any{"agenda": "The normal changes awaiting the CAB"}})
	a.waitFor(m, "an agenda holding every change", cabWait, func(p map[string]any) bool {
		vars, _ := p["vars"].(map[string]any)
		list, _ := vars["changes"].([]any)
		for _, id := range changes {
			if !slices.Contains(list, any(id)) {
				return false
			}
		}
		return true
	})
	a.must(200, "POST", "/api/v1/processes/"+m+"/actions/open_meeting", "dev-change-manager", nil)
	return m
}

// vote casts token's vote on one change of the meeting.
func vote(a api, meeting, token, decision, change, comment string) map[string]any {
	a.t.Helper()
	return a.must(200, "POST", "/api/v1/processes/"+meeting+"/approvals/meeting", token,
		map[string]any{"decision": decision, "item": change, "comment": comment})
}

// hasVote reports whether a change's approval_decided event records actor's
// vote with the decision and comment.
func hasVote(decided map[string]any, actor, decision, comment string) bool {
	data, _ := decided["data"].(map[string]any)
	votes, _ := data["votes"].([]any)
	for _, v := range votes {
		m, _ := v.(map[string]any)
		if m["actor"] == actor && m["decision"] == decision && m["comment"] == comment {
			return true
		}
	}
	return false
}
