package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/itilflow/itilflow/activities"
	"github.com/itilflow/itilflow/engine"
)

// Input starts a process: the compiled definition travels with it, so the instance
// never changes definition underneath it and replay needs nothing but the history.
type Input struct {
	ID         string            `json:"id"`
	Definition engine.Definition `json:"definition"`
	Version    int               `json:"version"`
	Input      map[string]any    `json:"input"`
	Actor      engine.Actor      `json:"actor"`
	// Hash identifies the definition's text (store.SourceHash), so the history
	// names exactly which published definition it ran.
	Hash string `json:"hash,omitempty"`
	// RequestID is the API request that started the process, for the audit log.
	RequestID string `json:"request_id,omitempty"`
	// Parent is the process whose start step started this one; it is told when
	// this one ends.
	Parent *ParentRef `json:"parent,omitempty"`
	// Resume carries the process into a new run (continue-as-new): as the
	// previous run left it. Nil for the first run.
	Resume *Resume `json:"resume,omitempty"`
	// Attributes are the search attributes the start set (StartOptions);
	// nil when the starter did not say.
	Attributes *Attributes `json:"attributes,omitempty"`
}

// Attributes are the values of a process workflow's search attributes.
type Attributes struct {
	Definition string `json:"definition"`
	State      string `json:"state"`
	Priority   string `json:"priority"`
}

// Resume is a process carried into a new run of its workflow.
type Resume struct {
	Instance engine.Instance `json:"instance"`
	// ProjectedSeq is the last event the projection holds.
	ProjectedSeq int64 `json:"projected_seq"`
	// Lean is the version of leanHistory the first run took.
	Lean workflow.Version `json:"lean"`
	// Run numbers the runs of the process from 1.
	Run int `json:"run"`
	// Limits are the limits of a run the first run recorded.
	Limits Limits `json:"limits"`
	// Attributes are the search attributes the previous run left, which the
	// new run starts with (from leanTasks on).
	Attributes *Attributes `json:"attributes,omitempty"`
}

// Limits bound one run of a process's workflow: past either (or when
// Temporal suggests it) the process continues in a new run, so a major
// incident reminded every hour for months or a weekly CAB never outgrows its
// history. They are the worker's, recorded by the process's first run (a side
// effect) and carried into the next: a worker started with other limits does
// not change where a recorded history continued.
type Limits struct {
	Events int `json:"events"`
	Bytes  int `json:"bytes"`
}

// DefaultLimits keep a run far below Temporal's own (50,000 events, 50 MB).
var DefaultLimits = Limits{Events: 10_000, Bytes: 10 << 20}

// ParentRef names the process that started another.
type ParentRef struct {
	ID         string `json:"id"`
	Definition string `json:"definition"`
}

// ChildEnd is the payload of SignalChildEnded: the process that ended and the
// state it ended in.
type ChildEnd struct {
	ID         string `json:"id"`
	Definition string `json:"definition"`
	State      string `json:"state"`
}

// Result is what an action or a sync returns to the caller.
type Result struct {
	// View is the process after the change, in workflows started before lean
	// histories (see leanHistory); lean ones leave it out — it would be
	// written into the history with every action — and the caller reads the
	// projection once it reaches Seq.
	View *engine.View `json:"view,omitempty"`
	// Projected is false when PostgreSQL had not caught up (within syncWait,
	// before lean histories): the change is durable in the history, but reads
	// may lag behind it.
	Projected bool `json:"projected"`
	// Seq and State are the process's after the change.
	Seq   int64  `json:"seq,omitempty"`
	State string `json:"state,omitempty"`
}

// leanHistory is the change that keeps histories small: projections carry a
// compact view (engine.CompactView) instead of the whole one, and updates
// answer at once, with no view and no timer to wait for the projection (the
// caller waits for PostgreSQL). Histories recorded before it replay the old
// way.
const leanHistory = "lean-history"

// Versions of leanHistory.
const (
	// leanProjections: compact projections, updates that answer at once.
	leanProjections workflow.Version = 1
	// leanRuns: and a process continues as new past its run's Limits.
	leanRuns workflow.Version = 2
	// leanTasks: and one workflow task per change. The projection runs as a
	// local activity in the task that made the change (no activity task, no
	// second workflow task to hear it finished); search attributes are
	// written only when they differ from what the workflow already has (the
	// start options set them first); a timer armed for a wake-up that moved
	// later is kept — it wakes the process early once, which costs less
	// than cancelling and starting one with every action — and none is
	// cancelled when the run ends.
	leanTasks workflow.Version = 3
)

// syncWait bounds how long an update waits for its projection before returning.
const syncWait = 10 * time.Second

// projectLocalOptions are projectOptions for the projection run as a local
// activity (leanTasks): retried until the database is back, past the
// workflow task by timers the SDK schedules.
var projectLocalOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout: projectOptions.StartToCloseTimeout,
	RetryPolicy:         projectOptions.RetryPolicy,
}

var projectOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	// Retry until the database is back: the projection must never be lost.
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
	},
}

// Process runs one instance of a definition until it reaches a final state.
func Process(ctx workflow.Context, in Input) (engine.View, error) {
	return process(ctx, in, nil, DefaultLimits)
}

// ProcessWith is Process with definitions and their expressions shared by
// content (nil: each keeps its own) and the given limits of a run.
func ProcessWith(shared *engine.Shared, limits Limits) func(workflow.Context, Input) (engine.View, error) {
	return func(ctx workflow.Context, in Input) (engine.View, error) { return process(ctx, in, shared, limits) }
}

func process(ctx workflow.Context, in Input, shared *engine.Shared, limits Limits) (engine.View, error) {
	// The worker keeps one copy of each definition for all its workflows;
	// this run's input keeps none (continueAsNew hands the shared one on).
	own := in.Definition
	def := shared.Definition(&own)
	in.Definition = engine.Definition{}
	r := &runner{def: def, changed: workflow.NewBufferedChannel(ctx, 1), input: in, runNumber: 1}
	if res := in.Resume; res != nil {
		r.inst, r.projectedSeq, r.version, r.runNumber, r.limits = &res.Instance, res.ProjectedSeq, res.Lean, res.Run, res.Limits
	} else {
		inst, err := engine.Start(def, in.ID, in.Version, in.Input, in.Actor, in.RequestID, workflow.Now(ctx))
		if err != nil {
			return engine.View{}, toApplicationError(err)
		}
		if in.Parent != nil {
			// Only processes started by a start step have a parent, so histories
			// recorded before start steps existed never come here.
			inst.LinkParent(in.Parent.ID, in.Parent.Definition, workflow.Now(ctx))
		}
		r.inst = inst
		r.version = workflow.GetVersion(ctx, leanHistory, workflow.DefaultVersion, leanTasks)
		if r.version >= leanRuns {
			if err := workflow.SideEffect(ctx, func(workflow.Context) any { return limits }).Get(&r.limits); err != nil {
				return engine.View{}, err
			}
		}
	}
	r.lean = r.version >= leanProjections
	r.tasks = r.version >= leanTasks
	if r.tasks {
		r.knownAttributes(in)
	}
	inst := r.inst
	if err := r.register(ctx); err != nil {
		return engine.View{}, err
	}
	err := r.run(ctx)
	if in.Parent != nil && inst.Ended() {
		r.tellParent(ctx, *in.Parent)
	}
	if err != nil {
		return engine.View{}, err
	}
	return inst.View(def, workflow.Now(ctx)), nil
}

// runner is the state of one workflow run. All fields are touched only from
// workflow coroutines, which never run at the same time.
type runner struct {
	def          *engine.Definition
	inst         *engine.Instance
	changed      workflow.Channel // poked by update handlers
	childEnded   workflow.ReceiveChannel
	flights      []flight // effects whose activity is running, in the order started
	projectedSeq int64
	// definition, state and priority last written to the search attributes
	// (definition only from leanTasks on, which starts from the start's).
	definition, state, priority string
	// version is the leanHistory the process's first run took; lean is set
	// from leanProjections on, and compactor then remembers what the store
	// holds of the current approval.
	version workflow.Version
	lean    bool
	tasks   bool // from leanTasks on
	// taskLength is the history's length when the current workflow task
	// began, and taskBytes what its local projections have carried so far.
	taskLength, taskBytes int
	compactor             engine.Compactor
	// limits bound this run (from leanRuns on; zero before); input started
	// it, and runNumber numbers it. staysInRun is set once the process is
	// too large to carry into another run (nextRun).
	limits     Limits
	input      Input
	runNumber  int
	staysInRun bool
}

func (r *runner) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryView, func() (engine.View, error) {
		return r.inst.View(r.def, workflow.Now(ctx)), nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAction, r.action, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, req engine.ActionRequest) error {
			_, err := r.inst.Admit(r.def, req, workflow.Now(ctx))
			return toApplicationError(err)
		},
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, UpdateSync, r.sync); err != nil {
		return err
	}
	// Registering a handler issues no command: histories from before boards
	// existed replay unchanged.
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateRelease, r.release, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, rel engine.Release) error {
			return toApplicationError(r.inst.AdmitRelease(r.def, rel))
		},
	}); err != nil {
		return err
	}
	// Work notes came later; registering their handler issues no command either.
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateComment, r.comment, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, req CommentRequest) error {
			return toApplicationError(r.inst.CheckComment(req.Actor, req.Comment))
		},
	}); err != nil {
		return err
	}
	// Every process listens, whether or not it starts others: a signal channel
	// issues no command, so histories recorded before it existed still replay.
	r.childEnded = workflow.GetSignalChannel(ctx, SignalChildEnded)
	return nil
}

// action applies an action that the validator accepted.
func (r *runner) action(ctx workflow.Context, req engine.ActionRequest) (Result, error) {
	now := workflow.Now(ctx)
	// Whatever fell due before now happened before this action: a late
	// acknowledgement still records the breach first.
	r.inst.Advance(r.def, now)
	if err := r.inst.Apply(r.def, req, now); err != nil {
		r.poke()
		return Result{}, toApplicationError(err)
	}
	r.poke()
	return r.sync(ctx)
}

// CommentRequest is a work note as the API sends it.
type CommentRequest struct {
	Actor     engine.Actor `json:"actor"`
	Comment   string       `json:"comment"`
	RequestID string       `json:"request_id,omitempty"`
}

// comment records a work note that the validator accepted.
func (r *runner) comment(ctx workflow.Context, req CommentRequest) (Result, error) {
	err := r.inst.AddComment(r.def, req.Actor, req.Comment, req.RequestID, workflow.Now(ctx))
	r.poke()
	if err != nil {
		return Result{}, toApplicationError(err)
	}
	return r.sync(ctx)
}

// release takes a meeting's decision that the validator accepted.
func (r *runner) release(ctx workflow.Context, rel engine.Release) (Result, error) {
	now := workflow.Now(ctx)
	r.inst.Advance(r.def, now)
	err := r.inst.Release(r.def, rel, now)
	r.poke()
	if err != nil {
		return Result{}, toApplicationError(err)
	}
	return r.sync(ctx)
}

// sync reports the process's state once everything that has happened so far
// is handed to the projection. Workflows started before lean histories wait
// (up to syncWait) until PostgreSQL holds it, so a caller that reads it next
// sees its own change; lean ones answer at once and the caller waits for the
// projection itself (service.after): a wait here costs a timer, and two
// events, with every action.
func (r *runner) sync(ctx workflow.Context) (Result, error) {
	seq := r.inst.Seq
	if r.lean {
		return Result{Projected: r.projectedSeq >= seq, Seq: seq, State: r.inst.State}, nil
	}
	ok, err := workflow.AwaitWithTimeout(ctx, syncWait, func() bool { return r.projectedSeq >= seq })
	if err != nil {
		return Result{}, err
	}
	v := r.inst.View(r.def, workflow.Now(ctx))
	return Result{View: &v, Projected: ok}, nil
}

func (r *runner) poke() { r.changed.SendAsync(true) }

// run is the state-machine loop: it keeps one timer armed for the next wake-up and
// one projection in flight, and ends once the instance has ended, everything is
// projected and no update handler is still running.
func (r *runner) run(ctx workflow.Context) error {
	var (
		timer       workflow.Future
		timerAt     time.Time
		cancelTimer workflow.CancelFunc
		projection  workflow.Future
	)
	logger := workflow.GetLogger(ctx)
	for {
		// Cancelled (an operator, from Temporal): timers made from a cancelled
		// context resolve at once, so staying in the loop would spin.
		if err := ctx.Err(); err != nil {
			r.recordCancel(ctx)
			return err
		}
		now := workflow.Now(ctx)
		r.inst.Advance(r.def, now)
		if err := r.upsertSearchAttributes(ctx); err != nil {
			return err
		}
		if projection == nil && len(r.inst.Pending) > 0 {
			projection = r.project(ctx)
		}
		// Histories recorded before effects existed have none: this schedules
		// nothing for them.
		r.startEffects(ctx)
		if r.inst.Ended() && projection == nil && len(r.inst.Pending) == 0 && len(r.flights) == 0 {
			// Everything is stored; end once no update handler is still running.
			// Temporal drops a timer still pending when the run ends.
			if cancelTimer != nil && !r.tasks {
				cancelTimer()
			}
			return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
		}
		if projection == nil && len(r.inst.Pending) == 0 && len(r.flights) == 0 && r.full(ctx) {
			// Quiet (all stored, no activity running) and the run is long:
			// go on in a new run once signals already sent are taken and no
			// update is being handled.
			if r.drainChildEnds(ctx) {
				continue // a child's end changed the process: store it first
			}
			if workflow.AllHandlersFinished(ctx) {
				if next, ok := r.nextRun(ctx); ok {
					if cancelTimer != nil && !r.tasks {
						cancelTimer()
					}
					return workflow.NewContinueAsNewError(ctx, ProcessType, next)
				}
			}
		}

		wakeAt, what, wake := r.inst.NextWake(r.def)
		// A timer kept (keepTimer) fires first; the loop arms the next one then.
		if !r.keepTimer(timer != nil, timerAt, wakeAt, wake) && (!wake || !wakeAt.Equal(timerAt)) {
			if cancelTimer != nil {
				cancelTimer()
			}
			timer, cancelTimer, timerAt = nil, nil, time.Time{}
			if wake {
				// Advance has run, so wakeAt is after now and the timer is real.
				tctx, cancel := workflow.WithCancel(ctx)
				timer = workflow.NewTimerWithOptions(tctx, wakeAt.Sub(now), workflow.TimerOptions{Summary: what})
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
					// Only a non-retryable failure gets here; the events stay pending
					// and go out again with the next change.
					logger.Error("projection failed", "error", err)
				}
			})
		}
		r.addEffects(ctx, sel)
		sel.AddReceive(r.changed, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		sel.AddReceive(r.childEnded, func(c workflow.ReceiveChannel, _ bool) { r.receiveChildEnd(ctx, c) })
		// Wake on cancellation too: with no timer pending nothing else would.
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
		sel.Select(ctx)
	}
}

// keepTimer reports whether the timer armed for timerAt stays although the
// next wake-up is wakeAt (or none): from leanTasks on it stays unless the
// wake-up moved earlier.
func (r *runner) keepTimer(armed bool, timerAt, wakeAt time.Time, wake bool) bool {
	return r.tasks && armed && (!wake || !wakeAt.Before(timerAt))
}

// full reports whether this run should hand over to a new one: Temporal
// suggests it, or the run passed its limits. Processes whose first run came
// before leanRuns have no limits and never continue as new.
func (r *runner) full(ctx workflow.Context) bool {
	if r.version < leanRuns || r.staysInRun {
		return false
	}
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() ||
		(r.limits.Events > 0 && info.GetCurrentHistoryLength() >= r.limits.Events) ||
		(r.limits.Bytes > 0 && info.GetCurrentHistorySize() >= r.limits.Bytes)
}

// drainChildEnds takes the child ends already signalled, which a new run
// would not receive; it reports whether there were any.
func (r *runner) drainChildEnds(ctx workflow.Context) bool {
	took := false
	for {
		var end ChildEnd
		if !r.childEnded.ReceiveAsync(&end) {
			return took
		}
		took = true
		now := workflow.Now(ctx)
		r.inst.Advance(r.def, now)
		r.inst.ChildEnded(r.def, end.ID, end.State, now)
	}
}

// maxCarried bounds the input a run hands to the next: Temporal refuses a
// workflow task completion whose payloads pass 2 MB, and a run that
// cannot continue as new would fail its task for ever. Before leanTasks
// the bound is that limit itself (no recorded run carried more); from it
// on, a margin is kept for what else the task carries.
func (r *runner) maxCarried() int {
	if r.tasks {
		return 1536 << 10
	}
	return 2 << 20
}

// nextRun is the input of the run that continues this one, and false when
// the process is too large to carry (a meeting of hundreds of items with
// long comments): it then stays in this run, whose history Temporal bounds
// at 50 MB, and says so once.
func (r *runner) nextRun(ctx workflow.Context) (Input, bool) {
	next := r.continued()
	p, err := converter.GetDefaultDataConverter().ToPayload(next)
	size := proto.Size(p) // 0 when it could not be encoded
	if err == nil && size <= r.maxCarried() {
		return next, true
	}
	r.staysInRun = true
	workflow.GetLogger(ctx).Warn("the process is too large to continue as new; it stays in this run", "bytes", size, "limit", r.maxCarried(), "error", err)
	return Input{}, false
}

// continued is the input of the next run: the process as it stands — its
// instance, what the projection holds, and the run's limits.
func (r *runner) continued() Input {
	next := r.input
	next.Definition = *r.def
	next.Resume = &Resume{Instance: *r.inst, ProjectedSeq: r.projectedSeq, Lean: r.version, Run: r.runNumber + 1, Limits: r.limits}
	if r.tasks {
		// The new run starts with this one's search attributes.
		next.Resume.Attributes = &Attributes{Definition: r.definition, State: r.state, Priority: r.priority}
	}
	return next
}

// recordCancel ends the instance and projects that, on a context the
// cancellation does not reach, so PostgreSQL does not show the process open for
// ever.
func (r *runner) recordCancel(ctx workflow.Context) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	r.inst.Cancel(r.def, workflow.Now(dctx))
	if err := r.project(dctx).Get(dctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("projecting the cancellation failed", "error", err)
	}
}

// project hands the pending events and the current view to the projection
// activity, and forgets the events once it has stored them.
func (r *runner) project(ctx workflow.Context) workflow.Future {
	events := append([]engine.Event(nil), r.inst.Pending...)
	in := activities.ProjectInput{View: r.inst.View(r.def, workflow.Now(ctx)), Events: events}
	if r.lean {
		view, patch := r.compactor.Compact(r.inst, in.View, events)
		in.View, in.Patch = view, &patch
	}
	f := r.startProjection(ctx, in)
	settled, settle := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		err := f.Get(ctx, nil)
		if err == nil && in.Patch != nil {
			r.compactor.Stored(in.View, *in.Patch, events)
		}
		if err == nil {
			last := events[len(events)-1].Seq
			r.projectedSeq = last
			keep := r.inst.Pending[:0]
			for _, e := range r.inst.Pending {
				if e.Seq > last {
					keep = append(keep, e)
				}
			}
			r.inst.Pending = keep
		}
		settle.Set(nil, err)
	})
	return settled
}

// knownAttributes takes the search attributes the run started with, as its
// input says (the start options', or the previous run's), so that only a
// change is written.
func (r *runner) knownAttributes(in Input) {
	a := in.Attributes
	if in.Resume != nil {
		a = in.Resume.Attributes
	}
	if a != nil {
		r.definition, r.state, r.priority = a.Definition, a.State, a.Priority
	}
}

// startProjection runs the projection: from leanTasks on as a local
// activity in this workflow task while the task's budget lasts (fitsTask),
// otherwise, and before leanTasks, as an activity.
func (r *runner) startProjection(ctx workflow.Context, in activities.ProjectInput) workflow.Future {
	var acts *activities.Activities
	if r.tasks {
		// A local activity is handed its arguments as they are, not encoded:
		// give it a copy, as a worker decodes an activity's, which nothing the
		// workflow does next can change under it.
		local, size, err := detach(in)
		if err != nil {
			failed, settle := workflow.NewFuture(ctx)
			settle.Set(nil, err)
			return failed
		}
		if r.fitsTask(ctx, size) {
			return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, projectLocalOptions), acts.ProjectRecorded, local)
		}
	}
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, projectOptions), acts.Project, in)
}

// detach copies in through the data converter, as a worker hands an
// activity its input, and tells its encoded size.
func detach(in activities.ProjectInput) (activities.ProjectInput, int, error) {
	dc := converter.GetDefaultDataConverter()
	var out activities.ProjectInput
	p, err := dc.ToPayload(in)
	if err == nil {
		err = dc.FromPayload(p, &out)
	}
	return out, proto.Size(p), err
}

// taskBudget bounds what the projections run as local activities in one
// workflow task add to its completion, which records their results:
// Temporal refuses a completion whose payloads pass 2 MB (a meeting of 200
// items voted on fast made several large projections in one task).
const taskBudget = 512 << 10

// fitsTask reports whether a projection of size bytes fits in what this
// workflow task may still carry, and counts it if it does. The history's
// length tells one task from the next; a projection that does not fit runs
// as an activity, and the task that hears it finished starts afresh.
func (r *runner) fitsTask(ctx workflow.Context, size int) bool {
	if n := workflow.GetInfo(ctx).GetCurrentHistoryLength(); n != r.taskLength {
		r.taskLength, r.taskBytes = n, 0
	}
	if r.taskBytes+size > taskBudget {
		return false
	}
	r.taskBytes += size
	return true
}

func (r *runner) upsertSearchAttributes(ctx workflow.Context) error {
	if r.state == r.inst.State && r.priority == r.inst.Priority() && (!r.tasks || r.definition == r.def.Name) {
		return nil
	}
	r.definition, r.state, r.priority = r.def.Name, r.inst.State, r.inst.Priority()
	return workflow.UpsertTypedSearchAttributes(ctx,
		AttrDefinition.ValueSet(r.def.Name),
		AttrState.ValueSet(r.inst.State),
		AttrPriority.ValueSet(r.inst.Priority()),
	)
}

// toApplicationError carries an engine error across the Temporal boundary: the
// client receives an ApplicationError whose type is the error code and whose
// details hold the *engine.Error, so the API can answer with the right status.
func toApplicationError(err error) error {
	var e *engine.Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(e.Message, e.Code, temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{e}})
}

// EngineError is the inverse of toApplicationError: the *engine.Error a
// workflow refused with (an update validator, a failed update), if err
// carries one.
func EngineError(err error) (*engine.Error, bool) {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return nil, false
	}
	var e engine.Error
	if !app.HasDetails() || app.Details(&e) != nil || e.Code == "" {
		return nil, false
	}
	return &e, true
}
