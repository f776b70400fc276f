package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/itilflow/itilflow/activities"
	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/workflows"
)

// startActivity is the name the workflow starts processes with
// (activities.Activities.StartProcess); scenarios register their own.
const startActivity = "StartProcess"

// outside stands in for the world beyond the process in a scenario: it answers
// webhooks from the file and records the processes start steps ask for.
type outside struct {
	answers map[string]WebhookAnswer

	directory map[string][]string // members of roles and groups
	agenda    []AgendaItem        // what collect steps gather
	counted   []string            // what rules count

	mu      sync.Mutex
	missing map[string]bool // webhook calls the file has no answer for
	starts  []started
}

// AwaitingBoard answers a collect step with the test's agenda.
func (o *outside) AwaitingBoard(_ context.Context, process, _ string) ([]engine.AgendaItem, error) {
	out := make([]engine.AgendaItem, len(o.agenda))
	for i, it := range o.agenda {
		state := it.State
		if state == "" {
			state = "authorising"
		}
		out[i] = engine.AgendaItem{ID: it.ID, Definition: process, State: state, Title: it.Title, StartedBy: it.StartedBy, Excluded: it.Excluded}
	}
	return out, nil
}

// ProcessesOnCI answers a rule's count with the test's counted.
func (o *outside) ProcessesOnCI(context.Context, string, string, time.Time, string) ([]string, error) {
	return append([]string{}, o.counted...), nil
}

// Release accepts a meeting's decision; the decision_released event records it.
func (o *outside) Release(context.Context, string, engine.Release) error { return nil }

// Members answers the directory from the file.
func (o *outside) Members(_ context.Context, roles, groups []string) ([]string, error) {
	var out []string
	for _, k := range append(append([]string{}, roles...), groups...) {
		for _, u := range o.directory[k] {
			if !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
	}
	return out, nil
}

// started is a process a start step asked for.
type started struct {
	key, id, process string
	input            map[string]any
}

func newOutside(file, test map[string]WebhookAnswer) *outside {
	o := &outside{answers: map[string]WebhookAnswer{}, missing: map[string]bool{}}
	for _, m := range []map[string]WebhookAnswer{file, test} {
		for url, a := range m {
			o.answers[url] = a
		}
	}
	return o
}

// RoundTrip answers a webhook call with the file's answer for its URL.
func (o *outside) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	url := req.URL.String()
	a, ok := o.answers[url]
	if !ok {
		o.mu.Lock()
		o.missing[req.Method+" "+url] = true
		o.mu.Unlock()
		return nil, fmt.Errorf("the scenario has no answer for this URL under webhooks:")
	}
	status := a.Status
	if status == 0 {
		status = http.StatusOK
	}
	var body []byte
	if a.Body != nil {
		var err error
		if body, err = json.Marshal(a.Body); err != nil {
			return nil, fmt.Errorf("the scenario's answer for %s is not JSON: %w", url, err)
		}
	}
	return &http.Response{
		StatusCode:    status,
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// unanswered lists the webhook calls the file had no answer for.
func (o *outside) unanswered() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]string, 0, len(o.missing))
	for u := range o.missing {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// start records a start step's process instead of starting it. Like the real
// activity, every attempt of the same step gets the same id.
func (o *outside) start(_ context.Context, in activities.StartInput) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.starts {
		if s.key == in.Key() {
			return s.id, nil
		}
	}
	id := fmt.Sprintf("%s-scenario-%d", in.Process, len(o.starts)+1)
	o.starts = append(o.starts, started{key: in.Key(), id: id, process: in.Process, input: in.Input})
	return id, nil
}

// inputs returns the input of each process started, by id.
func (o *outside) inputs() map[string]map[string]any {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]map[string]any, len(o.starts))
	for _, s := range o.starts {
		out[s.id] = s.input
	}
	return out
}

// endChild tells the process that the latest process of c.Process it started
// has ended in c.State.
func (o *outside) endChild(env *testsuite.TestWorkflowEnvironment, c *ChildEnd, where string, fail func(string, ...any)) {
	if c.Process == "" || c.State == "" {
		fail("%s: child_ended needs the process and the state it ended in", where)
		return
	}
	o.mu.Lock()
	id := ""
	for _, s := range o.starts {
		if s.process == c.Process {
			id = s.id
		}
	}
	o.mu.Unlock()
	if id == "" {
		fail("%s: child_ended: no %s process was started by then", where, c.Process)
		return
	}
	env.SignalWorkflow(workflows.SignalChildEnded, workflows.ChildEnd{ID: id, Definition: c.Process, State: c.State})
}
