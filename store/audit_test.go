package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/pgcluster/pgtest"
	"github.com/itilflow/itilflow/store"
)

// seedAudit publishes n versions of a definition, each of which appends one record.
func seedAudit(t *testing.T, s *store.Store, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		src := []byte(fmt.Sprintf("name: tiny\ninitial: a\nstates:\n  a: {actions: {go: {to: b}}}\n  b: {final: true}\n# v%d\n", i))
		def, err := engine.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.PublishDefinition(context.Background(), def, src, "pat", fmt.Sprintf("req-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
}

func openWithURL(t *testing.T) (*store.Store, *sqlx.DB) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	s, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	raw, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return s, raw
}

func TestAuditChainRecordsChangesOnce(t *testing.T) {
	s, _ := openWithURL(t)
	ctx := context.Background()
	seedAudit(t, s, 2)
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	v := engine.View{ID: "x-000001", Definition: "tiny", Version: 1, State: "b", Input: map[string]any{"title": "t"}, StartedAt: t0, StartedBy: "rita", Seq: 3}
	events := []engine.Event{
		{Seq: 1, At: t0, Type: engine.EventStarted, Actor: "rita", RequestID: "r1"},
		{Seq: 2, At: t0.Add(time.Minute), Type: engine.EventAction, Actor: "sam", Action: "go", From: "a", To: "b", RequestID: "r2"},
		{Seq: 3, At: t0.Add(time.Minute), Type: engine.EventEnded, Actor: "system"},
	}
	for i := 0; i < 2; i++ { // a retried projection appends nothing new
		if err := s.Project(ctx, v, events); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := s.Audit(ctx, store.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Actor+" "+r.Action+" "+r.Target+" "+r.RequestID)
	}
	want := []string{"pat publish_definition definition:tiny@1 req-0", "pat publish_definition definition:tiny@2 req-1",
		"rita start_process process:x-000001 r1", "sam action:go process:x-000001 r2"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	v2, err := s.VerifyAudit(ctx)
	if err != nil || !v2.OK || v2.Records != 4 || v2.Head != recs[3].Hash {
		t.Fatalf("verify %+v %v", v2, err)
	}
	if actions, _ := s.Audit(ctx, store.AuditFilter{Action: "action", Limit: 10}); len(actions) != 1 {
		t.Fatalf("filter by action family: %v", actions)
	}
}

func TestAuditLogRefusesUpdateAndDelete(t *testing.T) {
	s, raw := openWithURL(t)
	seedAudit(t, s, 1)
	for _, q := range []string{`UPDATE audit_log SET actor = 'mallory'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		if _, err := raw.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: got %v, want refusal", q, err)
		}
	}
}

func TestAuditVerifyNamesTheTamperedRecord(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper []string
		seq    int64
		says   string
	}{
		{"Altered", []string{`UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`}, 3, "altered"},
		{"Removed", []string{`DELETE FROM audit_log WHERE seq = 2`}, 2, "missing"},
		{"HashReplaced", []string{`UPDATE audit_log SET hash = 'forged' WHERE seq = 2`}, 2, "altered"},
		{"InsertedOutOfOrder", []string{`UPDATE audit_log SET seq = seq + 10 WHERE seq >= 3`,
			`INSERT INTO audit_log (seq, at, actor, action, target, payload_digest, prev_hash, hash) SELECT 3, at, actor, action, target, payload_digest, 'x', 'y' FROM audit_log WHERE seq = 1`}, 3, "does not follow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, raw := openWithURL(t)
			seedAudit(t, s, 5)
			stmts := append([]string{`ALTER TABLE audit_log DISABLE TRIGGER USER`}, tc.tamper...)
			for _, q := range stmts {
				if _, err := raw.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			v, err := s.VerifyAudit(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if v.OK || v.FirstBad != tc.seq || !strings.Contains(v.Problem, tc.says) {
				t.Fatalf("verify = %+v, want record %d %s", v, tc.seq, tc.says)
			}
		})
	}
}
