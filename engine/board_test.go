package engine_test

import (
	"strings"
	"testing"
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
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no problem %q in:\n%s", want, all)
		}
	}
}
