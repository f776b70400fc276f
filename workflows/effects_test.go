package workflows_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itilflow/itilflow/activities"
	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/workflows"
)

func parse(t *testing.T, src string) engine.Definition {
	t.Helper()
	def, err := engine.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return *def
}

// hooked calls url when it starts, maps the ticket it answers into a variable,
// and gives up when every attempt failed.
func hooked(t *testing.T, url string) engine.Definition {
	return parse(t, fmt.Sprintf(`
name: hooked
input:
  title: {type: string, required: true}
variables:
  ticket: {type: string}
initial: new
states:
  new:
    on_enter:
      - webhook:
          url: %s
          body: {summary: "= input.title", source: itilflow}
          timeout: 5s
          retries: 2
          result: {ticket: "= string(response.body.ticket)"}
          on_failure: give_up
    actions:
      done: {to: closed}
      give_up: {to: failed}
  closed: {final: true}
  failed: {final: true}
`, url))
}

// hookServer answers every request with status and body, and records what it got.
type hookServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	bodies   []string
}

func newHookServer(t *testing.T, status int, body string) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.requests = append(h.requests, r)
		h.bodies = append(h.bodies, string(b))
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) calls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.requests)
}

func TestWebhookResultMapsIntoVariable(t *testing.T) {
	srv := newHookServer(t, http.StatusCreated, `{"ticket": "EXT-42"}`)
	h := newHarnessWith(t, &activities.Activities{HTTPClient: srv.Client()})
	// The process must not wait for the webhook to take actions; this one
	// comes long after it answered.
	h.at(time.Hour, "done", desk, nil, nil)
	v := h.runInput(workflows.Input{ID: "hooked-000001", Definition: hooked(t, srv.URL+"/tickets"), Version: 1,
		Input: map[string]any{"title": "disk full"}, Actor: requester})

	if v.State != "closed" || v.Vars["ticket"] != "EXT-42" {
		t.Fatalf("state %s vars %v, want closed with ticket EXT-42", v.State, v.Vars)
	}
	requested := h.store.find(engine.EventWebhookRequested, "")
	called := h.store.find(engine.EventWebhookCalled, "")
	if len(requested) != 1 || len(called) != 1 || called[0].Data["status"] != float64(201) {
		t.Fatalf("requested %+v called %+v", requested, called)
	}
	if srv.calls() != 1 {
		t.Fatalf("%d calls, want 1", srv.calls())
	}
	r := srv.requests[0]
	if r.Method != http.MethodPost || r.URL.Path != "/tickets" || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %s %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	if key, want := r.Header.Get("Idempotency-Key"), fmt.Sprintf("hooked-000001/%d", requested[0].Seq); key != want {
		t.Fatalf("Idempotency-Key %q, want %q", key, want)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(srv.bodies[0]), &body); err != nil || body["summary"] != "disk full" || body["source"] != "itilflow" {
		t.Fatalf("body %s (%v)", srv.bodies[0], err)
	}
}

func TestWebhookFailingEveryAttemptTakesOnFailure(t *testing.T) {
	for name, tc := range map[string]struct {
		status   int
		attempts int
	}{
		"ServerError": {http.StatusServiceUnavailable, 3}, // retries: 2
		"Refused":     {http.StatusBadRequest, 1},         // 4xx: the same request would be refused again
	} {
		t.Run(name, func(t *testing.T) {
			srv := newHookServer(t, tc.status, `{"error": "nope"}`)
			h := newHarnessWith(t, &activities.Activities{HTTPClient: srv.Client()})
			v := h.runInput(workflows.Input{ID: "hooked-000001", Definition: hooked(t, srv.URL), Version: 1,
				Input: map[string]any{"title": "disk full"}, Actor: requester})

			if srv.calls() != tc.attempts {
				t.Fatalf("%d attempts, want %d", srv.calls(), tc.attempts)
			}
			failed := h.store.find(engine.EventWebhookFailed, "")
			if len(failed) != 1 {
				t.Fatalf("webhook_failed events %+v", failed)
			}
			msg, _ := failed[0].Data["error"].(string)
			if !strings.Contains(msg, fmt.Sprint(tc.status)) || !strings.Contains(msg, "nope") {
				t.Fatalf("failure %q does not say what the webhook answered", msg)
			}
			if v.State != "failed" || v.EndedAt == nil || len(h.store.find(engine.EventWebhookCalled, "")) != 0 {
				t.Fatalf("state %s ended %v, want on_failure to have taken give_up", v.State, v.EndedAt)
			}
			if v.Vars["ticket"] != nil {
				t.Fatalf("ticket %v set by a failed webhook", v.Vars["ticket"])
			}
		})
	}
}

// fakeProcesses is the store of published definitions and start ids.
type fakeProcesses struct {
	defs map[string]engine.Definition
	mu   sync.Mutex
	keys []string
}

func (f *fakeProcesses) Definition(_ context.Context, name string, version int) (store.Definition, error) {
	d, ok := f.defs[name]
	if !ok {
		return store.Definition{}, &engine.Error{Code: engine.ENOTFOUND, Message: "no definition " + name}
	}
	return store.Definition{Name: name, Version: 3, Hash: "sha256:child", Compiled: d}, nil
}

func (f *fakeProcesses) StartID(_ context.Context, key, definition string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
	return definition + "-000042", nil
}

// recordingStarter records the processes it is asked to start.
type recordingStarter struct {
	mu       sync.Mutex
	launches []activities.Launch
}

func (r *recordingStarter) Start(_ context.Context, l activities.Launch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.launches = append(r.launches, l)
	return nil
}

const problemYAML = `
name: problem
input:
  title: {type: string, required: true}
initial: open
states:
  open:
    on_enter:
      - start: {process: %s, input: {reason: "= input.title", risk: high}, on_end: change_done}
    actions:
      change_done: {to: fixed}
  fixed: {final: true}
`

const changeYAML = `
name: change
input:
  reason: {type: string, required: true}
  risk:   {type: enum, values: [low, high], default: low}
initial: requested
states:
  requested:
    actions:
      implement: {to: closed}
  closed: {final: true}
`

func TestStartStepStartsLinkedProcessAndTakesOnEnd(t *testing.T) {
	procs := &fakeProcesses{defs: map[string]engine.Definition{"change": parse(t, changeYAML)}}
	starter := &recordingStarter{}
	h := newHarnessWith(t, &activities.Activities{Processes: procs, Starter: starter})
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(workflows.SignalChildEnded, workflows.ChildEnd{ID: "change-000042", Definition: "change", State: "closed"})
	}, 2*time.Hour)
	v := h.runInput(workflows.Input{ID: "problem-000001", Definition: parse(t, fmt.Sprintf(problemYAML, "change")), Version: 1,
		Input: map[string]any{"title": "recurring disk failures"}, Actor: requester})

	if len(starter.launches) != 1 {
		t.Fatalf("launches %+v, want one", starter.launches)
	}
	l := starter.launches[0]
	if l.ID != "change-000042" || l.Definition.Name != "change" || l.Version != 3 || l.Hash != "sha256:child" ||
		l.Parent != "problem-000001" || l.ParentDefinition != "problem" {
		t.Fatalf("launch %+v", l)
	}
	if l.Input["reason"] != "recurring disk failures" || l.Input["risk"] != "high" {
		t.Fatalf("child input %v", l.Input)
	}
	requested := h.store.find(engine.EventSubprocessRequested, "")
	if len(requested) != 1 || len(procs.keys) != 1 || procs.keys[0] != fmt.Sprintf("problem-000001/%d", requested[0].Seq) {
		t.Fatalf("requested %+v, start keys %v", requested, procs.keys)
	}
	started := h.store.find(engine.EventSubprocessStarted, "")
	if len(started) != 1 || started[0].Data["id"] != "change-000042" || !started[0].At.Equal(t0) {
		t.Fatalf("subprocess_started %+v", started)
	}
	ended := h.store.find(engine.EventSubprocessEnded, "")
	if len(ended) != 1 || !ended[0].At.Equal(t0.Add(2*time.Hour)) || ended[0].Data["state"] != "closed" {
		t.Fatalf("subprocess_ended %+v", ended)
	}
	if v.State != "fixed" || v.EndedAt == nil || !v.EndedAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("state %s ended %v, want on_end to have taken change_done at 2h", v.State, v.EndedAt)
	}
	if len(v.Links) != 1 || v.Links[0].ID != "change-000042" || v.Links[0].Relation != engine.RelationChild || v.Links[0].EndState != "closed" {
		t.Fatalf("links %+v", v.Links)
	}
}

func TestStartStepOfUnknownProcessFailsTheStep(t *testing.T) {
	starter := &recordingStarter{}
	h := newHarnessWith(t, &activities.Activities{Processes: &fakeProcesses{}, Starter: starter})
	h.at(time.Hour, "change_done", desk, nil, nil)
	v := h.runInput(workflows.Input{ID: "problem-000001", Definition: parse(t, fmt.Sprintf(problemYAML, "chnage")), Version: 1,
		Input: map[string]any{"title": "x"}, Actor: requester})

	failed := h.store.find(engine.EventStepFailed, "")
	if len(failed) != 1 || !strings.Contains(fmt.Sprint(failed[0].Data["error"]), `no published process "chnage"`) {
		t.Fatalf("step_failed %+v", failed)
	}
	if len(starter.launches) != 0 || len(h.store.find(engine.EventSubprocessStarted, "")) != 0 || len(v.Links) != 0 {
		t.Fatalf("started %+v links %+v", starter.launches, v.Links)
	}
}

// TestChildTellsParentWhenItEnds: a process started by another links to it at
// the start and signals it when it ends.
func TestChildTellsParentWhenItEnds(t *testing.T) {
	h := newHarness(t)
	var told []workflows.ChildEnd
	want := workflows.ChildEnd{ID: "change-000042", Definition: "change", State: "closed"}
	h.env.OnSignalExternalWorkflow("default-test-namespace", "problem-000001", "", workflows.SignalChildEnded, want).
		Return(func(_, _, _, _ string, arg any) error {
			told = append(told, arg.(workflows.ChildEnd))
			return nil
		})
	h.at(time.Hour, "implement", desk, nil, nil)
	v := h.runInput(workflows.Input{ID: "change-000042", Definition: parse(t, changeYAML), Version: 1,
		Input: map[string]any{"reason": "x"}, Actor: engine.System, Parent: &workflows.ParentRef{ID: "problem-000001", Definition: "problem"}})

	linked := h.store.find(engine.EventLinked, "")
	if len(linked) != 1 || linked[0].Data["parent"] != "problem-000001" || !linked[0].At.Equal(t0) {
		t.Fatalf("linked %+v", linked)
	}
	if len(v.Links) != 1 || v.Links[0].Relation != engine.RelationParent || v.Links[0].ID != "problem-000001" {
		t.Fatalf("links %+v", v.Links)
	}
	if len(told) != 1 || told[0] != want {
		t.Fatalf("parent told %+v, want %+v", told, want)
	}
}
