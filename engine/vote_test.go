package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// A 2-of-2 approval where one approver (bob) also holds the other's (ann's)
// delegation: bob must not decide it alone.
const twoOfTwo = `
name: change
initial: authorise
states:
  authorise:
    approval:
      approvers: {users: [ann, bob]}
      quorum: all
      approved: done
      rejected: done
  done: {final: true}
`

func TestOnePersonCastsOneVote(t *testing.T) {
	ann, bob := &engine.Actor{ID: "ann"}, engine.Actor{ID: "bob"}
	forAnn := engine.ActionRequest{Action: "approve", Actor: bob, OnBehalfOf: ann}
	own := engine.ActionRequest{Action: "approve", Actor: bob}
	cases := []struct {
		name          string
		first, second engine.ActionRequest
	}{
		{"DelegatedVoteFirstStands", forAnn, own},
		{"OwnVoteFirstStands", own, forAnn},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			def := mustParse(t, twoOfTwo)
			in := start(t, def, nil)
			if err := in.Apply(def, c.first, t0); err != nil {
				t.Fatal(err)
			}
			err := in.Apply(def, c.second, t0)
			if engine.ErrorCode(err) != engine.ECONFLICT || !strings.Contains(err.Error(), "one person, one vote") {
				t.Fatalf("second vote by bob: %v, want a conflict", err)
			}
			if len(in.Votes) != 1 || in.State != "authorise" {
				t.Fatalf("votes %+v, state %s: the first vote must stand alone", in.Votes, in.State)
			}
		})
	}
	t.Run("OlderVersionsAreHeldToItWhenAdmitted", func(t *testing.T) {
		def := mustParse(t, twoOfTwo)
		def.Level = engine.LevelApprovalNotices // published before the rule
		in := start(t, def, nil)
		if err := in.Apply(def, forAnn, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := in.Check(def, own, t0); err != nil {
			t.Fatalf("replaying an old history must decide as it was recorded: %v", err)
		}
		if _, err := in.Admit(def, own, t0); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("a new request on an old version was admitted: %v", err)
		}
	})
	t.Run("TheDelegatorCannotVoteAfterTheirDelegate", func(t *testing.T) {
		def := mustParse(t, twoOfTwo)
		in := start(t, def, nil)
		if err := in.Apply(def, forAnn, t0); err != nil {
			t.Fatal(err)
		}
		if err := in.Apply(def, engine.ActionRequest{Action: "approve", Actor: *ann}, t0); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("ann voted after her delegate did: %v", err)
		}
	})
	t.Run("PerItemAtAMeeting", func(t *testing.T) {
		def := mustParse(t, `
name: cab
variables:
  changes: {type: list}
initial: agenda
states:
  agenda:
    actions:
      open: {to: meeting, do: [{collect: {process: change, into: changes}}]}
  meeting:
    approval:
      approvers: {users: [ann, bob]}
      quorum: all
      agenda: changes
      approved: done
      rejected: done
  done: {final: true}
`)
		in, err := engine.Start(def, "cab-1", 1, nil, engine.Actor{ID: "carl"}, "", t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := in.Apply(def, engine.ActionRequest{Action: "open", Actor: engine.System}, t0); err != nil {
			t.Fatal(err)
		}
		in.CompleteCollect(def, in.Effects[0].ID, []engine.AgendaItem{
			{ID: "change-1", Definition: "change", State: "authorising", StartedBy: "rita"},
			{ID: "change-2", Definition: "change", State: "authorising", StartedBy: "rita"},
		}, "", t0)
		itemVote := func(req engine.ActionRequest, item string) error {
			req.Item = item
			return in.Apply(def, req, t0)
		}
		if err := itemVote(forAnn, "change-1"); err != nil {
			t.Fatal(err)
		}
		if err := itemVote(own, "change-1"); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("bob voted twice on change-1: %v", err)
		}
		// One vote per item: bob still has his vote on the next one.
		if err := itemVote(own, "change-2"); err != nil {
			t.Fatalf("bob's vote on change-2: %v", err)
		}
	})
}

// TestAdmitDecidesAfterWhatFellDue: a request that arrives after a timer fell
// due but before the workflow processed it is decided as the process then
// stands, not refused by the state it has already left.
func TestAdmitDecidesAfterWhatFellDue(t *testing.T) {
	def := mustParse(t, `
name: x
initial: a
states:
  a:
    timers: [{after: 1h, action: move}]
    actions:
      move: {to: b}
  b:
    actions:
      finish: {to: c}
  c: {final: true}
`)
	in := start(t, def, nil)
	pending := len(in.Pending)
	late := t0.Add(time.Hour + time.Second)
	req := engine.ActionRequest{Action: "finish", Actor: desk}
	if _, err := in.Check(def, req, late); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Fatalf("Check on the stale state: %v", err)
	}
	if _, err := in.Admit(def, req, late); err != nil {
		t.Fatalf("Admit refused what the timer made possible: %v", err)
	}
	if in.State != "a" || len(in.Pending) != pending {
		t.Fatalf("Admit changed the instance: state %s, %d pending events", in.State, len(in.Pending))
	}
}

// TestAdmitLooksAheadAtAProcessWithoutVariables: the look-ahead works on a
// copy made through JSON, which has no variables map when the process had
// none; a breach whose escalation sets one must not panic there (it once
// did: "assignment to entry in nil map" in the update validator).
func TestAdmitLooksAheadAtAProcessWithoutVariables(t *testing.T) {
	def := mustParse(t, `
name: x
initial: a
variables:
  late: {type: bool}
states:
  a:
    actions:
      finish: {to: b}
  b: {final: true}
slas:
  answer: {target: 1h, stop_on_leave: [a]}
escalations:
  - on: {sla: answer, at: 100%}
    do: [{set: {late: true}}]
`)
	in := start(t, def, nil)
	if len(in.Vars) != 0 {
		t.Fatalf("vars %v, want none", in.Vars)
	}
	late := t0.Add(time.Hour + time.Second)
	if _, err := in.Admit(def, engine.ActionRequest{Action: "finish", Actor: desk}, late); err != nil {
		t.Fatal(err)
	}
	if err := in.Apply(def, engine.ActionRequest{Action: "finish", Actor: desk}, late); err != nil {
		t.Fatal(err)
	}
}
