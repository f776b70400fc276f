package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

const ticketDefinition = `
name: ticket
input:
  title: {type: string, required: true}
  caller: {type: user}
initial: open
states:
  open:
    actions:
      resolve: {to: closed, roles: [tier1]}
      reopen: {to: open, roles: [$started_by, requester]}
  closed: {final: true}
`

func TestVisibilityRule(t *testing.T) {
	s, ctx := open(t), context.Background()
	def, err := engine.Parse([]byte(ticketDefinition))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PublishDefinition(ctx, def, []byte(ticketDefinition), "pat", ""); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	project := func(id, by string, input map[string]any, events ...engine.Event) {
		t.Helper()
		v := engine.View{ID: id, Definition: "ticket", Version: 1, State: "open", Input: input, StartedAt: t0, StartedBy: by, Seq: int64(len(events)), SLAs: []engine.SLAView{}}
		if err := s.Project(ctx, v, events); err != nil {
			t.Fatal(err)
		}
	}
	started := func(by string) engine.Event {
		return engine.Event{Seq: 1, At: t0, Type: engine.EventStarted, Actor: by}
	}
	project("ticket-000001", "rita", map[string]any{"title": "Printer", "caller": "cal"}, started("rita"))
	project("ticket-000002", "rick", map[string]any{"title": "Mail"}, started("rick"),
		engine.Event{Seq: 2, At: t0, Type: engine.EventAction, Actor: "sam", Action: "reopen"})

	cases := []struct {
		who     store.Viewer
		visible []string
	}{
		{store.Viewer{ID: "rita", Roles: []string{"requester"}}, []string{"ticket-000001"}},
		{store.Viewer{ID: "rick", Roles: []string{"requester"}}, []string{"ticket-000002"}},
		{store.Viewer{ID: "cal", Roles: []string{"requester"}}, []string{"ticket-000001"}},    // named in a user field
		{store.Viewer{ID: "sam", Roles: []string{"service-desk"}}, []string{"ticket-000002"}}, // acted on it
		{store.Viewer{ID: "tom", Roles: []string{"tier1"}}, []string{"ticket-000001", "ticket-000002"}},
		{store.Viewer{ID: "audrey", Roles: []string{"auditor"}}, []string{"ticket-000001", "ticket-000002"}},
		{store.Viewer{ID: "nobody"}, nil},
	}
	for _, c := range cases {
		t.Run(c.who.ID, func(t *testing.T) {
			list, total, err := s.ProcessesFor(ctx, c.who, store.ProcessFilter{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, v := range list {
				ids = append(ids, v.ID)
			}
			slices.Sort(ids)
			if !slices.Equal(ids, c.visible) || total != len(c.visible) {
				t.Fatalf("sees %v (total %d), want %v", ids, total, c.visible)
			}
			for _, id := range []string{"ticket-000001", "ticket-000002"} {
				_, err := s.ProcessFor(ctx, c.who, id)
				if want := slices.Contains(c.visible, id); (err == nil) != want {
					t.Errorf("ProcessFor %s: %v, want visible=%v", id, err, want)
				}
				if err != nil && (engine.ErrorCode(err) != engine.ENOTFOUND || !strings.Contains(err.Error(), "no process")) {
					t.Errorf("a hidden process must read as absent: %v", err)
				}
			}
		})
	}
	t.Run("ADelegateSeesWhatTheDelegatorSees", func(t *testing.T) {
		for _, u := range []string{"rita", "dora"} {
			if err := s.UpsertUser(ctx, store.User{ID: u, Name: u, Roles: []string{}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AddDelegation(ctx, store.Delegation{From: "rita", To: "dora", StartsAt: time.Now().Add(-time.Hour),
			EndsAt: time.Now().Add(time.Hour), CreatedBy: "rita"}, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ProcessFor(ctx, store.Viewer{ID: "dora"}, "ticket-000001"); err != nil {
			t.Fatalf("the delegate does not see it: %v", err)
		}
	})
	t.Run("NotificationsOfHiddenProcessesAreHidden", func(t *testing.T) {
		project("ticket-000003", "rick", map[string]any{"title": "VPN"}, started("rick"),
			engine.Event{Seq: 2, At: t0, Type: engine.EventNotification, Actor: "system", Data: map[string]any{"role": "requester", "message": "about rick's VPN"}})
		notes, err := s.NotificationsFor(ctx, store.Viewer{ID: "rita", Roles: []string{"requester"}}, 10)
		if err != nil || len(notes) != 0 {
			t.Fatalf("rita reads %+v (%v)", notes, err)
		}
		notes, err = s.NotificationsFor(ctx, store.Viewer{ID: "rick", Roles: []string{"requester"}}, 10)
		if err != nil || len(notes) != 1 {
			t.Fatalf("rick reads %+v (%v)", notes, err)
		}
	})
}

func TestProjectRefusesTextTheDatabaseCannotHold(t *testing.T) {
	s, ctx := open(t), context.Background()
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	v := engine.View{ID: "x-000001", Definition: "x", Version: 1, State: "new", Input: map[string]any{"title": "a\x00b"},
		StartedAt: t0, StartedBy: "rita", Seq: 1, SLAs: []engine.SLAView{}}
	err := s.Project(ctx, v, []engine.Event{{Seq: 1, At: t0, Type: engine.EventStarted, Actor: "rita"}})
	if engine.ErrorCode(err) != engine.EINVALID || !strings.Contains(err.Error(), "input.title") {
		t.Fatalf("got %v, want EINVALID naming input.title", err)
	}
	v.Input["title"] = "ab"
	err = s.Project(ctx, v, []engine.Event{{Seq: 1, At: t0, Type: engine.EventStarted, Actor: "rita", Comment: "x\x00"}})
	if engine.ErrorCode(err) != engine.EINVALID {
		t.Fatalf("a NUL in a comment: %v", err)
	}
}

// TestStoreRefusesTextItCannotHold: whatever a caller passes, a text
// argument the database cannot take is invalid input, not a database failure.
func TestStoreRefusesTextItCannotHold(t *testing.T) {
	s, ctx := open(t), context.Background()
	for _, bad := range []string{"a\x00b", "caf\xe9"} {
		err := s.SaveUser(ctx, store.User{ID: "ok.id", Name: bad, Roles: []string{}}, "admin")
		if engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("a name %q: %v, want EINVALID", bad, err)
		}
		if _, err := s.ProcessFor(ctx, store.Viewer{ID: bad}, "x-1"); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("a viewer %q: %v, want EINVALID", bad, err)
		}
	}
}

// TestAMeetingCollectsAtMostMaxAgenda: the oldest changes waiting for a board
// make its agenda; the rest wait for the next meeting.
func TestAMeetingCollectsAtMostMaxAgenda(t *testing.T) {
	s, ctx := open(t), context.Background()
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for i := 0; i < engine.MaxAgenda+10; i++ {
		v := engine.View{ID: fmt.Sprintf("chg-%06d", i), Definition: "chg", Version: 1, State: "authorising", Input: map[string]any{},
			StartedAt: t0.Add(time.Duration(i) * time.Minute), StartedBy: "rita", Seq: 1, SLAs: []engine.SLAView{},
			Approval: &engine.ApprovalView{Board: "cab", Votes: []engine.Vote{}}}
		if err := s.Project(ctx, v, []engine.Event{{Seq: 1, At: v.StartedAt, Type: engine.EventStarted, Actor: "system"}}); err != nil {
			t.Fatal(err)
		}
	}
	items, err := s.AwaitingBoard(ctx, "chg", "cab")
	if err != nil || len(items) != engine.MaxAgenda || items[0].ID != "chg-000000" || items[len(items)-1].ID != fmt.Sprintf("chg-%06d", engine.MaxAgenda-1) {
		t.Fatalf("%d items (%v), want the %d oldest", len(items), err, engine.MaxAgenda)
	}
}
