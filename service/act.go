package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/workflows"
)

// ActionRequest asks to take an action of a process.
type ActionRequest struct {
	Process string
	Action  string
	Input   map[string]any
	Comment string
	// IdempotencyKey, when set, makes a retry by the same caller of the same
	// action act once and return the first result.
	IdempotencyKey string
}

// Act takes an action on a process the caller may see. The workflow's
// validator decides (state, roles and relations, guard, input); a refusal
// leaves no trace in the history.
func (s *Service) Act(ctx context.Context, caller Caller, req ActionRequest) (Process, error) {
	v, d, err := s.target(ctx, caller, req.Process, req.IdempotencyKey)
	if err != nil {
		return Process{}, err
	}
	comment, err := Comment("comment", req.Comment)
	if err != nil {
		return Process{}, err
	}
	var fields []engine.Field
	var a *engine.Action
	if st := d.Compiled.State(v.State); st != nil {
		if a = st.Action(req.Action); a != nil {
			fields = a.Input
		}
	}
	in, err := input(fields, req.Input)
	if err != nil {
		return Process{}, err
	}
	if err := s.checkRefs(ctx, caller, fields, in, "input"); err != nil {
		return Process{}, err
	}
	undo, err := s.reserveWindow(ctx, v, &d.Compiled, a, in)
	if err != nil {
		return Process{}, err
	}
	res, err := s.update(ctx, v, engine.ActionRequest{Action: req.Action, Actor: caller.Actor, Input: in,
		Comment: comment, RequestID: caller.RequestID}, updateID(caller, req.Process, req.Action, req.IdempotencyKey))
	if err != nil {
		// Only a refusal is sure to have changed nothing; after a timeout the
		// action may still apply, so the reservation stays.
		if refused(err) {
			undo()
		}
		return Process{}, err
	}
	v, err = s.after(ctx, v.ID, res)
	if err != nil {
		return Process{}, err
	}
	return process(v, &d.Compiled, caller, nil), nil
}

// target reads the process a caller acts on, if they may see it, with its
// definition version (which an action never changes).
func (s *Service) target(ctx context.Context, caller Caller, id, key string) (engine.View, store.Definition, error) {
	if err := idempotencyKey(key); err != nil {
		return engine.View{}, store.Definition{}, err
	}
	v, err := s.visible(ctx, caller, id)
	if err != nil {
		return engine.View{}, store.Definition{}, err
	}
	d, err := s.store.Definition(ctx, v.Definition, v.Version)
	return v, d, err
}

// updateID is the workflow update id of a request: with an Idempotency-Key,
// the same for a retry of the same request by the same caller, and different
// for another caller or another action that happens to reuse the key (which
// must act, not receive someone else's result). Without a key, a fresh one.
func updateID(caller Caller, parts ...string) string {
	if parts[len(parts)-1] == "" {
		return ""
	}
	h := sha256.New()
	for _, p := range append([]string{caller.ID}, parts...) {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return "idem-" + hex.EncodeToString(h.Sum(nil))
}

// reserveWindow handles an action that schedules work (one with a window): it
// refuses a window in a blackout of the calendars as they are now (the
// workflow checks the calendar its definition version was published with;
// this catches a freeze added since), and reserves the configuration item for
// the window, refusing one another open process holds at an overlapping time.
// undo puts the reservation back if the action then fails. Anything else wrong
// with the request is left to the workflow to say.
func (s *Service) reserveWindow(ctx context.Context, v engine.View, d *engine.Definition, a *engine.Action, in map[string]any) (undo func(), err error) {
	undo = func() {}
	if a == nil || a.Window == nil {
		return undo, nil
	}
	vals, err := engine.ValidateInput(a.Input, in, "input")
	if err != nil {
		return undo, nil
	}
	if err := engine.CheckWindow(s.calendars.Spec(d.Calendar), a.Window, vals); err != nil || a.Window.CI == "" {
		return undo, err
	}
	ci, _ := vals[a.Window.CI].(string)
	if ci == "" {
		ci, _ = v.Input[a.Window.CI].(string)
	}
	if ci == "" {
		return undo, nil
	}
	start, end := engine.WindowTimes(a.Window, vals)
	reserved := store.CIWindow{ProcessID: v.ID, CI: ci, StartsAt: start, EndsAt: end}
	conflict, prev, err := s.store.ReserveWindow(ctx, reserved)
	if err != nil {
		return undo, err
	}
	if conflict != nil {
		return undo, &engine.Error{Code: engine.ECONFLICT, Message: fmt.Sprintf("configuration item %s is already scheduled by %s from %s to %s",
			ci, conflict.ProcessID, conflict.StartsAt.UTC().Format(time.RFC3339), conflict.EndsAt.UTC().Format(time.RFC3339)),
			Details: []engine.Detail{{Field: "input." + a.Window.Start, Message: "overlaps " + conflict.ProcessID}}}
	}
	return func() {
		if err := s.store.RestoreWindow(context.WithoutCancel(ctx), reserved, prev); err != nil {
			s.log.Error("restoring a configuration item's reservation failed", "process", v.ID, "error", err)
		}
	}, nil
}

// refused reports whether err is the workflow (or the service) refusing a
// request, as opposed to not knowing its outcome (a timeout, Temporal
// unavailable).
func refused(err error) bool {
	switch engine.ErrorCode(err) {
	case engine.ECONFLICT, engine.EFORBIDDEN, engine.EINVALID, engine.ENOTFOUND, engine.EBADREQUEST:
		return true
	}
	return false
}

// update sends an action to the process's workflow and waits for its result.
func (s *Service) update(ctx context.Context, v engine.View, req engine.ActionRequest, id string) (workflows.Result, error) {
	return s.send(ctx, v, workflows.UpdateAction, req, id)
}

// send sends the update name with its request to the process's workflow and
// waits for its result.
func (s *Service) send(ctx context.Context, v engine.View, name string, req any, id string) (workflows.Result, error) {
	uctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	handle, err := s.temporal.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		WorkflowID:   v.ID,
		UpdateID:     id,
		UpdateName:   name,
		Args:         []any{req},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res workflows.Result
	if err == nil {
		err = handle.Get(uctx, &res)
	}
	if err != nil {
		return res, s.updateError(ctx, v.ID, temporalError("service.update", err))
	}
	return res, nil
}

// updateError explains a workflow Temporal could not find: a process that
// ended (its workflow is closed) is a 409; anything else stands.
func (s *Service) updateError(ctx context.Context, id string, err error) error {
	if engine.ErrorCode(err) != engine.ENOTFOUND {
		return err
	}
	if v, perr := s.store.Process(ctx, id); perr == nil && v.EndedAt != nil {
		return &engine.Error{Code: engine.ECONFLICT, Message: fmt.Sprintf("process %s has ended in state %q; no action is possible", id, v.State), Allowed: []string{}}
	}
	return err
}

// projectionWait bounds how long a caller waits for the projection of their
// change before being answered from the workflow itself.
const projectionWait = 10 * time.Second

// after returns the process as a change left it, for the caller: the result's
// own view, from workflows started before lean histories; otherwise the
// projection once it holds the change (Result.Seq), so the caller reads their
// own write — or, when PostgreSQL has not caught up within projectionWait,
// the workflow's view by a query (which no history records), and failing that
// the projection as it is.
func (s *Service) after(ctx context.Context, id string, res workflows.Result) (engine.View, error) {
	if res.View != nil {
		return *res.View, nil
	}
	if s.awaitProjection(ctx, id, res.Seq) {
		if v, err := s.store.Process(ctx, id); err == nil && v.Seq >= res.Seq {
			return v, nil
		}
	}
	stored, serr := s.store.Process(ctx, id)
	q, err := s.temporal.QueryWorkflow(ctx, id, "", workflows.QueryView)
	var v engine.View
	if err == nil {
		err = q.Get(&v)
	}
	switch {
	case err == nil:
		return v, nil
	case serr == nil:
		s.log.Warn("answering with a projection behind the change", "process", id, "projected", stored.Seq, "change", res.Seq, "query", err)
		return stored, nil
	}
	return engine.View{}, temporalError("service.after", err)
}

// awaitProjection polls the projection's sequence number until it reaches
// seq, for at most projectionWait; it reports whether it did. The first polls
// come quickly: a projection usually lands within milliseconds.
func (s *Service) awaitProjection(ctx context.Context, id string, seq int64) bool {
	deadline := time.Now().Add(projectionWait)
	for pause := 5 * time.Millisecond; ; pause = min(2*pause, 200*time.Millisecond) {
		if got, err := s.store.ProcessSeq(ctx, id); err == nil && got >= seq {
			return true
		}
		if time.Now().Add(pause).After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pause):
		}
	}
}
