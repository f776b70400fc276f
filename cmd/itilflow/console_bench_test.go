package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

// benchProcesses is how many processes the console's benchmark puts in
// PostgreSQL before it times pages.
const benchProcesses = 10_000

// BenchmarkConsolePages times the console's pages on a running dev whose
// PostgreSQL holds benchProcesses incidents and changes, as people open them:
// the queue of an agent and of an auditor (who sees everything), a filtered
// queue, a process page, the approvals inbox and a start form. It reports the
// median and the 95th percentile of the time each page takes to answer.
//
//	go test ./cmd/itilflow -run '^$' -bench ConsolePages -benchtime 200x
func BenchmarkConsolePages(b *testing.B) {
	cfg := newDevConfig(b)
	startInProcess(b, cfg)
	ids := seedProcesses(b, cfg, benchProcesses)
	pages := []struct{ name, token, path string }{
		{"QueueAgent", "dev-tier1", "/queue"},
		{"QueueAuditor", "dev-auditor", "/queue"},
		{"QueueBreachedIncidents", "dev-service-desk", "/queue?definition=incident&breached=on"},
		{"QueueLastPage", "dev-tier1", "/queue?page=200"},
		{"Process", "dev-tier1", "/processes/" + ids[len(ids)/2]},
		{"Approvals", "dev-change-manager", "/approvals"},
		{"StartForm", "dev-tier1", "/start/incident"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			cc := signInConsole(b, cfg.httpAddr, p.token)
			cc.get(p.path) // warm: templates, definitions, the connection
			times := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if status, body := cc.get(p.path); status != 200 {
					b.Fatalf("%s: %d %.200s", p.path, status, body)
				}
				times = append(times, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}

// seedProcesses stores n processes through the projection, as workflows
// would have: incidents of every priority in every state, and normal changes
// waiting in assessment. They have no workflows (the pages timed read only
// PostgreSQL). It returns their ids.
func seedProcesses(b *testing.B, cfg devConfig, n int) []string {
	b.Helper()
	ctx := context.Background()
	keys, err := readAuditKeyFile(filepath.Join(cfg.dataDir, auditKeyFileName))
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(ctx, devDatabaseURL(b, cfg), store.WithAuditKey(keys[0]))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	incident, err := st.Definition(ctx, "incident", 0)
	if err != nil {
		b.Fatal(err)
	}
	change, err := st.Definition(ctx, "change-normal", 0)
	if err != nil {
		b.Fatal(err)
	}
	sam := engine.Actor{ID: "sam.desk", Roles: []string{"service-desk"}}
	carl := engine.Actor{ID: "carl.change", Roles: []string{"change-manager"}}
	priorities := []string{"P1", "P2", "P3", "P4"}
	t0 := time.Now().Add(-30 * 24 * time.Hour)
	ids := make([]string, 0, n)
	began := time.Now()
	for i := range n {
		at := t0.Add(time.Duration(i) * 30 * 24 * time.Hour / time.Duration(n))
		var (
			in  *engine.Instance
			def *engine.Definition
			err error
		)
		if i%10 == 9 {
			def = &change.Compiled
			in, err = engine.Start(def, fmt.Sprintf("change-normal-b%06d", i), change.Version,
				map[string]any{"title": fmt.Sprintf("Change %d", i), "change_type": "network"}, engine.Actor{ID: "rita.requester", Roles: []string{"requester"}}, "", at)
			if err == nil {
				err = in.Apply(def, engine.ActionRequest{Action: "accept", Actor: carl}, at.Add(time.Minute))
			}
		} else {
			def = &incident.Compiled
			in, err = engine.Start(def, fmt.Sprintf("incident-b%06d", i), incident.Version,
				map[string]any{"title": fmt.Sprintf("Incident %d: mail is slow", i), "priority": priorities[i%4],
					"description": "Users on floor " + fmt.Sprint(i%9) + " report it."}, sam, "", at)
			for _, step := range []string{"acknowledge", "resolve", "waive_knowledge", "close"}[:i%5] {
				if err != nil {
					break
				}
				input := map[string]any{}
				switch step {
				case "resolve":
					input["resolution"] = "Restarted the relay."
				case "waive_knowledge":
					input["knowledge_waiver"] = "A relay restart needs no article."
				}
				err = in.Apply(def, engine.ActionRequest{Action: step, Actor: sam, Input: input}, at.Add(10*time.Minute))
			}
		}
		if err != nil {
			b.Fatalf("process %d: %v", i, err)
		}
		if err := st.Project(ctx, in.View(def, time.Now()), in.Pending); err != nil {
			b.Fatalf("storing process %d: %v", i, err)
		}
		ids = append(ids, in.ID)
	}
	b.Logf("stored %d processes in %v", n, time.Since(began).Round(time.Second))
	return ids
}
