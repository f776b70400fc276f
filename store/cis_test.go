package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

func TestCIs(t *testing.T) {
	s, ctx := open(t), context.Background()

	t.Run("ImportsChildrenBeforeTheirParents", func(t *testing.T) {
		n, err := s.SaveCIs(ctx, []store.CI{
			{ID: "blade-7", Name: "Blade 7", Type: "server", Parent: "chassis-1"},
			{ID: "chassis-1", Name: "Chassis 1", Type: "chassis", Location: "DC1 row 4"},
		}, "cli:root")
		if err != nil || n != 2 {
			t.Fatalf("saved %d, %v", n, err)
		}
		c, err := s.CIByID(ctx, "blade-7")
		if err != nil || c.Parent != "chassis-1" || c.Type != "server" || c.UpdatedBy != "cli:root" {
			t.Fatalf("%+v %v", c, err)
		}
	})
	t.Run("SavesNothingTwice", func(t *testing.T) {
		n, err := s.SaveCIs(ctx, []store.CI{{ID: "chassis-1", Name: "Chassis 1", Type: "chassis", Location: "DC1 row 4"}}, "ada")
		if err != nil || n != 0 {
			t.Fatalf("saved %d, %v", n, err)
		}
	})
	t.Run("RefusesAnUnknownParentNamingIt", func(t *testing.T) {
		_, err := s.SaveCIs(ctx, []store.CI{{ID: "sw-1", Name: "Switch"}, {ID: "sw-2", Parent: "rack-9"}}, "ada")
		e, ok := err.(*engine.Error)
		if !ok || e.Code != engine.EINVALID || len(e.Details) != 1 || e.Details[0].Field != "items[1].parent" {
			t.Fatalf("%v", err)
		}
		if _, err := s.CIByID(ctx, "sw-1"); engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Fatalf("an import that failed saved an item: %v", err)
		}
	})
	t.Run("RefusesTextTheGateRefuses", func(t *testing.T) {
		_, err := s.SaveCIs(ctx, []store.CI{{ID: "sw-3", Name: "bad\x00name"}}, "ada")
		if e, ok := err.(*engine.Error); !ok || e.Code != engine.EINVALID || e.Details[0].Field != "name" {
			t.Fatalf("%v", err)
		}
	})
	t.Run("ProcessesOnCIAreWhatARuleCounts", func(t *testing.T) {
		t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		put := func(id, definition, ci string, at time.Time) {
			t.Helper()
			v := engine.View{ID: id, Definition: definition, Version: 1, State: "new", Seq: 1, StartedAt: at, StartedBy: "rita",
				Input: map[string]any{"title": id, "ci": ci}, Vars: map[string]any{}}
			if err := s.Project(ctx, v, []engine.Event{{Seq: 1, At: at, Type: engine.EventStarted, Actor: "rita", To: "new"}}); err != nil {
				t.Fatal(err)
			}
		}
		put("incident-000009", "incident", "blade-7", t0.Add(-40*24*time.Hour)) // outside the window
		put("incident-000012", "incident", "blade-7", t0.Add(2*time.Hour))
		put("incident-000011", "incident", "blade-7", t0.Add(time.Hour))
		put("incident-000013", "incident", "chassis-1", t0.Add(3*time.Hour)) // another item
		put("problem-000014", "problem", "blade-7", t0.Add(4*time.Hour))     // another definition
		put("incident-000015", "incident", "blade-7", t0.Add(5*time.Hour))   // the one counting
		ids, err := s.ProcessesOnCI(ctx, "incident", "blade-7", t0.Add(-30*24*time.Hour), "incident-000015")
		if err != nil || !slices.Equal(ids, []string{"incident-000011", "incident-000012"}) {
			t.Fatalf("%v %v, want the two others on the item in the window, oldest first", ids, err)
		}
	})
	t.Run("ListsByParentAndReportsMissing", func(t *testing.T) {
		items, total, err := s.CIs(ctx, store.CIFilter{Parent: "chassis-1"})
		if err != nil || total != 1 || items[0].ID != "blade-7" {
			t.Fatalf("%+v %d %v", items, total, err)
		}
		missing, err := s.MissingCIs(ctx, []string{"blade-7", "nope", "chassis-1"})
		if err != nil || len(missing) != 1 || missing[0] != "nope" {
			t.Fatalf("%v %v", missing, err)
		}
	})
}
