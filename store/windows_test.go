package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

func TestConfigurationItemWindows(t *testing.T) {
	s, ctx := open(t), context.Background()
	t0 := time.Date(2027, 2, 1, 20, 0, 0, 0, time.UTC)
	for _, id := range []string{"change-000001", "change-000002"} {
		v := engine.View{ID: id, Definition: "change", Version: 1, State: "scheduling", Input: map[string]any{}, StartedAt: t0, StartedBy: "rita", Seq: 1, SLAs: []engine.SLAView{}}
		if err := s.Project(ctx, v, []engine.Event{{Seq: 1, At: t0, Type: engine.EventStarted, Actor: "rita"}}); err != nil {
			t.Fatal(err)
		}
	}
	w := func(id string, from, to int) store.CIWindow {
		return store.CIWindow{ProcessID: id, CI: "db-1", StartsAt: t0.Add(time.Duration(from) * time.Hour), EndsAt: t0.Add(time.Duration(to) * time.Hour)}
	}
	if c, prev, err := s.ReserveWindow(ctx, w("change-000001", 0, 3)); c != nil || prev != nil || err != nil {
		t.Fatalf("first: %v %v %v", c, prev, err)
	}
	if c, _, _ := s.ReserveWindow(ctx, w("change-000002", 2, 4)); c == nil || c.ProcessID != "change-000001" {
		t.Fatalf("overlap not refused: %v", c)
	}
	// Rescheduling replaces the reservation; a failed rescheduling puts it back.
	_, prev, _ := s.ReserveWindow(ctx, w("change-000001", 5, 6))
	if prev == nil || !prev.EndsAt.Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("prev = %v", prev)
	}
	if err := s.RestoreWindow(ctx, w("change-000001", 5, 6), prev); err != nil {
		t.Fatal(err)
	}
	if c, _, _ := s.ReserveWindow(ctx, w("change-000002", 2, 4)); c == nil {
		t.Fatal("the restored window no longer blocks")
	}
	// An ended process releases its item.
	end := t0.Add(time.Hour)
	v := engine.View{ID: "change-000001", Definition: "change", Version: 1, State: "closed", Input: map[string]any{}, StartedAt: t0, StartedBy: "rita", Seq: 2, EndedAt: &end, SLAs: []engine.SLAView{}}
	if err := s.Project(ctx, v, []engine.Event{{Seq: 2, At: end, Type: engine.EventEnded, Actor: "system"}}); err != nil {
		t.Fatal(err)
	}
	if c, _, err := s.ReserveWindow(ctx, w("change-000002", 2, 4)); c != nil || err != nil {
		t.Fatalf("after the end: %v %v", c, err)
	}
}
