package scenario

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/itilflow/itilflow/activities"
	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/workflows"
)

// Result is the outcome of one scenario.
type Result struct {
	Name     string
	Failures []string
	Elapsed  time.Duration
	// Events are what the process decided, in order: the events its
	// projection stored.
	Events []engine.Event
}

// Passed reports whether every expectation held.
func (r Result) Passed() bool { return len(r.Failures) == 0 }

// Run runs every scenario of the file against def.
func (f *File) Run(def *engine.Definition) []Result {
	out := make([]Result, len(f.Tests))
	for i, t := range f.Tests {
		began := time.Now()
		failures, events := run(def, f.Webhooks, f.Directory, t)
		out[i] = Result{Name: t.Name, Failures: failures, Events: events}
		out[i].Elapsed = time.Since(began)
	}
	return out
}

// recorder is the projection store of a scenario run: the real activity writes
// every event here.
type recorder struct {
	mu     sync.Mutex
	events []engine.Event
}

func (r *recorder) Project(_ context.Context, _ engine.View, events []engine.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range events {
		if n := len(r.events); n == 0 || e.Seq > r.events[n-1].Seq {
			r.events = append(r.events, e)
		}
	}
	return nil
}

// ItemVotes reads a meeting's votes on an item back from its recorded
// events, as the store does.
func (r *recorder) ItemVotes(_ context.Context, _, item string) ([]engine.Vote, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []engine.Vote
	for _, e := range r.events {
		if v, ok := engine.VoteOf(e); ok && v.Item == item {
			out = append(out, v)
		}
	}
	return out, nil
}

// ProjectCompact records the events of a compact projection; the scenario
// checks the workflow's own view, never the projection's.
func (r *recorder) ProjectCompact(ctx context.Context, v engine.View, events []engine.Event, _ engine.ViewPatch) error {
	return r.Project(ctx, v, events)
}

func run(def *engine.Definition, webhooks map[string]WebhookAnswer, directory map[string][]string, t Test) (failures []string, events []engine.Event) {
	fail := func(format string, args ...any) { failures = append(failures, fmt.Sprintf(format, args...)) }
	start, err := t.start()
	if err != nil {
		return []string{fmt.Sprintf("start %q: want an RFC 3339 time", t.Start)}, nil
	}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.SetTestTimeout(30 * time.Second)
	// A scenario proves behaviour, not speed: on a starved CI machine the SDK's
	// 1 s deadlock detector fires on a workflow task that only waited for a CPU.
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: 10 * time.Second})
	workflows.Register(env)
	rec := &recorder{}
	world := newOutside(webhooks, t.Webhooks)
	world.directory, world.agenda, world.counted = directory, t.Agenda, t.Counted
	// The real webhook activity runs, against answers from the file; starting a
	// process is only recorded.
	env.RegisterActivity(&activities.Activities{Projector: rec, HTTPClient: &http.Client{Transport: world},
		Boards: world, Releaser: world, Directory: world, Votes: rec, Counter: world})
	env.RegisterActivityWithOptions(world.start, activity.RegisterOptions{Name: startActivity, DisableAlreadyRegisteredCheck: true})

	type later struct {
		step   int
		at     time.Duration
		expect *Expect
	}
	var deferred []later
	// Steps at one instant happen in the order of the file, each once the
	// one before it was answered, as a person working through them would
	// (the test environment does not otherwise keep their order).
	type instant struct {
		at time.Duration
		do []func(then func())
	}
	var instants []*instant
	schedule := func(when time.Duration, do func(then func())) {
		for _, in := range instants {
			if in.at == when {
				in.do = append(in.do, do)
				return
			}
		}
		instants = append(instants, &instant{at: when, do: []func(then func()){do}})
	}
	last := time.Duration(0)
	for i, s := range t.Steps {
		i, s := i, s
		at, err := offset(s.At)
		if err != nil {
			fail("step %d: at %q: %v", i+1, s.At, err)
			return failures, nil
		}
		last = max(last, at)
		where := fmt.Sprintf("step %d (at %s)", i+1, label(s.At))
		// A step at 0 happens right after the start.
		when := max(at, time.Millisecond)
		if s.Action != "" {
			schedule(when, func(then func()) { act(env, s, where, fail, then) })
		}
		if s.Released != nil {
			schedule(when, func(then func()) { release(env, def, s, where, fail, then) })
		}
		if s.ChildEnded != nil {
			schedule(when, func(then func()) { world.endChild(env, s.ChildEnded, where, fail); then() })
		}
		if s.Expect != nil {
			env.RegisterDelayedCallback(func() { checkLive(env, s.Expect, where, start.Add(at), fail) }, when+time.Microsecond)
			deferred = append(deferred, later{step: i + 1, at: at, expect: s.Expect})
		}
	}
	for _, in := range instants {
		var run func(i int)
		run = func(i int) {
			if i < len(in.do) {
				in.do[i](func() { run(i + 1) })
			}
		}
		env.RegisterDelayedCallback(func() { run(0) }, in.at)
	}
	until := last + time.Millisecond
	if t.Until != "" {
		u, err := offset(t.Until)
		if err != nil {
			fail("until %q: %v", t.Until, err)
			return failures, nil
		}
		until = max(until, u)
	}
	env.RegisterDelayedCallback(env.CancelWorkflow, until+time.Millisecond)
	env.ExecuteWorkflow(workflows.ProcessType, workflows.Input{ID: "scenario", Definition: *def, Version: 1, Input: t.Input, Actor: engine.Actor{ID: "requester"}})
	var canceled *temporal.CanceledError
	if err := env.GetWorkflowError(); err != nil && !errors.As(err, &canceled) {
		fail("the process failed: %v", err)
	}
	for _, u := range world.unanswered() {
		fail("webhook %s has no answer: give one under webhooks: in the scenario file", u)
	}
	inputs := world.inputs()
	for _, d := range deferred {
		checkEvents(rec.events, inputs, d.expect, fmt.Sprintf("step %d (at %s)", d.step, label(t.Steps[d.step-1].At)), start.Add(d.at), fail)
	}
	return failures, rec.events
}

func label(at string) string {
	if at == "" {
		return "0"
	}
	return at
}

func act(env *testsuite.TestWorkflowEnvironment, s Step, where string, fail func(string, ...any), then func()) {
	by := s.By
	if by == "" {
		by = "tester"
	}
	req := engine.ActionRequest{Action: s.Action, Actor: engine.Actor{ID: by, Roles: s.As}, Input: s.Input, Comment: s.Comment, Item: s.Item}
	if s.For != "" {
		req.OnBehalfOf = &engine.Actor{ID: s.For}
	}
	env.UpdateWorkflow(workflows.UpdateAction, where, expectRefusal(s.Action, s.Refused, where, fail, then), req)
}

// expectRefusal checks the outcome of an update against the refusal a step
// expects, if any, and then goes on with then.
func expectRefusal(what, refused, where string, fail func(string, ...any), then func()) *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnReject: func(err error) {
			defer then()
			code := engine.EINTERNAL
			var app *temporal.ApplicationError
			if errors.As(err, &app) {
				code = app.Type()
			}
			switch {
			case refused == "":
				fail("%s: %s was refused: %v", where, what, err)
			case code != refused:
				fail("%s: %s was refused as %s, want %s: %v", where, what, code, refused, err)
			}
		},
		OnComplete: func(_ any, err error) {
			defer then()
			switch {
			case err != nil:
				fail("%s: %s failed: %v", where, what, err)
			case refused != "":
				fail("%s: %s was accepted, want it refused as %s", where, what, refused)
			}
		},
	}
}

// release gives the process a meeting's decision, for the first state whose
// approval has a board unless the step names one.
func release(env *testsuite.TestWorkflowEnvironment, def *engine.Definition, s Step, where string, fail func(string, ...any), then func()) {
	r := s.Released
	rel := engine.Release{Meeting: r.Meeting, Board: r.Board, Process: "scenario", State: r.State, Outcome: r.Outcome}
	if rel.Meeting == "" {
		rel.Meeting = "meeting-scenario"
	}
	for _, st := range def.States {
		if a := st.Approval; a != nil && a.Board != "" && (rel.State == "" || rel.State == st.Name) {
			rel.State = st.Name
			if rel.Board == "" {
				rel.Board = a.Board
			}
			break
		}
	}
	at := env.Now()
	for _, v := range r.Votes {
		rel.Votes = append(rel.Votes, engine.Vote{Actor: v.By, Decision: v.Decision, Comment: v.Comment, At: at, Item: "scenario"})
		if v.Decision == engine.ActionApprove {
			rel.Tally.Approve++
		} else {
			rel.Tally.Reject++
		}
	}
	rel.Tally.Outcome = r.Outcome
	env.UpdateWorkflow(workflows.UpdateRelease, where, expectRefusal("the release", s.Refused, where, fail, then), rel)
}

// checkLive checks what the running workflow says at the step's instant.
func checkLive(env *testsuite.TestWorkflowEnvironment, e *Expect, where string, at time.Time, fail func(string, ...any)) {
	if e.State == "" && e.Ended == nil && len(e.Vars) == 0 && len(e.SLAs) == 0 {
		return
	}
	val, err := env.QueryWorkflow(workflows.QueryView)
	if err != nil {
		fail("%s: the process cannot be read (has it ended?): %v", where, err)
		return
	}
	var v engine.View
	if err := val.Get(&v); err != nil {
		fail("%s: %v", where, err)
		return
	}
	if e.State != "" && v.State != e.State {
		fail("%s: state is %s, want %s", where, v.State, e.State)
	}
	if e.Ended != nil && (v.EndedAt != nil) != *e.Ended {
		fail("%s: ended is %v, want %v", where, v.EndedAt != nil, *e.Ended)
	}
	for _, k := range sortedKeys(e.Vars) {
		if got := v.Vars[k]; !sameValue(got, e.Vars[k]) {
			fail("%s: variable %s is %v, want %v", where, k, got, e.Vars[k])
		}
	}
	for _, name := range sortedKeys(e.SLAs) {
		want := e.SLAs[name]
		var got *engine.SLAView
		for i := range v.SLAs {
			if v.SLAs[i].Name == name {
				got = &v.SLAs[i]
			}
		}
		if got == nil {
			fail("%s: no SLA %s", where, name)
			continue
		}
		if want.Status != "" && got.Status != want.Status {
			fail("%s: SLA %s is %s, want %s", where, name, got.Status, want.Status)
		}
		if want.Breached != nil && got.Breached != *want.Breached {
			fail("%s: SLA %s breached is %v, want %v", where, name, got.Breached, *want.Breached)
		}
		if want.Due != "" {
			due, err := time.Parse(time.RFC3339, want.Due)
			switch {
			case err != nil:
				fail("%s: SLA %s due %q: want an RFC 3339 time", where, name, want.Due)
			case got.Due == nil:
				fail("%s: SLA %s has no due time (it is %s), want %s", where, name, got.Status, want.Due)
			case !got.Due.Equal(due):
				fail("%s: SLA %s is due %s, want %s", where, name, got.Due.In(due.Location()).Format(time.RFC3339), want.Due)
			}
		}
	}
}

// checkEvents checks the events that had happened by the step's instant;
// inputs holds the input of each started process, by id.
func checkEvents(events []engine.Event, inputs map[string]map[string]any, e *Expect, where string, at time.Time, fail func(string, ...any)) {
	seen := map[string]bool{}
	notified := map[string]bool{}
	started := map[string][]map[string]any{} // by process: the input of each start
	released := map[string]string{}          // by process: the outcome a meeting released
	for _, ev := range events {
		if ev.At.After(at) {
			continue
		}
		seen[ev.Type] = true
		if ev.Type == engine.EventDecisionReleased {
			p, _ := ev.Data["process"].(string)
			released[p], _ = ev.Data["outcome"].(string)
		}
		if ev.Type == engine.EventSubprocessStarted {
			if p, ok := ev.Data["process"].(string); ok {
				id, _ := ev.Data["id"].(string)
				started[p] = append(started[p], inputs[id])
			}
		}
		if ev.Type == engine.EventNotification {
			for _, k := range []string{"role", "user"} {
				if s, ok := ev.Data[k].(string); ok {
					notified[s] = true
				}
			}
		}
	}
	for _, typ := range e.Events {
		if !seen[typ] {
			fail("%s: no %s event by then", where, typ)
		}
	}
	for _, typ := range e.NotEvents {
		if seen[typ] {
			fail("%s: a %s event happened by then", where, typ)
		}
	}
	for _, who := range e.Notified {
		if !notified[who] {
			fail("%s: %s was not notified by then", where, who)
		}
	}
	for _, id := range sortedKeys(e.Released) {
		if got := released[id]; got != e.Released[id] {
			fail("%s: the decision released to %s is %q, want %q", where, id, got, e.Released[id])
		}
	}
	for _, want := range e.Started {
		got, ok := started[want.Process]
		if !ok {
			fail("%s: no %s process was started by then", where, want.Process)
			continue
		}
		if len(want.Input) > 0 && !slices.ContainsFunc(got, func(in map[string]any) bool { return hasInput(in, want.Input) }) {
			fail("%s: no %s process was started with input %s by then; it was started with %s", where, want.Process, inputText(want.Input), inputsText(got))
		}
	}
}

// hasInput reports whether input gives every field of want its value.
func hasInput(input, want map[string]any) bool {
	for k, v := range want {
		got, ok := input[k]
		if !ok || !sameValue(got, v) {
			return false
		}
	}
	return true
}

func inputText(in map[string]any) string {
	parts := make([]string, 0, len(in))
	for _, k := range sortedKeys(in) {
		parts = append(parts, fmt.Sprintf("%s: %v", k, in[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func inputsText(ins []map[string]any) string {
	parts := make([]string, len(ins))
	for i, in := range ins {
		parts[i] = inputText(in)
	}
	return strings.Join(parts, " and ")
}

func sameValue(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		fb, ok := toFloat(b)
		return ok && fa == fb
	}
	return reflect.DeepEqual(a, b)
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Summary is the closing line of a run, in the form test runners print.
func Summary(results []Result) string {
	passed, failed := 0, 0
	for _, r := range results {
		if r.Passed() {
			passed++
		} else {
			failed++
		}
	}
	return strings.TrimSpace(fmt.Sprintf("%d passed, %d failed", passed, failed))
}
