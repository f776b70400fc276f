package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/itilflow/itilflow/activities"
	"github.com/itilflow/itilflow/engine"
)

// Effects are the steps that reach outside the process (engine.Effect): the
// runner carries out each with one activity, which runs while the process goes
// on taking actions and firing timers, and reports the outcome to the instance
// when the activity ends.

// flight is an effect whose activity is running.
type flight struct {
	effect engine.Effect
	future workflow.Future
}

// startOptions: starting a process (or collecting an agenda, or releasing a
// decision) fails for good only when what is asked is wrong (a non-retryable
// error); the database or Temporal being down only delays it.
var startOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
	},
}

// webhookOptions gives each attempt the webhook's timeout, and makes as many
// attempts as it has retries, plus one.
func webhookOptions(w *engine.WebhookCall) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: time.Duration(w.Timeout),
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    int32(w.Retries + 1),
		},
		Summary: w.Method + " " + w.URL,
	}
}

// startEffects schedules an activity for every pending effect that has none
// running, in the order the instance asked for them. An effect stays pending
// until its activity ends, so it is never carried out twice.
func (r *runner) startEffects(ctx workflow.Context) {
	for _, e := range r.inst.Effects {
		if r.inFlight(e.ID) {
			continue
		}
		if r.lean && e.Release != nil && r.projectedSeq < e.ID {
			// Its activity reads the votes' comments from the store: start it
			// once the projection holds the vote that decided.
			continue
		}
		if e.Count != nil && r.projectedSeq < e.ID {
			// Count once the projection holds this process: of two processes
			// started at once, the one counting last then sees the other,
			// so the third of three is always counted as such.
			continue
		}
		var acts *activities.Activities
		var f workflow.Future
		switch {
		case e.Webhook != nil:
			actx := workflow.WithActivityOptions(ctx, webhookOptions(e.Webhook))
			f = workflow.ExecuteActivity(actx, acts.CallWebhook, activities.WebhookInput{Process: r.inst.ID, Effect: e.ID, Call: *e.Webhook})
		case e.Start != nil:
			actx := workflow.WithActivityOptions(ctx, startOptions)
			f = workflow.ExecuteActivity(actx, acts.StartProcess, activities.StartInput{Parent: r.inst.ID, ParentDefinition: r.def.Name,
				Effect: e.ID, Process: e.Start.Process, Input: e.Start.Input, Once: e.Start.Once})
		case e.Count != nil:
			actx := workflow.WithActivityOptions(ctx, startOptions)
			f = workflow.ExecuteActivity(actx, acts.CountProcesses, activities.CountInput{Process: r.inst.ID, Effect: e.ID,
				Rule: e.Count.Rule, Definition: e.Count.Definition, CI: e.Count.CI, Since: e.Count.Since})
		case e.Collect != nil:
			actx := workflow.WithActivityOptions(ctx, startOptions)
			f = workflow.ExecuteActivity(actx, acts.CollectAgenda, activities.CollectInput{Meeting: r.inst.ID, Effect: e.ID,
				Board: e.Collect.Board, Process: e.Collect.Process})
		case e.Resolve != nil:
			actx := workflow.WithActivityOptions(ctx, startOptions)
			f = workflow.ExecuteActivity(actx, acts.ResolveApprovers, activities.ResolveInput{Process: r.inst.ID, Roles: e.Resolve.Roles, Groups: e.Resolve.Groups})
		case e.Recipients != nil:
			actx := workflow.WithActivityOptions(ctx, startOptions)
			f = workflow.ExecuteActivity(actx, acts.ResolveRecipients, activities.RecipientsInput{Process: r.inst.ID, Groups: e.Recipients.Groups})
		case e.Release != nil:
			actx := workflow.WithActivityOptions(ctx, startOptions)
			in := activities.ReleaseInput{Effect: e.ID, Release: *e.Release}
			if r.lean {
				// The comments are in the vote events: the activity reads them back.
				in.Release.Votes = make([]engine.Vote, len(e.Release.Votes))
				for i, v := range e.Release.Votes {
					v.Comment = ""
					in.Release.Votes[i] = v
				}
				in.CommentsFromStore = true
			}
			f = workflow.ExecuteActivity(actx, acts.ReleaseDecision, in)
		default:
			// An effect this code does not know: leave it pending rather than
			// guess; the process can still end.
			continue
		}
		r.flights = append(r.flights, flight{effect: e, future: f})
	}
}

func (r *runner) inFlight(id int64) bool {
	for _, f := range r.flights {
		if f.effect.ID == id {
			return true
		}
	}
	return false
}

// addEffects has the selector wake the loop when an effect's activity ends.
func (r *runner) addEffects(ctx workflow.Context, sel workflow.Selector) {
	for _, fl := range r.flights {
		sel.AddFuture(fl.future, func(f workflow.Future) { r.completeEffect(ctx, fl, f) })
	}
}

// completeEffect hands an effect's outcome to the instance.
func (r *runner) completeEffect(ctx workflow.Context, fl flight, f workflow.Future) {
	for i := range r.flights {
		if r.flights[i].effect.ID == fl.effect.ID {
			r.flights = append(r.flights[:i:i], r.flights[i+1:]...)
			break
		}
	}
	if ctx.Err() != nil {
		// Cancelled with the workflow: the loop records the cancellation, not a
		// failed step.
		return
	}
	now := workflow.Now(ctx)
	// Whatever fell due before now happened before the outcome arrived.
	r.inst.Advance(r.def, now)
	e := fl.effect
	switch {
	case e.Webhook != nil:
		var resp engine.WebhookResponse
		if err := f.Get(ctx, &resp); err != nil {
			r.inst.CompleteWebhook(r.def, e.ID, nil, failure(err, e.Webhook.Timeout), now)
			return
		}
		r.inst.CompleteWebhook(r.def, e.ID, &resp, "", now)
	case e.Start != nil:
		var child string
		if err := f.Get(ctx, &child); err != nil {
			r.inst.CompleteStart(r.def, e.ID, "", failure(err, 0), now)
			return
		}
		r.inst.CompleteStart(r.def, e.ID, child, "", now)
	case e.Collect != nil:
		var items []engine.AgendaItem
		if err := f.Get(ctx, &items); err != nil {
			r.inst.CompleteCollect(r.def, e.ID, nil, failure(err, 0), now)
			return
		}
		r.inst.CompleteCollect(r.def, e.ID, items, "", now)
	case e.Count != nil:
		var ids []string
		if err := f.Get(ctx, &ids); err != nil {
			r.inst.CompleteCount(r.def, e.ID, nil, failure(err, 0), now)
			return
		}
		r.inst.CompleteCount(r.def, e.ID, ids, "", now)
	case e.Resolve != nil:
		var members []string
		if err := f.Get(ctx, &members); err != nil {
			r.inst.CompleteResolve(r.def, e.ID, nil, failure(err, 0), now)
			return
		}
		r.inst.CompleteResolve(r.def, e.ID, members, "", now)
	case e.Recipients != nil:
		var members []string
		if err := f.Get(ctx, &members); err != nil {
			r.inst.CompleteRecipients(e.ID, nil, failure(err, 0), now)
			return
		}
		r.inst.CompleteRecipients(e.ID, members, "", now)
	case e.Release != nil:
		if err := f.Get(ctx, nil); err != nil {
			r.inst.CompleteRelease(e.ID, failure(err, 0), now)
			return
		}
		r.inst.CompleteRelease(e.ID, "", now)
	}
}

// failure is what a process records of an activity's final failure: the
// activity's own message, without Temporal's wrapping.
func failure(err error, timeout engine.Duration) string {
	var app *temporal.ApplicationError
	var to *temporal.TimeoutError
	switch {
	case errors.As(err, &app):
		return app.Message()
	case errors.As(err, &to) && timeout > 0:
		return fmt.Sprintf("no answer within %s", timeout)
	case errors.As(err, &to):
		return "timed out"
	}
	return err.Error()
}

// receiveChildEnd records that a process this one started has ended.
func (r *runner) receiveChildEnd(ctx workflow.Context, c workflow.ReceiveChannel) {
	var end ChildEnd
	c.Receive(ctx, &end)
	now := workflow.Now(ctx)
	r.inst.Advance(r.def, now)
	r.inst.ChildEnded(r.def, end.ID, end.State, now)
}

// tellParent signals the process that started this one that it has ended. It
// runs on a context that a cancellation does not reach, so a parent waiting on
// a cancelled child hears of it too. A parent that has ended itself cannot be
// told; that is no failure of this process.
func (r *runner) tellParent(ctx workflow.Context, parent ParentRef) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	end := ChildEnd{ID: r.inst.ID, Definition: r.def.Name, State: r.inst.State}
	if err := workflow.SignalExternalWorkflow(dctx, parent.ID, "", SignalChildEnded, end).Get(dctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("telling the parent process of the end failed", "parent", parent.ID, "error", err)
	}
}
