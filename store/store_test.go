package store_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/pgcluster/pgtest"
	"github.com/itilflow/itilflow/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// testKey is the audit key of the tests' stores.
var testKey = []byte("the tests' audit key: 32 bytes or more")

func open(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, pgtest.NewDatabase(t), store.WithAuditKey(testKey))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	return s
}

func TestPublishDefinitionVersions(t *testing.T) {
	s, ctx := open(t), context.Background()
	src := []byte("name: tiny\ninitial: a\nstates:\n  a: {actions: {go: {to: b}}}\n  b: {final: true}\n")
	def, err := engine.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	v1, created, err := s.PublishDefinition(ctx, def, src, "pat", "req-1")
	if err != nil || !created || v1.Version != 1 {
		t.Fatalf("first publish: %+v %v %v", v1, created, err)
	}
	again, created, err := s.PublishDefinition(ctx, def, src, "pat", "req-1")
	if err != nil || created || again.Version != 1 {
		t.Fatalf("identical publish made a new version: %+v %v %v", again, created, err)
	}
	src2 := append(src, []byte("# changed\n")...)
	v2, created, err := s.PublishDefinition(ctx, def, src2, "pat", "req-1")
	if err != nil || !created || v2.Version != 2 {
		t.Fatalf("changed publish: %+v %v %v", v2, created, err)
	}
	got, err := s.Definition(ctx, "tiny", 1)
	if err != nil || got.Hash != v1.Hash || got.Compiled.Initial != "a" {
		t.Fatalf("version 1: %+v %v", got, err)
	}
	if _, err := s.Definition(ctx, "tiny", 3); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Fatalf("missing version: %v", err)
	}
	if _, err := s.Definition(ctx, "nope", 0); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Fatalf("missing definition: %v", err)
	}
}

func TestProjectIsIdempotentAndIgnoresStaleViews(t *testing.T) {
	s, ctx := open(t), context.Background()
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	view := func(seq int64, state string) engine.View {
		return engine.View{ID: "x-000001", Definition: "x", Version: 1, State: state, Input: map[string]any{},
			StartedAt: t0, StartedBy: "rita", Seq: seq,
			SLAs: []engine.SLAView{{Name: "response", Status: engine.ClockRunning, Target: engine.Duration(time.Hour), StartedAt: t0}}}
	}
	ev := func(seq int64, typ string, data map[string]any) engine.Event {
		return engine.Event{Seq: seq, At: t0.Add(time.Duration(seq) * time.Minute), Type: typ, Actor: "system", Data: data}
	}
	e1, e2 := ev(1, engine.EventStarted, nil), ev(2, engine.EventNotification, map[string]any{"role": "incident-manager", "message": "late"})
	if err := s.Project(ctx, view(2, "in_progress"), []engine.Event{e1, e2}); err != nil {
		t.Fatal(err)
	}
	// A retry of the same projection, then a stale one, change nothing.
	if err := s.Project(ctx, view(2, "in_progress"), []engine.Event{e1, e2}); err != nil {
		t.Fatal(err)
	}
	if err := s.Project(ctx, view(1, "new"), []engine.Event{e1}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Process(ctx, "x-000001")
	if err != nil || got.State != "in_progress" || got.Seq != 2 {
		t.Fatalf("process %+v %v", got, err)
	}
	events, err := s.Events(ctx, "x-000001")
	if err != nil || len(events) != 2 || events[1].Data["role"] != "incident-manager" {
		t.Fatalf("events %+v %v", events, err)
	}
	notes, err := s.NotificationsFor(ctx, store.Viewer{ID: "ivy", Roles: []string{"incident-manager", "auditor"}}, 10)
	if err != nil || len(notes) != 1 || notes[0].Message != "late" {
		t.Fatalf("notifications %+v %v", notes, err)
	}
	list, total, err := s.ProcessesFor(ctx, store.Viewer{ID: "audrey", Roles: []string{"auditor"}}, store.ProcessFilter{Definition: "x", State: "in_progress", Limit: 10})
	if err != nil || total != 1 || len(list) != 1 {
		t.Fatalf("list %v %d %v", list, total, err)
	}
	for _, c := range []struct {
		ids  []string
		want int
	}{{nil, 1}, {[]string{"x-000001", "x-000009"}, 1}, {[]string{"x-000009"}, 0}, {[]string{}, 0}} {
		_, total, err := s.ProcessesFor(ctx, store.Viewer{ID: "audrey", Roles: []string{"auditor"}}, store.ProcessFilter{IDs: c.ids, Limit: 10})
		if err != nil || total != c.want {
			t.Errorf("IDs %#v: %d processes (%v), want %d", c.ids, total, err, c.want)
		}
	}
}

func TestUnavailableDatabaseIsReportedAsSuch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := store.Open(ctx, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if engine.ErrorCode(err) != engine.EUNAVAILABLE {
		t.Fatalf("got %v, want %s", err, engine.EUNAVAILABLE)
	}
}

func TestTokensAreCheckedByDigest(t *testing.T) {
	s, ctx := open(t), context.Background()
	if err := s.UpsertUser(ctx, store.User{ID: "sam", Name: "Sam", Roles: []string{"service-desk"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToken(ctx, "sam", "s3cret", "test"); err != nil {
		t.Fatal(err)
	}
	u, err := s.UserByToken(ctx, "s3cret")
	if err != nil || u.ID != "sam" || u.Roles[0] != "service-desk" {
		t.Fatalf("user %+v %v", u, err)
	}
	if _, err := s.UserByToken(ctx, "wrong"); engine.ErrorCode(err) != engine.EUNAUTHORIZED {
		t.Fatalf("wrong token: %v", err)
	}
}

func TestSessionsExpireAndAreKeyedByDigest(t *testing.T) {
	s, ctx := open(t), context.Background()
	ss := s.Sessions()
	if err := ss.CommitCtx(ctx, "live-token", []byte("a"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := ss.CommitCtx(ctx, "old-token", []byte("b"), time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if data, ok, err := ss.FindCtx(ctx, "live-token"); err != nil || !ok || string(data) != "a" {
		t.Fatalf("live session: %q %v %v", data, ok, err)
	}
	if _, ok, err := ss.FindCtx(ctx, "old-token"); err != nil || ok {
		t.Fatalf("an expired session was found: %v %v", ok, err)
	}
	if _, ok, _ := ss.FindCtx(ctx, store.TokenDigest("live-token")); ok {
		t.Fatal("the stored key opens the session: a reader of the table could take it over")
	}
	if n, err := ss.DeleteExpired(ctx); err != nil || n != 1 {
		t.Fatalf("DeleteExpired: %d %v, want 1", n, err)
	}
	if err := ss.DeleteCtx(ctx, "live-token"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := ss.FindCtx(ctx, "live-token"); ok {
		t.Fatal("a deleted session was found")
	}
}

func TestProcessesFilterByAssignmentAndText(t *testing.T) {
	s, ctx := open(t), context.Background()
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	if err := s.UpsertUser(ctx, store.User{ID: "tom", Name: "Tom", Roles: []string{"tier1"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveGroup(ctx, store.Group{ID: "network-team", Name: "Network", Members: []string{"tom"}}, "test"); err != nil {
		t.Fatal(err)
	}
	put := func(id, title string, vars map[string]any, at time.Time) {
		t.Helper()
		v := engine.View{ID: id, Definition: "x", Version: 1, State: "open", Seq: 1, StartedAt: at, StartedBy: "rita",
			Input: map[string]any{"title": title, "description": "Reported by the front desk", "ci": "sw-core-1"}, Vars: vars}
		if err := s.Project(ctx, v, []engine.Event{{Seq: 1, At: at, Type: engine.EventStarted, Actor: "rita", To: "open"}}); err != nil {
			t.Fatal(err)
		}
	}
	put("x-000001", "Mail server down", map[string]any{"assignee": "tom"}, t0)
	put("x-000002", "邮件服务器宕机", map[string]any{"assignment_group": "network-team"}, t0.Add(time.Hour))
	put("x-000003", "Printer jams", map[string]any{"assignment_group": "tier1"}, t0.Add(2*time.Hour))
	tom := store.Viewer{ID: "tom", Roles: []string{"auditor", "tier1"}}
	from := t0.Add(30 * time.Minute)
	for _, c := range []struct {
		name string
		f    store.ProcessFilter
		want []string
	}{
		{"Mine", store.ProcessFilter{Assignee: "tom"}, []string{"x-000001"}},
		{"Unassigned", store.ProcessFilter{Unassigned: true}, []string{"x-000002", "x-000003"}},
		{"MyGroupsAndRoles", store.ProcessFilter{MyGroups: true}, []string{"x-000002", "x-000003"}},
		{"Words", store.ProcessFilter{Text: "mail DOWN"}, []string{"x-000001"}},
		{"WordsInTheDescription", store.ProcessFilter{Text: "front desk"}, []string{"x-000001", "x-000002", "x-000003"}},
		{"Chinese", store.ProcessFilter{Text: "服务器"}, []string{"x-000002"}},
		{"LikeIsEscaped", store.ProcessFilter{Text: "100%"}, nil},
		{"StartedFrom", store.ProcessFilter{StartedFrom: &from}, []string{"x-000002", "x-000003"}},
		{"CI", store.ProcessFilter{CI: "sw-core-1", StartedBy: "rita"}, []string{"x-000001", "x-000002", "x-000003"}},
	} {
		c.f.Limit = 10
		list, total, err := s.ProcessesFor(ctx, tom, c.f)
		var got []string
		for _, v := range list {
			got = append(got, v.ID)
		}
		slices.Sort(got)
		if err != nil || !slices.Equal(got, c.want) || total != len(c.want) {
			t.Errorf("%s: %v (total %d) %v, want %v", c.name, got, total, err, c.want)
		}
	}
}
