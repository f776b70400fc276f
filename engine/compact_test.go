package engine_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// projector plays the workflow and the store: after each change it sends a
// compact view (or, at random, fails to store one, so the next carries its
// events too) and merges it as the store would; the merged view must be the
// full view, whatever the batches.
type projector struct {
	t        *testing.T
	r        *rand.Rand
	c        engine.Compactor
	stored   *engine.View
	opened   int64
	seq      int64
	pending  []engine.Event
	payloads []int // the size of each compact view sent
}

func (p *projector) project(def *engine.Definition, in *engine.Instance, now time.Time) {
	p.t.Helper()
	p.pending = append(p.pending, in.Pending...)
	in.Pending = nil
	full := in.View(def, now)
	compact, patch := p.c.Compact(in, full, p.pending)
	b, _ := json.Marshal(compact)
	p.payloads = append(p.payloads, len(b))
	if p.r.IntN(5) == 0 {
		return // not stored: its events go out again with the next
	}
	var fresh []engine.Event
	for _, e := range p.pending {
		if e.Seq > p.seq {
			fresh = append(fresh, e)
		}
	}
	merged := engine.MergeView(p.stored, p.opened, compact, patch, fresh)
	want, _ := json.Marshal(full)
	got, _ := json.Marshal(merged)
	if string(want) != string(got) {
		p.t.Fatalf("merged view differs from the full view at seq %d:\n got %s\nwant %s", full.Seq, got, want)
	}
	p.c.Stored(compact, patch, p.pending)
	p.stored, p.opened, p.seq, p.pending = &merged, patch.Opened, full.Seq, nil
}

func TestCompactViewsMergeBackToTheFullView(t *testing.T) {
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
      approvers: {users: [ann, bob, cem, dan]}
      mandatory: [max]
      quorum: majority
      agenda: changes
      approved: minutes
      rejected: minutes
  minutes:
    actions:
      again: {to: agenda}
      close: {to: done}
  done: {final: true}
`)
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0))
			p := &projector{t: t, r: r}
			in, err := engine.Start(def, "cab-1", 1, nil, engine.Actor{ID: "carl"}, "", t0)
			if err != nil {
				t.Fatal(err)
			}
			now := t0
			p.project(def, in, now)
			for round := 0; round < 2; round++ {
				if err := in.Apply(def, engine.ActionRequest{Action: "open", Actor: engine.System}, now); err != nil {
					t.Fatal(err)
				}
				p.project(def, in, now)
				items := make([]engine.AgendaItem, 5+r.IntN(10))
				for i := range items {
					items[i] = engine.AgendaItem{ID: fmt.Sprintf("change-%d-%03d", round, i), Definition: "change", State: "authorising",
						Title: fmt.Sprintf("Change %d", i), StartedBy: []string{"rita", "bob"}[r.IntN(2)]}
				}
				in.CompleteCollect(def, in.Effects[len(in.Effects)-1].ID, items, "", now)
				p.project(def, in, now)
				// Some items never reach a decision (a delegate's own vote is
				// refused): a few hundred votes, decided or not, is enough.
				for try := 0; try < 300 && in.State == "meeting"; try++ {
					now = now.Add(time.Minute)
					who := []string{"ann", "bob", "cem", "dan", "max"}[r.IntN(5)]
					req := engine.ActionRequest{Action: []string{"approve", "reject"}[r.IntN(2)], Actor: engine.Actor{ID: who},
						Item: items[r.IntN(len(items))].ID, Comment: fmt.Sprintf("vote %d", r.IntN(1000))}
					if r.IntN(6) == 0 { // dan votes for max under a delegation
						req.Actor, req.OnBehalfOf = engine.Actor{ID: "dan"}, &engine.Actor{ID: "max"}
					}
					if in.Apply(def, req, now) == nil {
						p.project(def, in, now)
					}
				}
				if in.State != "minutes" {
					t.Logf("round %d ended undecided after %d projections", round, len(p.payloads))
					return
				}
				if err := in.Apply(def, engine.ActionRequest{Action: "again", Actor: engine.Actor{ID: "carl"}}, now); err != nil {
					t.Fatal(err)
				}
				p.project(def, in, now)
			}
		})
	}
}

// TestApprovalVotesMergeBack: an ordinary approval, its votes only in events.
func TestApprovalVotesMergeBack(t *testing.T) {
	def := mustParse(t, approvalDef)
	p := &projector{t: t, r: rand.New(rand.NewPCG(7, 7))}
	in := start(t, def, nil)
	p.project(def, in, t0)
	for i, who := range []string{"ann", "bob"} {
		if err := vote(def, in, who, "approve", t0.Add(time.Duration(i+1)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		p.project(def, in, t0.Add(time.Duration(i+1)*time.Minute))
	}
	p.r = rand.New(rand.NewPCG(1, 1)) // store every batch from here
	if err := in.Apply(def, engine.ActionRequest{Action: "approve", Actor: engine.Actor{ID: "dan"}, OnBehalfOf: &engine.Actor{ID: "max"}}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	p.project(def, in, t0.Add(time.Hour))
}
