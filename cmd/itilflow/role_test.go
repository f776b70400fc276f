package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/pgcluster/pgtest"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/temporalserver"
	"github.com/itilflow/itilflow/workflows"
)

// startServe runs `itilflow serve --role role` in this process until the test
// ends, and returns its address once /healthz answers.
func startServe(t *testing.T, role string, vars map[string]string) (addr string, stop func()) {
	t.Helper()
	addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	args := []string{"serve", "--role", role, "--http-addr", addr, "--definitions", "../../definitions", "--log-level", "warn"}
	go func() { done <- run(ctx, args, env(vars), io.Discard, testWriter{t}) }()
	waitHealthy(t, addr, done)
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve --role %s exited with %v", role, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("serve --role %s did not stop within 30s", role)
		}
	}
	t.Cleanup(stop)
	return addr, stop
}

// TestServeRoles runs serve as it is scaled out: an API process with no
// worker takes a request that needs a workflow task, and the request is
// carried out only once a worker process runs; the worker answers /healthz
// and nothing of the API. Then one process in role all does both.
func TestServeRoles(t *testing.T) {
	ctx := context.Background()
	ts, err := temporalserver.Start(ctx, temporalserver.Options{LogLevel: "none", SearchAttributes: workflows.SearchAttributes()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ts.Stop() })
	dbURL := pgtest.NewDatabase(t)
	vars := map[string]string{"DATABASE_URL": dbURL, "TEMPORAL_ADDRESS": ts.HostPort(), "ITILFLOW_AUDIT_KEY": testAuditKey}

	apiAddr, stopAPI := startServe(t, "api", vars)
	st, err := store.Open(ctx, dbURL, auditKeyOptions([][]byte{testAuditKeyBytes()})...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := seedDevUsers(ctx, st, "../../definitions/dev-users.yaml"); err != nil {
		t.Fatal(err)
	}
	c := apiClient{t: t, base: apiAddr}
	// What needs no workflow task is answered at once: the API published the
	// shipped definitions.
	c.must(200, "GET", "/api/v1/definitions/incident", "dev-auditor", nil)

	// Starting a process is an update the workflow carries out: it waits
	// for a worker. Plain HTTP here, as t.Fatal may not run off the test's
	// goroutine.
	started := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", "http://"+apiAddr+"/api/v1/processes/incident",
			strings.NewReader(`{"input": {"title": "core switch down", "priority": "P1"}}`))
		req.Header.Set("Authorization", "Bearer dev-requester")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			started <- 0
			return
		}
		resp.Body.Close()
		started <- resp.StatusCode
	}()
	select {
	case status := <-started:
		t.Fatalf("the start was answered (%d) with no worker running", status)
	case <-time.After(3 * time.Second):
	}

	workerAddr, stopWorker := startServe(t, "worker", vars)
	select {
	case status := <-started:
		if status != 201 {
			t.Fatalf("start answered %d once a worker ran, want 201", status)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the start was not carried out within 30s of a worker starting")
	}
	// The worker serves its health and metrics, not the API or the console.
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + workerAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, path := range []string{"/api/v1/definitions", "/"} {
		if status, _ := get(path); status != http.StatusNotFound {
			t.Fatalf("worker GET %s: %d, want 404", path, status)
		}
	}
	if status, text := get("/metrics"); status != 200 || !strings.Contains(text, "temporal_") {
		t.Fatalf("worker /metrics: %d, without the Temporal SDK's metrics:\n%.500s", status, text)
	}
	// What the compose file's health check runs.
	if err := run(ctx, []string{"health", "--http-addr", workerAddr}, env(nil), io.Discard, io.Discard); err != nil {
		t.Fatalf("health of a running worker: %v", err)
	}
	stopWorker()
	if err := run(ctx, []string{"health", "--http-addr", workerAddr}, env(nil), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "no answer from") {
		t.Fatalf("health of a stopped worker: %v, want no answer", err)
	}
	stopAPI()

	// One process in role all runs both: an action is carried out.
	allAddr, _ := startServe(t, "all", vars)
	c = apiClient{t: t, base: allAddr}
	inc := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "printer on fire", "priority": "P2"}})
	c.must(200, "POST", "/api/v1/processes/"+inc["id"].(string)+"/actions/acknowledge", "dev-tier1", map[string]any{"comment": "on my way"})
}
