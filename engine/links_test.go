package engine_test

import (
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

const parentDef = `
name: problem
input:
  title: {type: string, required: true}
initial: open
states:
  open:
    on_enter:
      - start: {process: change, input: {reason: "= input.title"}, on_end: change_done}
    actions:
      change_done: {to: fixed}
  fixed: {final: true}
`

// A child that ends at once can signal its end before the parent hears that
// the start succeeded: the end is kept until then, and on_end is taken.
func TestAChildsEndBeforeItsLinkIsKept(t *testing.T) {
	for _, c := range []struct {
		name  string
		level int
		state string
	}{
		{"Kept", engine.CurrentLevel, "fixed"},
		{"DroppedBeforeTheLevel", engine.LevelChildEndsKept - 1, "open"},
	} {
		t.Run(c.name, func(t *testing.T) {
			def := mustParse(t, parentDef)
			def.Level = c.level
			in, err := engine.Start(def, "problem-000001", 1, map[string]any{"title": "disks"}, requester, "", t0)
			if err != nil {
				t.Fatal(err)
			}
			if len(in.Effects) != 1 || in.Effects[0].Start == nil {
				t.Fatalf("effects %+v, want the start", in.Effects)
			}
			in.ChildEnded(def, "change-000042", "closed", t0.Add(time.Second))
			in.CompleteStart(def, in.Effects[0].ID, "change-000042", "", t0.Add(2*time.Second))
			if in.State != c.state {
				t.Fatalf("state %s, want %s", in.State, c.state)
			}
		})
	}
	t.Run("AnUnknownChildIsNotKeptForever", func(t *testing.T) {
		def := mustParse(t, parentDef)
		in, _ := engine.Start(def, "problem-000001", 1, map[string]any{"title": "disks"}, requester, "", t0)
		in.CompleteStart(def, in.Effects[0].ID, "change-000042", "", t0)
		in.ChildEnded(def, "change-999999", "closed", t0) // no start is pending
		if len(in.EarlyEnds) != 0 {
			t.Fatalf("kept %+v", in.EarlyEnds)
		}
	})
}
