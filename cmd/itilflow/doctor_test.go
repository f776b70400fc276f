package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/itilflow/itilflow/workflows"
)

// retryingHookDefinition calls a webhook that keeps failing, with room to retry.
const retryingHookDefinition = `name: retrying-hook
title: Retrying hook
input:
  title: {type: string, required: true}
initial: open
states:
  open:
    on_enter:
      - webhook: {url: HOOK, timeout: 2s, retries: 10}
    actions:
      close: {to: closed}
  closed: {final: true}
`

// TestDoctorAndHealthzShowStuckWorkflows makes, on the real stack, each kind of
// trouble doctor looks for — a workflow task that keeps failing, a process
// open in PostgreSQL whose workflow was terminated, an activity that keeps
// retrying — and checks that /healthz turns degraded (still 200) for the first,
// that doctor names all three with what to do and exits non-zero, and that it
// is content once they are dealt with.
func TestDoctorAndHealthzShowStuckWorkflows(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "receiver down for maintenance", http.StatusServiceUnavailable)
	}))
	defer hook.Close()
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	ctx := context.Background()
	tc, err := dialTemporal(ctx, client.Options{HostPort: fmt.Sprintf("127.0.0.1:%d", cfg.temporalPort)})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	vars := env(map[string]string{"DATABASE_URL": devDatabaseURL(t, cfg), "TEMPORAL_ADDRESS": fmt.Sprintf("127.0.0.1:%d", cfg.temporalPort),
		"ITILFLOW_DATA_DIR": cfg.dataDir})
	doctor := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"doctor"}, args...), vars, &out, io.Discard)
		return out.String(), err
	}

	if h := c.must(200, "GET", "/healthz", "", nil); h["status"] != "ok" || h["workflows"].(map[string]any)["failing_total"] != 0.0 {
		t.Fatalf("healthz at start: %v", h)
	}
	if out, err := doctor(); err != nil || !strings.Contains(out, "0 problem(s)") {
		t.Fatalf("doctor at start: %v\n%s", err, out)
	}

	c.must(201, "PUT", "/api/v1/definitions/retrying-hook", "dev-process-owner", strings.Replace(retryingHookDefinition, "HOOK", hook.URL, 1))
	retrying := c.must(201, "POST", "/api/v1/processes/retrying-hook", "dev-requester", map[string]any{"input": map[string]any{"title": "t"}})["id"].(string)
	terminated := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "t"}})["id"].(string)
	if err := tc.TerminateWorkflow(ctx, terminated, "", "operator"); err != nil {
		t.Fatal(err)
	}
	// A workflow type no worker registers, as after a deploy that dropped
	// one: its task fails on every attempt.
	if _, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "gone-1", TaskQueue: workflows.TaskQueue}, "itilflow.Gone"); err != nil {
		t.Fatal(err)
	}

	t.Run("HealthzIsDegradedNotUnavailable", func(t *testing.T) {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			h := c.must(200, "GET", "/healthz", "", nil)
			wf := h["workflows"].(map[string]any)
			if failing := wf["failing"].([]any); len(failing) == 1 {
				f := failing[0].(map[string]any)
				if h["status"] != "degraded" || h["temporal"] != "ok" || h["postgres"] != "ok" || f["id"] != "gone-1" ||
					f["workflow_type"] != "itilflow.Gone" || f["cause"] != "failure" || !strings.Contains(f["last_error"].(string), "unable to find workflow type") {
					t.Fatalf("healthz: %v", h)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("healthz does not show the failing workflow within 30s: %v", h)
			}
		}
	})

	t.Run("DoctorNamesEachTrouble", func(t *testing.T) {
		var out string
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
			var err error
			out, err = doctor("--activity-attempts", "2")
			if err != nil && strings.Contains(out, "3 problem(s)") {
				if !strings.Contains(err.Error(), "3 problem(s) found") {
					t.Fatalf("doctor's error: %v", err)
				}
				t.Logf("doctor:\n%s", out)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("doctor did not find the 3 problems within 30s (%v):\n%s", err, out)
			}
		}
		for _, want := range []string{
			"gone-1: stuck: its workflow task keeps failing (attempt ",
			"): WorkflowWorkerUnhandledFailure: unable to find workflow type: itilflow.Gone",
			"fix it and deploy",
			terminated + ": open in PostgreSQL, but its workflow terminated at ",
			"`itilflow reconcile` marks it ended",
			retrying + ": activity CallWebhook (id ",
			" of 11",
			"answered 503 Service Unavailable: receiver down for maintenance",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("doctor's report lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("ContentOnceDealtWith", func(t *testing.T) {
		for _, id := range []string{"gone-1", retrying} {
			if err := tc.TerminateWorkflow(ctx, id, "", "operator"); err != nil {
				t.Fatal(err)
			}
		}
		var out bytes.Buffer
		if err := run(ctx, []string{"reconcile", "--audit-key-file", filepath.Join(cfg.dataDir, auditKeyFileName)}, vars, &out, io.Discard); err != nil {
			t.Fatalf("reconcile: %v\n%s", err, out.String())
		}
		if out, err := doctor(); err != nil || !strings.Contains(out, "0 problem(s)") {
			t.Fatalf("doctor after the repairs: %v\n%s", err, out)
		}
	})
}
