package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/checkpoint"
	"github.com/itilflow/itilflow/engine"
)

// TestAuditVerifyCatchesTamperingWithDev is the auditor's check on the real
// stack: someone with database access edits who acknowledged an incident and
// what they wrote, and removes the last audit record. `itilflow audit verify`
// names the edited events row (from the audit record made from it) and the
// removed record (from the checkpoint file dev keeps); --deep names the
// edited fields against the workflow history.
func TestAuditVerifyCatchesTamperingWithDev(t *testing.T) {
	cfg := newDevConfig(t)
	cfg.extra = []string{"--audit-checkpoint-interval", "100ms"}
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	inc := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "printer on fire"}})
	id := inc["id"].(string)
	c.must(200, "POST", "/api/v1/processes/"+id+"/actions/acknowledge", "dev-tier1", map[string]any{"comment": "on my way"})
	c.must(201, "PUT", "/api/v1/definitions/quick", "dev-process-owner", quickDefinition)

	dbURL := devDatabaseURL(t, cfg)
	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Wait until the checkpoint file vouches for the head, the publication.
	var head int64
	cps := &checkpoint.File{Path: filepath.Join(cfg.dataDir, checkpointFileName)}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if err := db.Get(&head, `SELECT max(seq) FROM audit_log`); err != nil {
			t.Fatal(err)
		}
		if cp, ok, _ := cps.Latest(); ok && cp.Seq == head {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of record %d within 10s", head)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The key and the checkpoints are found in the data directory.
	vars := env(map[string]string{"DATABASE_URL": dbURL, "ITILFLOW_DATA_DIR": cfg.dataDir,
		"TEMPORAL_ADDRESS": fmt.Sprintf("127.0.0.1:%d", cfg.temporalPort)})
	verify := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"audit", "verify"}, args...), vars, &out, testWriter{t})
		return out.String(), err
	}
	out, err := verify("--deep")
	if err != nil || !strings.Contains(out, fmt.Sprintf("checkpoint ok: record %d", head)) || !strings.Contains(out, "events ok") ||
		!strings.Contains(out, ": 0 differ, 0 without history, 0 unreadable") || strings.Contains(out, "NOT CHECKED") {
		t.Fatalf("before tampering: %v\n%s", err, out)
	}

	var seq int64
	if err := db.Get(&seq, `SELECT seq FROM events WHERE process_id = $1 AND type = 'action'`, id); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`ALTER TABLE events DISABLE TRIGGER events_append_only`,
		fmt.Sprintf(`UPDATE events SET actor = 'mallory', comment = 'nothing to see' WHERE process_id = '%s' AND seq = %d`, id, seq),
		`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`,
		fmt.Sprintf(`DELETE FROM audit_log WHERE seq = %d`, head),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	out, err = verify()
	for _, want := range []string{
		fmt.Sprintf("audit log ok: %d records", head-1), // the chain alone cannot tell
		fmt.Sprintf("checkpoint BROKEN: record %d is gone", head),
		fmt.Sprintf("events BROKEN at %s event %d: actor is \"mallory\" in events but \"tom.tier1\"", id, seq),
	} {
		if err == nil || !strings.Contains(out, want) {
			t.Errorf("after tampering, verify says (%v):\n%s\nwant %q", err, out, want)
		}
	}
	out, err = verify("--deep")
	want := fmt.Sprintf(`deep: %s differs from its history at seq %d: actor is "mallory" in the projection, "tom.tier1" in the history; `+
		`comment is "nothing to see" in the projection, "on my way" in the history`, id, seq)
	if err == nil || !strings.Contains(out, want) || !strings.Contains(out, ": 1 differ, 0 without history") {
		t.Errorf("deep verify (%v):\n%s\nwant %q", err, out, want)
	}
}

func TestFirstDifferenceNamesSeqAndFields(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	history := []engine.Event{
		{Seq: 1, At: t0, Type: engine.EventStarted, Actor: "rita", To: "new"},
		{Seq: 2, At: t0.Add(time.Minute + 400), Type: engine.EventAction, Actor: "tom", Action: "acknowledge", Data: map[string]any{"a": 1.0, "b": "x"}},
		{Seq: 3, At: t0.Add(2 * time.Minute), Type: engine.EventSLAStopped, Actor: "system", SLA: "response", Data: map[string]any{}},
	}
	same := func() []engine.Event {
		p := make([]engine.Event, len(history))
		copy(p, history)
		p[1].At = p[1].At.Round(time.Microsecond) // as PostgreSQL keeps it
		p[1].Data = map[string]any{"b": "x", "a": 1.0}
		p[2].Data = nil
		return p
	}
	for _, tc := range []struct {
		name  string
		edit  func(p []engine.Event) []engine.Event
		wants string
	}{
		{"Same", func(p []engine.Event) []engine.Event { return p }, ""},
		{"Time", func(p []engine.Event) []engine.Event { p[1].At = t0; return p }, "seq 2: time is 2026-11-23T09:00:00Z in the projection, 2026-11-23T09:01:00.0000004Z in the history"},
		{"TypeAndData", func(p []engine.Event) []engine.Event {
			p[2].Type, p[2].Data = engine.EventSLABreached, map[string]any{"x": true}
			return p
		}, `seq 3: type is "sla_breached" in the projection, "sla_stopped" in the history; data is {"x":true} in the projection, null in the history`},
		{"Missing", func(p []engine.Event) []engine.Event { return p[:1] }, "seq 2: the history has 2 event(s) the projection lacks (a projection may be in flight: run again, or itilflow reconcile)"},
		{"Extra", func(p []engine.Event) []engine.Event {
			return append(p, engine.Event{Seq: 4, Type: engine.EventAction, Actor: "mallory"})
		}, "seq 4: the projection has 1 event(s) the history lacks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := firstDifference(tc.edit(same()), history); got != tc.wants {
				t.Fatalf("got  %q\nwant %q", got, tc.wants)
			}
		})
	}
}
