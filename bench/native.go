// Package bench measures the interpreter workflow against a workflow written
// by hand for one process, and how late dev shows SLA breaches.
package bench

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/itilflow/itilflow/activities"
	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/workflows"
)

// NativeType is the workflow type of the hand-written incident.
const NativeType = "bench.NativeIncident"

// NativeInput starts a native incident: what the interpreter's Input carries,
// less the definition, which the native workflow has in its code.
type NativeInput struct {
	ID      string         `json:"id"`
	Version int            `json:"version"`
	Input   map[string]any `json:"input"`
	Actor   engine.Actor   `json:"actor"`
}

// The SLA targets of definitions/incident.yaml, by priority.
var (
	responseTargets   = map[string]time.Duration{"P1": 30 * time.Minute, "P2": 30 * time.Minute, "P3": 2 * time.Hour, "P4": 4 * time.Hour}
	resolutionTargets = map[string]time.Duration{"P1": 2 * time.Hour, "P2": 4 * time.Hour, "P3": 24 * time.Hour, "P4": 72 * time.Hour}
)

// observation is how long a resolved incident waits before it closes itself.
const observation = 7 * 24 * time.Hour

// warnAt is the share of a target at which incident.yaml's escalations warn.
const warnAt = 0.75

// The options of the interpreter's projection, which it runs as a local
// activity (workflows.projectLocalOptions).
var nativeProjectOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
	},
}

// transition is one action of the incident's lifecycle.
type transition struct {
	from, to string
	roles    []string // "$started_by" is the starter
	required string   // an input field the action needs
}

// nativeActions are the actions of incident.yaml that the benchmark's
// lifecycle takes, with the roles that may take them.
var nativeActions = map[string]transition{
	"acknowledge":       {from: "new", to: "in_progress", roles: []string{"service-desk", "tier1", "tier2", "tier3"}},
	"wait_for_customer": {from: "in_progress", to: "pending_customer", roles: []string{"service-desk", "tier1", "tier2", "tier3"}},
	"customer_replied":  {from: "pending_customer", to: "in_progress", roles: []string{"$started_by", "service-desk", "tier1", "tier2", "tier3"}},
	"resolve":           {from: "in_progress", to: "resolved", roles: []string{"service-desk", "tier1", "tier2", "tier3"}, required: "resolution"},
	"waive_knowledge":   {from: "resolved", to: "resolved", roles: []string{"service-desk"}, required: "knowledge_waiver"},
	"close":             {from: "resolved", to: "closed", roles: []string{"service-desk"}},
}

// clock is one SLA: its target, the time used before its current run and when
// that run started (zero: not running), and what has been recorded of it.
type clock struct {
	name     string
	target   time.Duration
	used     time.Duration
	since    time.Time
	status   string
	started  time.Time
	stopped  *time.Time
	warned   bool
	breached *time.Time
}

// next is when the clock next needs a wake-up (its warning, then its
// breach), if it runs.
func (c *clock) next() (time.Time, bool) {
	if c.status != engine.ClockRunning || c.breached != nil {
		return time.Time{}, false
	}
	mark := c.target
	if !c.warned {
		mark = time.Duration(float64(c.target) * warnAt)
	}
	return c.since.Add(mark - c.used), true
}

// due is when the clock breaches if it keeps running.
func (c *clock) due() *time.Time {
	if c.status != engine.ClockRunning {
		return nil
	}
	d := c.since.Add(c.target - c.used)
	return &d
}

func (c *clock) elapsed(now time.Time) time.Duration {
	if c.status == engine.ClockRunning {
		return c.used + now.Sub(c.since)
	}
	return c.used
}

// incident is the state of one native incident. Its fields are touched only
// from workflow coroutines, which never run at the same time.
type incident struct {
	in        NativeInput
	priority  string
	state     string
	vars      map[string]any
	startedAt time.Time
	endedAt   *time.Time
	seq       int64
	pending   []engine.Event
	projected int64
	response  clock
	resolve   clock
	changed   workflow.Channel
}

// NativeIncident runs definitions/incident.yaml's incident as code: the same
// states, SLA clocks (response stops on leaving new; resolution pauses while
// waiting for the customer and stops on resolution), observation timer,
// projection activity and search attributes as the interpreter, so that a
// comparison of the two measures the workflow code only.
func NativeIncident(ctx workflow.Context, in NativeInput) error {
	now := workflow.Now(ctx)
	priority, _ := in.Input["priority"].(string)
	if priority == "" {
		priority = "P3"
	}
	inc := &incident{in: in, priority: priority, state: "new", vars: map[string]any{}, startedAt: now,
		changed: workflow.NewBufferedChannel(ctx, 1)}
	inc.response = clock{name: "response", target: responseTargets[priority], status: engine.ClockRunning, since: now, started: now}
	inc.resolve = clock{name: "resolution", target: resolutionTargets[priority], status: engine.ClockRunning, since: now, started: now}
	inc.record(now, engine.Event{Type: engine.EventStarted, Actor: in.Actor.ID})
	inc.record(now, engine.Event{Type: engine.EventSLAStarted, SLA: "response"})
	inc.record(now, engine.Event{Type: engine.EventSLAStarted, SLA: "resolution"})
	if err := workflow.SetUpdateHandlerWithOptions(ctx, workflows.UpdateAction, inc.act, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, req engine.ActionRequest) error { return inc.admit(req) },
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, workflows.UpdateSync, inc.sync); err != nil {
		return err
	}
	return inc.run(ctx)
}

// admit refuses an action the incident does not allow now, before anything
// is written to the history.
func (inc *incident) admit(req engine.ActionRequest) error {
	t, ok := nativeActions[req.Action]
	if !ok || t.from != inc.state {
		return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("action %q is not possible in state %q", req.Action, inc.state), engine.ECONFLICT, temporal.ApplicationErrorOptions{NonRetryable: true})
	}
	if !inc.allowed(t, req.Actor) {
		return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("%s may not %s", req.Actor.ID, req.Action), engine.EFORBIDDEN, temporal.ApplicationErrorOptions{NonRetryable: true})
	}
	if t.required != "" {
		if s, _ := req.Input[t.required].(string); s == "" {
			return temporal.NewApplicationErrorWithOptions(t.required+" is required", engine.EINVALID, temporal.ApplicationErrorOptions{NonRetryable: true})
		}
	}
	if req.Action == "close" && inc.vars["knowledge"] == nil && inc.vars["knowledge_waiver"] == nil {
		return temporal.NewApplicationErrorWithOptions("an incident closes with a knowledge article or a waiver", engine.ECONFLICT, temporal.ApplicationErrorOptions{NonRetryable: true})
	}
	return nil
}

func (inc *incident) allowed(t transition, a engine.Actor) bool {
	for _, r := range t.roles {
		if r == "$started_by" && a.ID == inc.in.Actor.ID || slices.Contains(a.Roles, r) {
			return true
		}
	}
	return false
}

// act applies an admitted action and answers at once, as the interpreter's
// lean histories do: the caller waits for the projection.
func (inc *incident) act(ctx workflow.Context, req engine.ActionRequest) (workflows.Result, error) {
	now := workflow.Now(ctx)
	inc.wake(now)
	t := nativeActions[req.Action]
	from := inc.state
	inc.record(now, engine.Event{Type: engine.EventAction, Actor: req.Actor.ID, Action: req.Action, From: from, To: t.to, Data: req.Input, RequestID: req.RequestID})
	for k, v := range req.Input {
		inc.vars[k] = v
	}
	inc.enter(now, from, t.to)
	inc.changed.SendAsync(true)
	return inc.sync(ctx)
}

func (inc *incident) sync(workflow.Context) (workflows.Result, error) {
	return workflows.Result{Projected: inc.projected >= inc.seq, Seq: inc.seq, State: inc.state}, nil
}

// enter moves the incident from one state to another and moves its clocks as
// incident.yaml says.
func (inc *incident) enter(now time.Time, from, to string) {
	inc.state = to
	if from == to {
		return
	}
	if from == "new" {
		inc.stop(now, &inc.response)
	}
	switch to {
	case "pending_customer":
		inc.pause(now, &inc.resolve)
	case "in_progress":
		if inc.resolve.status == engine.ClockPaused {
			inc.resolve.status, inc.resolve.since = engine.ClockRunning, now
			inc.record(now, engine.Event{Type: engine.EventSLAResumed, SLA: inc.resolve.name})
		}
	case "resolved":
		inc.stop(now, &inc.resolve)
	case "closed":
		inc.stop(now, &inc.resolve)
		inc.endedAt = &now
		inc.record(now, engine.Event{Type: engine.EventEnded, To: to})
	}
}

func (inc *incident) pause(now time.Time, c *clock) {
	if c.status != engine.ClockRunning {
		return
	}
	c.used, c.status = c.elapsed(now), engine.ClockPaused
	inc.record(now, engine.Event{Type: engine.EventSLAPaused, SLA: c.name})
}

func (inc *incident) stop(now time.Time, c *clock) {
	if c.status == engine.ClockStopped {
		return
	}
	c.used, c.status, c.stopped = c.elapsed(now), engine.ClockStopped, &now
	inc.record(now, engine.Event{Type: engine.EventSLAStopped, SLA: c.name})
}

// wake records what fell due by now: SLA warnings and breaches, and the end
// of the observation period.
func (inc *incident) wake(now time.Time) {
	for _, c := range []*clock{&inc.response, &inc.resolve} {
		for at, ok := c.next(); ok && !at.After(now); at, ok = c.next() {
			if !c.warned {
				c.warned = true
				inc.record(now, engine.Event{Type: engine.EventSLAWarning, SLA: c.name})
				continue
			}
			c.breached = &at
			inc.record(now, engine.Event{Type: engine.EventSLABreached, SLA: c.name})
		}
	}
	if at, ok := inc.observationEnds(); ok && !at.After(now) {
		inc.record(now, engine.Event{Type: engine.EventTimerFired, Actor: engine.System.ID, Action: "close", From: inc.state, To: "closed"})
		inc.enter(now, inc.state, "closed")
	}
}

// observationEnds is when a resolved incident closes itself.
func (inc *incident) observationEnds() (time.Time, bool) {
	if inc.state != "resolved" || inc.resolve.stopped == nil {
		return time.Time{}, false
	}
	return inc.resolve.stopped.Add(observation), true
}

// nextWake is the earliest wake-up the incident needs.
func (inc *incident) nextWake() (time.Time, bool) {
	var best time.Time
	found := false
	consider := func(t time.Time, ok bool) {
		if ok && (!found || t.Before(best)) {
			best, found = t, true
		}
	}
	consider(inc.response.next())
	consider(inc.resolve.next())
	consider(inc.observationEnds())
	return best, found
}

func (inc *incident) record(now time.Time, e engine.Event) {
	inc.seq++
	e.Seq, e.At = inc.seq, now
	if e.Actor == "" {
		e.Actor = engine.System.ID
	}
	inc.pending = append(inc.pending, e)
}

// view is the incident as the projection stores it.
func (inc *incident) view(now time.Time) engine.View {
	v := engine.View{ID: inc.in.ID, Definition: "incident", Version: inc.in.Version, State: inc.state, Priority: inc.priority,
		Input: inc.in.Input, Vars: inc.vars, StartedAt: inc.startedAt, StartedBy: inc.in.Actor.ID, EndedAt: inc.endedAt, Seq: inc.seq}
	for _, c := range []*clock{&inc.response, &inc.resolve} {
		v.SLAs = append(v.SLAs, engine.SLAView{Name: c.name, Status: c.status, Target: engine.Duration(c.target), Due: c.due(),
			Breached: c.breached != nil, BreachAt: c.breached, Elapsed: engine.Duration(c.elapsed(now)), StartedAt: c.started,
			StoppedAt: c.stopped, Warned: c.warned})
	}
	if t, ok := inc.nextWake(); ok {
		v.NextWake = &t
	}
	return v
}

// run keeps one timer armed for the next wake-up and one projection in
// flight, like the interpreter: search attributes written when they change
// from the start options', a timer kept when the wake-up moves later, none
// cancelled at the end. It ends once the incident is closed, stored, and no
// update handler runs.
func (inc *incident) run(ctx workflow.Context) error {
	var (
		timer       workflow.Future
		timerAt     time.Time
		cancelTimer workflow.CancelFunc
		projection  workflow.Future
		attrState   = inc.state // the start options set it
	)
	for {
		now := workflow.Now(ctx)
		inc.wake(now)
		if attrState != inc.state {
			attrState = inc.state
			if err := workflow.UpsertTypedSearchAttributes(ctx, workflows.AttrDefinition.ValueSet("incident"),
				workflows.AttrState.ValueSet(inc.state), workflows.AttrPriority.ValueSet(inc.priority)); err != nil {
				return err
			}
		}
		if projection == nil && len(inc.pending) > 0 {
			projection = inc.project(ctx)
		}
		if inc.endedAt != nil && projection == nil && len(inc.pending) == 0 {
			return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
		}
		wakeAt, wake := inc.nextWake()
		keep := timer != nil && (!wake || !wakeAt.Before(timerAt))
		if !keep && (!wake || !wakeAt.Equal(timerAt)) {
			if cancelTimer != nil {
				cancelTimer()
			}
			timer, cancelTimer, timerAt = nil, nil, time.Time{}
			if wake {
				tctx, cancel := workflow.WithCancel(ctx)
				timer = workflow.NewTimer(tctx, wakeAt.Sub(now))
				cancelTimer, timerAt = cancel, wakeAt
			}
		}
		sel := workflow.NewSelector(ctx)
		if timer != nil {
			sel.AddFuture(timer, func(workflow.Future) { timer, cancelTimer, timerAt = nil, nil, time.Time{} })
		}
		if projection != nil {
			sel.AddFuture(projection, func(f workflow.Future) {
				projection = nil
				if err := f.Get(ctx, nil); err != nil {
					workflow.GetLogger(ctx).Error("projection failed", "error", err)
				}
			})
		}
		sel.AddReceive(inc.changed, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		sel.Select(ctx)
	}
}

// project hands the pending events and the whole view to the interpreter's
// projection activity, and forgets the events once they are stored.
func (inc *incident) project(ctx workflow.Context) workflow.Future {
	events := append([]engine.Event(nil), inc.pending...)
	in := activities.ProjectInput{View: inc.view(workflow.Now(ctx)), Events: events}
	var acts *activities.Activities
	// A local activity's input is not encoded: hand it a copy, as the
	// interpreter does.
	dc := converter.GetDefaultDataConverter()
	var local activities.ProjectInput
	p, err := dc.ToPayload(in)
	if err == nil {
		err = dc.FromPayload(p, &local)
	}
	if err != nil {
		failed, settle := workflow.NewFuture(ctx)
		settle.Set(nil, err)
		return failed
	}
	f := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, nativeProjectOptions), acts.ProjectRecorded, local)
	settled, settle := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		err := f.Get(ctx, nil)
		if err == nil {
			last := events[len(events)-1].Seq
			inc.projected = last
			inc.pending = slices.DeleteFunc(inc.pending, func(e engine.Event) bool { return e.Seq <= last })
		}
		settle.Set(nil, err)
	})
	return settled
}

// RegisterNative registers the native incident on a worker or replayer.
func RegisterNative(r workflows.Registry) {
	r.RegisterWorkflowWithOptions(NativeIncident, workflow.RegisterOptions{Name: NativeType})
}
