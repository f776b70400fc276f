package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/workflows"
)

// updateTimeout bounds how long a request waits for the workflow to decide; the
// workflow itself answers within its sync wait, so this only fires when Temporal
// or the worker is down.
const updateTimeout = 30 * time.Second

type processBody struct {
	engine.View
	// Actions are the actions the caller may take now.
	Actions []string       `json:"actions"`
	Events  []engine.Event `json:"events,omitempty"`
}

type startRequest struct {
	Input map[string]any `json:"input"`
}

type actionRequest struct {
	Input   map[string]any `json:"input"`
	Comment string         `json:"comment"`
}

// startProcess starts an instance of the latest version of a definition. The
// input is validated here first, so bad input is a 422 and starts nothing.
func (s *Server) startProcess(c echo.Context) error {
	ctx := c.Request().Context()
	var req startRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	d, err := s.store.Definition(ctx, c.Param("definition"), 0)
	if err != nil {
		return err
	}
	if err := s.store.CheckStartable(ctx, d); err != nil {
		return err
	}
	input, err := engine.ValidateInput(d.Compiled.Input, plainJSON(req.Input), "input")
	if err != nil {
		return err
	}
	id, err := s.store.NextProcessID(ctx, d.Name)
	if err != nil {
		return err
	}
	actor := actorOf(c)
	priority, _ := input["priority"].(string)
	start := s.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.AttrDefinition.ValueSet(d.Name),
			workflows.AttrState.ValueSet(d.Compiled.Initial),
			workflows.AttrPriority.ValueSet(priority),
		),
	}, workflows.ProcessType, workflows.Input{ID: id, Definition: d.Compiled, Version: d.Version, Input: input, Actor: actor, Hash: d.Hash, RequestID: requestID(c)})
	uctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	handle, err := s.temporal.UpdateWithStartWorkflow(uctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			WorkflowID:   id,
			UpdateName:   workflows.UpdateSync,
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return temporalError("api.startProcess", err)
	}
	var res workflows.Result
	if err := handle.Get(uctx, &res); err != nil {
		return temporalError("api.startProcess", err)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/processes/"+id)
	return c.JSON(http.StatusCreated, processBody{View: res.View, Actions: nonNil(d.Compiled.AllowedActions(res.View.State, actor.Roles))})
}

func (s *Server) getProcess(c echo.Context) error {
	if asOf := c.QueryParam("as_of"); asOf != "" {
		return s.getProcessAsOf(c, asOf)
	}
	ctx := c.Request().Context()
	v, err := s.store.Process(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	d, err := s.store.Definition(ctx, v.Definition, v.Version)
	if err != nil {
		return err
	}
	events, err := s.store.Events(ctx, v.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, processBody{View: v, Actions: nonNil(d.Compiled.AllowedActions(v.State, actorOf(c).Roles)), Events: events})
}

func (s *Server) listProcesses(c echo.Context) error {
	limit, err := intParam(c, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	offset, err := intParam(c, "offset", 0, 0, 1<<30)
	if err != nil {
		return err
	}
	f := store.ProcessFilter{Definition: c.QueryParam("definition"), State: c.QueryParam("state"), Limit: limit, Offset: offset}
	switch b := c.QueryParam("breached"); b {
	case "":
	case "true", "false":
		v := b == "true"
		f.Breached = &v
	default:
		return &engine.Error{Code: engine.EBADREQUEST, Message: "bad query parameter", Details: []engine.Detail{{Field: "breached", Message: "must be true or false"}}}
	}
	items, total, err := s.store.Processes(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "total": total, "limit": limit, "offset": offset})
}

// maxIdempotencyKey keeps keys within what Temporal accepts as an update id.
const maxIdempotencyKey = 200

// takeAction sends the action to the workflow as an update. The workflow's
// validator decides (state, role, input); a refusal leaves no trace in history.
// The Idempotency-Key becomes the update id, so a retried request acts once and
// returns the first result.
func (s *Server) takeAction(c echo.Context) error {
	ctx := c.Request().Context()
	var req actionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkComment(req.Comment); err != nil {
		return err
	}
	id, actor := c.Param("id"), actorOf(c)
	d, undo, err := s.checkWindow(ctx, id, c.Param("action"), req.Input)
	if err != nil {
		return err
	}
	res, err := s.act(c, id, engine.ActionRequest{Action: c.Param("action"), Actor: actor, Input: plainJSON(req.Input),
		Comment: req.Comment, RequestID: requestID(c)})
	if err != nil {
		// Only a refusal by the workflow is sure to have changed nothing; after
		// a timeout the action may still apply, so the reservation stays.
		if refused(err) {
			undo()
		}
		return err
	}
	if d == nil { // the projection had not stored the process yet
		def, err := s.store.Definition(ctx, res.View.Definition, res.View.Version)
		if err != nil {
			return err
		}
		d = &def
	}
	return c.JSON(http.StatusOK, processBody{View: res.View, Actions: nonNil(d.Compiled.AllowedActions(res.View.State, actor.Roles))})
}

// checkWindow handles an action that schedules work (one with a window): it
// refuses a window in a blackout of the calendars as they are now (the workflow
// checks the calendar its definition version was published with; this catches a
// freeze added since), and reserves the configuration item for the window,
// refusing one another open process holds at an overlapping time. undo puts
// the reservation back if the action then fails. Anything else wrong with the
// request is left to the workflow to say. It returns the process's definition
// version (nil when the process is not stored yet), which an action never
// changes, so the caller need not read it again.
func (s *Server) checkWindow(ctx context.Context, id, action string, input map[string]any) (d *store.Definition, undo func(), err error) {
	undo = func() {}
	v, err := s.store.Process(ctx, id)
	if err != nil {
		if engine.ErrorCode(err) == engine.ENOTFOUND {
			return nil, undo, nil
		}
		return nil, undo, err
	}
	def, err := s.store.Definition(ctx, v.Definition, v.Version)
	if err != nil {
		return nil, undo, err
	}
	d = &def
	st := d.Compiled.State(v.State)
	if st == nil {
		return d, undo, nil
	}
	a := st.Action(action)
	if a == nil || a.Window == nil {
		return d, undo, nil
	}
	vals, err := engine.ValidateInput(a.Input, plainJSON(input), "input")
	if err != nil {
		return d, undo, nil
	}
	if err := engine.CheckWindow(s.calendars.Spec(d.Compiled.Calendar), a.Window, vals); err != nil || a.Window.CI == "" {
		return d, undo, err
	}
	ci, _ := vals[a.Window.CI].(string)
	if ci == "" {
		ci, _ = v.Input[a.Window.CI].(string)
	}
	if ci == "" {
		return d, undo, nil
	}
	start, end := engine.WindowTimes(a.Window, vals)
	conflict, prev, err := s.store.ReserveWindow(ctx, store.CIWindow{ProcessID: id, CI: ci, StartsAt: start, EndsAt: end})
	if err != nil {
		return d, undo, err
	}
	if conflict != nil {
		return d, undo, &engine.Error{Code: engine.ECONFLICT, Message: fmt.Sprintf("configuration item %s is already scheduled by %s from %s to %s",
			ci, conflict.ProcessID, conflict.StartsAt.UTC().Format(time.RFC3339), conflict.EndsAt.UTC().Format(time.RFC3339)),
			Details: []engine.Detail{{Field: "input." + a.Window.Start, Message: "overlaps " + conflict.ProcessID}}}
	}
	reserved := store.CIWindow{ProcessID: id, CI: ci, StartsAt: start, EndsAt: end}
	return d, func() {
		if err := s.store.RestoreWindow(context.WithoutCancel(ctx), reserved, prev); err != nil {
			s.log.Error("restoring a configuration item's reservation failed", "process", id, "error", err)
		}
	}, nil
}

// refused reports whether err is the workflow (or the API) refusing a request,
// as opposed to not knowing its outcome (a timeout, Temporal unavailable).
func refused(err error) bool {
	switch engine.ErrorCode(err) {
	case engine.ECONFLICT, engine.EFORBIDDEN, engine.EINVALID, engine.ENOTFOUND, engine.EBADREQUEST:
		return true
	}
	return false
}

// act sends an action to the process's workflow and waits for its result. The
// Idempotency-Key header becomes the update id, so a retried request acts once.
func (s *Server) act(c echo.Context, id string, req engine.ActionRequest) (workflows.Result, error) {
	ctx := c.Request().Context()
	key := c.Request().Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		return workflows.Result{}, &engine.Error{Code: engine.EBADREQUEST, Message: "Idempotency-Key too long", Details: []engine.Detail{{Field: "Idempotency-Key", Message: fmt.Sprintf("at most %d bytes", maxIdempotencyKey)}}}
	}
	uctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	handle, err := s.temporal.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		WorkflowID:   id,
		UpdateID:     key,
		UpdateName:   workflows.UpdateAction,
		Args:         []any{req},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res workflows.Result
	if err == nil {
		err = handle.Get(uctx, &res)
	}
	if err != nil {
		return res, s.actionError(ctx, id, temporalError("api.act", err))
	}
	return res, nil
}

// actionError explains a workflow Temporal could not find: a process that ended
// (its workflow is closed) is a 409, an id nobody started a 404.
func (s *Server) actionError(ctx context.Context, id string, err error) error {
	if engine.ErrorCode(err) != engine.ENOTFOUND {
		return err
	}
	v, perr := s.store.Process(ctx, id)
	switch {
	case perr != nil:
		return err
	case v.EndedAt != nil:
		return &engine.Error{Code: engine.ECONFLICT, Message: fmt.Sprintf("process %s has ended in state %q; no action is possible", id, v.State), Allowed: []string{}}
	}
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
