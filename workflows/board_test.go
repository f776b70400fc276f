package workflows_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/itilflow/itilflow/activities"
	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/workflows"
)

// A CAB meeting decides changes item by item and releases each decision; a
// change whose approval names the board takes the decision released to it.

func meetingDefinition(t *testing.T) engine.Definition {
	return parse(t, `
name: cab
initial: agenda
variables:
  changes: {type: list}
states:
  agenda:
    actions:
      publish:
        to: meeting
        roles: [change-manager]
        do: [{collect: {process: change, into: changes}}]
  meeting:
    approval:
      approvers: {users: [ann, bob, cem]}
      quorum: majority
      agenda: changes
      due: 4h
      on_timeout: reject
      approved: done
      rejected: deferred
  done: {final: true}
  deferred: {final: true}
`)
}

// boards answers collect steps with a fixed agenda.
type boards struct{ items []engine.AgendaItem }

func (b boards) AwaitingBoard(_ context.Context, process, board string) ([]engine.AgendaItem, error) {
	if process != "change" || board != "cab" {
		return nil, errors.New("collected the wrong process or board")
	}
	return b.items, nil
}

// releaser records releases and refuses those for processes in refuse.
type releaser struct {
	mu       sync.Mutex
	refuse   map[string]bool
	released []engine.Release
	keys     []string
}

func (r *releaser) Release(_ context.Context, key string, rel engine.Release) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse[rel.Process] {
		return &engine.Error{Code: engine.ECONFLICT, Message: rel.Process + " was withdrawn"}
	}
	r.released = append(r.released, rel)
	r.keys = append(r.keys, key)
	return nil
}

// vote casts a vote on an agenda item at d; refused receives the validator's
// error code.
func (h *harness) vote(d time.Duration, who, decision, item string, refused *string) {
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(workflows.UpdateAction, who+decision+item+d.String(), &testsuite.TestUpdateCallback{
			OnReject: func(err error) {
				var app *temporal.ApplicationError
				if refused == nil || !errors.As(err, &app) {
					h.t.Errorf("%s's %s of %q at %v refused: %v", who, decision, item, d, err)
					return
				}
				*refused = app.Type()
			},
			OnComplete: func(any, error) {},
		}, engine.ActionRequest{Action: decision, Actor: engine.Actor{ID: who}, Item: item})
	}, d)
}

var agenda = []engine.AgendaItem{
	{ID: "change-1", Definition: "change", State: "authorising", Title: "SAN firmware", StartedBy: "rita", Excluded: []string{"bob"}},
	{ID: "change-2", Definition: "change", State: "authorising", Title: "CMS upgrade", StartedBy: "ann"},
}

func TestMeetingDecidesEachChangeAndReleasesIt(t *testing.T) {
	rel := &releaser{refuse: map[string]bool{"change-2": true}}
	h := newHarnessWith(t, &activities.Activities{Boards: boards{items: agenda}, Releaser: rel})
	cm := engine.Actor{ID: "carl", Roles: []string{"change-manager"}}
	var noItem, excluded, raiser, decided string
	h.at(time.Minute, "publish", cm, nil, nil)
	h.vote(2*time.Minute, "ann", "approve", "", &noItem)
	h.vote(3*time.Minute, "bob", "approve", "change-1", &excluded) // change-1's owner
	h.vote(4*time.Minute, "ann", "approve", "change-1", nil)
	h.vote(5*time.Minute, "ann", "approve", "change-2", &raiser) // ann raised change-2
	h.vote(6*time.Minute, "cem", "approve", "change-1", nil)     // 2 of the 2 who may vote
	h.vote(6*time.Minute+30*time.Second, "ann", "reject", "change-1", &decided)
	h.vote(7*time.Minute, "bob", "reject", "change-2", nil) // 2 may vote, 2 needed: rejected
	v := h.run(meetingDefinition(t), nil)

	for got, want := range map[*string]string{&noItem: engine.EINVALID, &excluded: engine.EFORBIDDEN, &raiser: engine.EFORBIDDEN, &decided: engine.ECONFLICT} {
		if *got != want {
			t.Errorf("refusal %q, want %q", *got, want)
		}
	}
	if v.State != "done" {
		t.Fatalf("meeting ended in %s, want done (every change decided)", v.State)
	}
	if len(rel.released) != 1 {
		t.Fatalf("released %+v, want change-1 only (change-2 refused)", rel.released)
	}
	r := rel.released[0]
	if r.Process != "change-1" || r.Outcome != engine.OutcomeApproved || r.Board != "cab" || r.Meeting != "incident-000001" ||
		r.State != "authorising" || len(r.Votes) != 2 || r.Tally.Electorate != 2 || r.Tally.Approve != 2 {
		t.Fatalf("release %+v", r)
	}
	if released := h.store.find(engine.EventDecisionReleased, ""); len(released) != 1 || released[0].Data["process"] != "change-1" {
		t.Fatalf("decision_released events %+v", released)
	}
	refused := h.store.find(engine.EventReleaseRefused, "")
	if len(refused) != 1 || refused[0].Data["process"] != "change-2" || refused[0].Data["error"] != "change-2 was withdrawn" {
		t.Fatalf("release_refused events %+v", refused)
	}
	var items []any
	for _, e := range h.store.find(engine.EventApprovalDecided, "") {
		items = append(items, e.Data["item"])
	}
	if len(items) != 3 || items[0] != "change-1" || items[1] != "change-2" || items[2] != nil {
		t.Fatalf("decisions %v, want change-1, change-2, then the meeting's", items)
	}
	h.rebuilds(meetingDefinition(t), nil)
}

// rebuilds checks that the engine, given the recorded events, derives the same
// history again (what as_of and what-if rely on).
func (h *harness) rebuilds(def engine.Definition, input map[string]any) {
	h.t.Helper()
	events := h.store.events
	if _, err := engine.Rebuild(&def, "incident-000001", 1, input, events, events[len(events)-1].At); err != nil {
		h.t.Fatalf("rebuild: %v", err)
	}
}

func TestMeetingDefersWhatItDidNotDecide(t *testing.T) {
	rel := &releaser{}
	h := newHarnessWith(t, &activities.Activities{Boards: boards{items: agenda}, Releaser: rel})
	h.at(time.Minute, "publish", engine.Actor{ID: "carl", Roles: []string{"change-manager"}}, nil, nil)
	h.vote(2*time.Minute, "ann", "approve", "change-1", nil)
	h.vote(3*time.Minute, "cem", "approve", "change-1", nil)
	h.vote(4*time.Minute, "bob", "approve", "change-2", nil) // one of the two needed
	v := h.run(meetingDefinition(t), nil)

	if v.State != "deferred" || len(rel.released) != 1 || rel.released[0].Process != "change-1" {
		t.Fatalf("state %s, released %+v; want deferred with change-1 released", v.State, rel.released)
	}
	last := h.store.find(engine.EventApprovalDecided, "")
	d := last[len(last)-1].Data
	if d["timeout"] != true || d["outcome"] != engine.OutcomeRejected {
		t.Fatalf("meeting's decision %+v, want a timeout", d)
	}
	if deferred, _ := d["deferred"].([]any); len(deferred) != 1 || deferred[0] != "change-2" {
		t.Fatalf("deferred %#v, want change-2", d["deferred"])
	}
}

func TestEmptyAgendaEndsTheVote(t *testing.T) {
	h := newHarnessWith(t, &activities.Activities{Boards: boards{}, Releaser: &releaser{}})
	h.at(time.Minute, "publish", engine.Actor{ID: "carl", Roles: []string{"change-manager"}}, nil, nil)
	if v := h.run(meetingDefinition(t), nil); v.State != "done" {
		t.Fatalf("state %s, want done: nothing to decide", v.State)
	}
}

func changeDefinition(t *testing.T) engine.Definition {
	return parse(t, `
name: change
initial: authorising
input:
  owner: {type: user}
states:
  authorising:
    approval:
      board: cab
      exclude: [input.owner]
      due: 24h
      on_timeout: reject
      approved: approved
      rejected: rejected
  approved: {final: true}
  rejected: {final: true}
`)
}

// release delivers a meeting's decision at d; refused receives the validator's
// error code.
func (h *harness) release(d time.Duration, rel engine.Release, refused *string) {
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(workflows.UpdateRelease, rel.Meeting+rel.Board+d.String(), &testsuite.TestUpdateCallback{
			OnReject: func(err error) {
				var app *temporal.ApplicationError
				if refused == nil || !errors.As(err, &app) {
					h.t.Errorf("release at %v refused: %v", d, err)
					return
				}
				*refused = app.Type()
			},
			OnComplete: func(any, error) {},
		}, rel)
	}, d)
}

func TestChangeTakesTheBoardsDecision(t *testing.T) {
	h := newHarness(t)
	votes := []engine.Vote{{Actor: "ann", Decision: "approve", At: t0, Item: "incident-000001"}, {Actor: "cem", Decision: "approve", At: t0, Item: "incident-000001"}}
	tally := engine.Tally{Approve: 2, Electorate: 2, Needed: 2, Outcome: engine.OutcomeApproved}
	ok := engine.Release{Meeting: "cab-000007", Board: "cab", Process: "incident-000001", State: "authorising", Outcome: engine.OutcomeApproved, Tally: tally, Votes: votes}
	var direct, wrongBoard, wrongState, noBoard, ownerVoted string
	h.at(time.Minute, "approve", engine.Actor{ID: "ann"}, nil, &direct)
	unnamed := ok
	unnamed.Board = ""
	h.release(90*time.Second, unnamed, &noBoard)
	owners := ok
	owners.Votes = append(append([]engine.Vote{}, votes...), engine.Vote{Actor: "bob", Decision: "approve", At: t0})
	h.release(100*time.Second, owners, &ownerVoted) // the meeting missed that bob owns it
	other := ok
	other.Board = "not-the-cab"
	h.release(2*time.Minute, other, &wrongBoard)
	stale := ok
	stale.State = "assessing"
	h.release(3*time.Minute, stale, &wrongState)
	h.release(4*time.Minute, ok, nil)
	v := h.run(changeDefinition(t), map[string]any{"owner": "bob"})

	for got, want := range map[*string]string{&direct: engine.ECONFLICT, &wrongBoard: engine.EFORBIDDEN, &wrongState: engine.ECONFLICT,
		&noBoard: engine.EINVALID, &ownerVoted: engine.EFORBIDDEN} {
		if *got != want {
			t.Errorf("refusal %q, want %q", *got, want)
		}
	}
	if v.State != "approved" {
		t.Fatalf("change ended in %s, want approved", v.State)
	}
	decided := h.store.find(engine.EventApprovalDecided, "")
	if len(decided) != 1 || decided[0].Data["meeting"] != "cab-000007" || decided[0].Data["board"] != "cab" {
		t.Fatalf("decisions %+v, want the meeting's", decided)
	}
	if got, _ := decided[0].Data["votes"].([]any); len(got) != 2 {
		t.Fatalf("votes recorded with the decision: %#v", decided[0].Data["votes"])
	}
	h.rebuilds(changeDefinition(t), map[string]any{"owner": "bob"})
}

// directory answers approvers' roles and groups.
type directory map[string][]string

func (d directory) Members(_ context.Context, roles, groups []string) ([]string, error) {
	var out []string
	for _, k := range append(append([]string{}, roles...), groups...) {
		for _, u := range d[k] {
			if !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
	}
	return out, nil
}

func TestGroupsAndExpressionsResolveToPeopleWhoVoteOnce(t *testing.T) {
	def := parse(t, `
name: change
input:
  service_owner: {type: user, required: true}
  owner: {type: user}
initial: authorising
states:
  authorising:
    approval:
      approvers:
        groups: [cab, architects]
        roles: [security]
        users: ["= input.service_owner"]
      exclude: [input.owner]
      quorum: all
      due: 4h
      on_timeout: reject
      approved: approved
      rejected: rejected
  approved: {final: true}
  rejected: {final: true}
`)
	// ann is in both groups; rita raised the change; ola owns it.
	dir := directory{"cab": {"ann", "bob", "ola"}, "architects": {"ann", "rita"}, "security": {"sec"}}
	h := newHarnessWith(t, &activities.Activities{Directory: dir})
	var twice, owner string
	for i, who := range []string{"ann", "bob", "sec"} {
		h.at(time.Duration(i+1)*time.Minute, "approve", engine.Actor{ID: who}, nil, nil)
	}
	h.at(4*time.Minute, "approve", engine.Actor{ID: "ann"}, nil, &twice)
	h.at(5*time.Minute, "approve", engine.Actor{ID: "ola"}, nil, &owner)
	h.at(6*time.Minute, "approve", engine.Actor{ID: "sue"}, nil, nil) // the service owner, by expression
	v := h.run(def, map[string]any{"service_owner": "sue", "owner": "ola"})

	if twice != engine.ECONFLICT || owner != engine.EFORBIDDEN {
		t.Errorf("second vote %q, owner's vote %q", twice, owner)
	}
	resolved := h.store.find(engine.EventApproversResolved, "")
	if len(resolved) != 1 {
		t.Fatalf("approvers_resolved %+v", resolved)
	}
	if got := resolved[0].Data["approvers"].([]any); len(got) != 4 || got[0] != "ann" || got[1] != "bob" || got[2] != "sec" || got[3] != "sue" {
		t.Fatalf("electorate %v, want ann, bob, sec, sue (rita raised it, ola owns it)", got)
	}
	if v.State != "approved" {
		t.Fatalf("state %s, want approved once all four approved", v.State)
	}
	decided := h.store.find(engine.EventApprovalDecided, "")
	if tally := decided[0].Data["tally"].(map[string]any); tally["electorate"] != float64(4) || tally["approve"] != float64(4) {
		t.Fatalf("tally %v", tally)
	}
	notified := map[any]bool{}
	for _, n := range h.store.find(engine.EventNotification, "") {
		notified[n.Data["user"]] = true
	}
	if !notified["ann"] || !notified["sue"] || notified["rita"] || notified["ola"] {
		t.Fatalf("notified %v, want each of the electorate", notified)
	}
	h.rebuilds(def, map[string]any{"service_owner": "sue", "owner": "ola"})
}

func TestNobodyToVoteLeavesTheVoteToItsTimeout(t *testing.T) {
	def := parse(t, `
name: change
initial: authorising
states:
  authorising:
    approval:
      approvers: {groups: [empty]}
      quorum: majority
      due: 4h
      on_timeout: reject
      approved: approved
      rejected: rejected
  approved: {final: true}
  rejected: {final: true}
`)
	h := newHarnessWith(t, &activities.Activities{Directory: directory{}})
	if v := h.run(def, nil); v.State != "rejected" {
		t.Fatalf("state %s, want rejected at the timeout, never approved by nobody", v.State)
	}
	if len(h.store.find(engine.EventStepFailed, "")) != 1 {
		t.Fatal("no step_failed saying nobody may vote")
	}
}
