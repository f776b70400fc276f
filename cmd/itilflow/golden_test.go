package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/itilflow/itilflow/history"
	"github.com/itilflow/itilflow/workflows"
)

var updateGolden = flag.Bool("update-golden", false, "record the golden scenarios that testdata/histories does not have yet")

// fastMajorIncident is the shipped major incident with its durations in seconds:
// response 1s, restoration 3s, hourly reports every 1s, the fault report after 2s.
func fastMajorIncident(t *testing.T) string {
	src, err := os.ReadFile("../../definitions/major-incident.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := string(src)
	for old, repl := range map[string]string{
		"target: 30m":  "target: 1s",
		"target: 2h":   "target: 3s",
		"every: 1h":    "every: 1s",
		"- every: 3d ": "- every: 2s ",
	} {
		if !strings.Contains(out, old) {
			t.Fatalf("major-incident.yaml no longer contains %q: update fastMajorIncident", old)
		}
		out = strings.Replace(out, old, repl, 1)
	}
	return out
}

// fastIncident is the shipped incident definition with every duration shrunk to
// seconds, so the golden scenarios take every path of the real definition in a
// few seconds of wall time: response 1s, resolution 6s, observation 2s.
func fastIncident(t *testing.T) string {
	src, err := os.ReadFile("../../definitions/incident.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := string(src)
	for old, repl := range map[string]string{
		"targets: {P1: 30m, P2: 30m, P3: 2h, P4: 4h}": "targets: {P1: 1s, P2: 1s, P3: 1s, P4: 1s}",
		"targets: {P1: 2h, P2: 4h, P3: 1d, P4: 3d}":   "targets: {P1: 6s, P2: 6s, P3: 6s, P4: 6s}",
		"- after: 7d": "- after: 2s",
	} {
		if !strings.Contains(out, old) {
			t.Fatalf("incident.yaml no longer contains %q: update fastIncident", old)
		}
		out = strings.Replace(out, old, repl, 1)
	}
	return out
}

// TestGoldenHistories drives the incident process through every timer and action
// path on the real stack, and replays each resulting history against the current
// code. With -update-golden it stores them in testdata/histories, where the
// workflows package replays them on every test run.
func TestGoldenHistories(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	c.must(201, "PUT", "/api/v1/definitions/incident", "dev-process-owner", fastIncident(t))
	c.must(201, "PUT", "/api/v1/definitions/major-incident", "dev-process-owner", fastMajorIncident(t))

	type step struct {
		after  time.Duration // since the previous step
		action string
		token  string
		input  map[string]any
		status int
	}
	scenarios := map[string][]step{
		// response breach → escalation (notify + set tier), resolve in time, and the
		// observation timer closes the incident by itself.
		"incident-breach-autoclose": {
			{1500 * time.Millisecond, "acknowledge", "dev-tier1", nil, 200},
			{0, "resolve", "dev-tier1", map[string]any{"resolution": "rebooted"}, 200},
		},
		// waiting for the customer pauses resolution past its target without a breach;
		// a refused action leaves no trace; the service desk closes.
		"incident-pause-resume": {
			{0, "acknowledge", "dev-requester", nil, 403},
			{0, "acknowledge", "dev-tier1", nil, 200},
			{0, "wait_for_customer", "dev-tier1", map[string]any{"question": "which floor?"}, 200},
			{7 * time.Second, "customer_replied", "dev-requester", nil, 200},
			{0, "resolve", "dev-tier2", map[string]any{"resolution": "patched"}, 200},
			{0, "close", "dev-service-desk", map[string]any{"satisfaction": "4"}, 200},
		},
		// resolution runs out: 75% and 100% escalations, tier-3 assessment flag; then
		// resolve, reopen by the requester, resolve again and close.
		"incident-resolution-breach-reopen": {
			{0, "acknowledge", "dev-service-desk", nil, 200},
			{7 * time.Second, "resolve", "dev-tier3", map[string]any{"resolution": "replaced PSU"}, 200},
			{0, "reopen", "dev-requester", map[string]any{"reason": "failed again"}, 200},
			{0, "resolve", "dev-tier3", map[string]any{"resolution": "replaced board"}, 200},
			{0, "close", "dev-service-desk", nil, 200},
		},
		"incident-cancel": {
			{0, "cancel", "dev-service-desk", map[string]any{"reason": "duplicate"}, 200},
		},
		// immediate notice on declaration, a missed hourly report, restoration in
		// time, and the written report after its reminder.
		"major-incident-reports": {
			{0, "take_command", "dev-service-manager", nil, 200},
			{500 * time.Millisecond, "report_progress", "dev-service-manager", map[string]any{"progress": "generators starting"}, 200},
			{1700 * time.Millisecond, "restored", "dev-incident-manager", map[string]any{"summary": "power back"}, 200},
			{2500 * time.Millisecond, "submit_report", "dev-service-manager", map[string]any{"report": "root cause"}, 200},
		},
	}
	definitionOf := func(scenario string) string {
		if strings.HasPrefix(scenario, "major-incident") {
			return "major-incident"
		}
		return "incident"
	}
	var mu sync.Mutex
	ids := map[string]string{}
	t.Run("Scenarios", func(t *testing.T) {
		for name, steps := range scenarios {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				c := apiClient{t: t, base: cfg.httpAddr}
				input := map[string]any{"title": name, "priority": "P1"}
				if definitionOf(name) == "major-incident" {
					input = map[string]any{"title": name, "service": "hosting"}
				}
				p := c.must(201, "POST", "/api/v1/processes/"+definitionOf(name), "dev-requester", map[string]any{"input": input})
				id := p["id"].(string)
				for _, s := range steps {
					time.Sleep(s.after)
					c.must(s.status, "POST", "/api/v1/processes/"+id+"/actions/"+s.action, s.token, map[string]any{"input": s.input})
				}
				c.waitFor(id, "ended", func(p map[string]any) bool { return p["ended_at"] != nil })
				mu.Lock()
				ids[name] = id
				mu.Unlock()
			})
		}
	})
	if t.Failed() {
		return
	}
	tc, err := dialTemporal(context.Background(), fmt.Sprintf("127.0.0.1:%d", cfg.temporalPort), "default")
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	logger := sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	for name, id := range ids {
		h, err := history.Fetch(context.Background(), tc, id)
		if err != nil {
			t.Fatal(err)
		}
		// The run may still be closing after its projection: wait for the last event.
		for i := 0; i < 50 && h.Events[len(h.Events)-1].GetWorkflowExecutionCompletedEventAttributes() == nil; i++ {
			time.Sleep(100 * time.Millisecond)
			if h, err = history.Fetch(context.Background(), tc, id); err != nil {
				t.Fatal(err)
			}
		}
		if err := workflows.Replay(logger, h); err != nil {
			t.Fatalf("%s (%s) does not replay: %v", name, id, err)
		}
		file := filepath.Join("../../testdata/histories", name+".json")
		if _, err := os.Stat(file); *updateGolden && err == nil {
			t.Logf("%s exists: kept (golden histories are never re-recorded)", file)
		} else if *updateGolden {
			f, err := os.Create(file)
			if err != nil {
				t.Fatal(err)
			}
			b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(append(b, '\n'))
			f.Close()
		}
	}
}
