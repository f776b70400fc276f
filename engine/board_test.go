package engine_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

func TestBoardsAndAgendasAreChecked(t *testing.T) {
	got := problems(t, `
name: meeting
input:
  changes: {type: list}
variables:
  notes: {type: string}
initial: agenda
states:
  agenda:
    on_enter:
      - {collect: {process: meeting, into: notes}}
      - {set: {changes: []}}
    actions:
      open: {to: vote}
  vote:
    approval:
      approvers: {users: [ann, bob]}
      agenda: changes
      due: 4h
      on_timeout: approve
      approved: done
      rejected: done
  decided_elsewhere:
    approval:
      board: cab
      approvers: {users: [ann]}
      due: 1h
      on_timeout: approve
      approved: done
      rejected: done
  done: {final: true}
`)
	var msgs []string
	for _, p := range got {
		msgs = append(msgs, p.Field+": "+p.Message)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		`may not approve on timeout: undecided items are deferred`,
		`agenda names "changes", which is not a variable of type list`,
		`agenda "changes" is also an input field`,
		`sets the agenda "changes"`,
		`no collect step fills "changes"`,
		`states.agenda.on_enter[0].collect.process: a process cannot name itself here`,
		`collect into names "notes", which is not a variable of type list`,
		`states.decided_elsewhere.approval.board: an approval decided by a board has no approvers of its own`,
		`states.decided_elsewhere.approval.on_timeout: an approval decided by a board may not approve on timeout`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no problem %q in:\n%s", want, all)
		}
	}
}

// BenchmarkMeetingAgenda measures a CAB meeting of 100 changes: collecting the
// agenda and the 300 votes that decide every change (each vote is checked,
// tallied, and its decision asks for a release), reported per vote.
func BenchmarkMeetingAgenda(b *testing.B) {
	def, err := engine.Parse([]byte(`
name: cab
variables:
  changes: {type: list}
initial: agenda
states:
  agenda:
    actions:
      open:
        to: meeting
        do: [{collect: {process: change, into: changes}}]
  meeting:
    approval:
      approvers: {users: [ann, bob, cem, dan]}
      mandatory: [max]
      quorum: majority
      agenda: changes
      approved: done
      rejected: done
  done: {final: true}
`))
	if err != nil {
		b.Fatal(err)
	}
	items := make([]engine.AgendaItem, 100)
	for i := range items {
		items[i] = engine.AgendaItem{ID: fmt.Sprintf("change-%03d", i), Definition: "change", State: "authorising", StartedBy: "rita"}
	}
	system := engine.Actor{ID: "system"}
	b.ReportAllocs()
	for b.Loop() {
		in, err := engine.Start(def, "cab-1", 1, nil, engine.Actor{ID: "carl"}, "", t0)
		if err != nil {
			b.Fatal(err)
		}
		if err := in.Apply(def, engine.ActionRequest{Action: "open", Actor: system}, t0); err != nil {
			b.Fatal(err)
		}
		in.CompleteCollect(def, in.Effects[0].ID, items, "", t0)
		at := t0
		for _, it := range items {
			for _, who := range []string{"ann", "bob", "max"} {
				at = at.Add(time.Second)
				if err := in.Apply(def, engine.ActionRequest{Action: "approve", Actor: engine.Actor{ID: who}, Item: it.ID}, at); err != nil {
					b.Fatal(err)
				}
			}
		}
		if in.State != "done" {
			b.Fatalf("meeting in %s", in.State)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*300), "ns/vote")
}
