package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
)

const relayParent = `name: relay-parent
input:
  title: {type: string, required: true}
initial: waiting
states:
  waiting:
    on_enter:
      - start: {process: relay-child, input: {title: "= input.title"}, on_end: child_done}
    actions:
      child_done: {to: done}
  done: {final: true}
`

const relayChild = `name: relay-child
input:
  title: {type: string, required: true}
initial: open
states:
  open:
    actions:
      finish: {to: finished, roles: [service-desk]}
  finished: {final: true}
`

// TestReconcileTellsTheParentOfATerminatedChild: a terminated workflow runs
// no code, so a child terminated by an operator never tells the process that
// started it; reconcile, which marks the child ended, tells the parent, which
// takes its on_end.
func TestReconcileTellsTheParentOfATerminatedChild(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	c.must(201, "PUT", "/api/v1/definitions/relay-child", "dev-process-owner", relayChild)
	c.must(201, "PUT", "/api/v1/definitions/relay-parent", "dev-process-owner", relayParent)
	parent := c.must(201, "POST", "/api/v1/processes/relay-parent", "dev-requester", map[string]any{"input": map[string]any{"title": "relay"}})["id"].(string)
	p := c.waitFor(parent, "linked", func(p map[string]any) bool { links, _ := p["links"].([]any); return len(links) == 1 })
	child := p["links"].([]any)[0].(map[string]any)["id"].(string)
	c.waitFor(child, "started", func(p map[string]any) bool { return p["state"] == "open" })

	tc, err := dialTemporal(context.Background(), client.Options{HostPort: fmt.Sprintf("127.0.0.1:%d", cfg.temporalPort)})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if err := tc.TerminateWorkflow(context.Background(), child, "", "operator"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	vars := env(map[string]string{"DATABASE_URL": devDatabaseURL(t, cfg), "TEMPORAL_ADDRESS": fmt.Sprintf("127.0.0.1:%d", cfg.temporalPort)})
	if err := run(context.Background(), []string{"reconcile"}, vars, &out, io.Discard); err != nil {
		t.Fatalf("reconcile: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), child+": told "+parent) {
		t.Fatalf("reconcile did not tell the parent:\n%s", out.String())
	}
	p = c.waitFor(parent, "on_end taken", func(p map[string]any) bool { return p["state"] == "done" })
	for _, e := range p["events"].([]any) {
		m := e.(map[string]any)
		if m["type"] == "subprocess_ended" && m["data"].(map[string]any)["state"] == "terminated" {
			return
		}
	}
	t.Fatalf("the parent records no end of %s as terminated: %v", child, lastEvents(p, 6))
}
