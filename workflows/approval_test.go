package workflows_test

import (
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// Approvals through the real workflow in the SDK's time-skipping environment:
// the quorum kinds and timeout outcomes the shipped definitions do not use.

func approvalDefinition(t *testing.T, quorum, onTimeout string) engine.Definition {
	def, err := engine.Parse([]byte(`
name: vote
initial: authorise
states:
  authorise:
    approval:
      approvers: {users: [ann, bob, cem]}
      quorum: ` + quorum + `
      due: 4h
      on_timeout: ` + onTimeout + `
      approved: approved
      rejected: rejected
  approved: {final: true}
  rejected: {final: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	return *def
}

func TestQuorumAllNeedsEveryone(t *testing.T) {
	h := newHarness(t)
	for i, who := range []string{"ann", "bob", "cem"} {
		h.at(time.Duration(i+1)*time.Minute, "approve", engine.Actor{ID: who}, nil, nil)
	}
	v := h.run(approvalDefinition(t, "all", "reject"), nil)
	decided := h.store.find(engine.EventApprovalDecided, "")
	if v.State != "approved" || len(decided) != 1 || !decided[0].At.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("state %s, decisions %+v", v.State, decided)
	}
}

func TestQuorumAllRejectsOnOneNo(t *testing.T) {
	h := newHarness(t)
	h.at(time.Minute, "approve", engine.Actor{ID: "ann"}, nil, nil)
	h.at(2*time.Minute, "reject", engine.Actor{ID: "bob"}, nil, nil)
	v := h.run(approvalDefinition(t, "all", "reject"), nil)
	if decided := h.store.find(engine.EventApprovalDecided, ""); v.State != "rejected" || len(decided) != 1 || !decided[0].At.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("state %s, decisions %+v", v.State, decided)
	}
}

func TestTimeoutApproves(t *testing.T) {
	h := newHarness(t)
	h.at(time.Minute, "approve", engine.Actor{ID: "ann"}, nil, nil)
	v := h.run(approvalDefinition(t, "majority", "approve"), nil)
	decided := h.store.find(engine.EventApprovalDecided, "")
	if v.State != "approved" || len(decided) != 1 || decided[0].Data["timeout"] != true || !decided[0].At.Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("state %s, decisions %+v", v.State, decided)
	}
	// The approvers who had not voted were reminded at 75% of the due time.
	reminded := 0
	for _, n := range h.store.find(engine.EventNotification, "") {
		if n.At.Equal(t0.Add(3 * time.Hour)) {
			reminded++
		}
	}
	if reminded != 2 {
		t.Fatalf("%d reminders at 3h, want 2 (bob and cem)", reminded)
	}
}
