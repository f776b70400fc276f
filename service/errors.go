package service

import (
	"context"
	"errors"
	"slices"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/workflows"
)

// RequireRole refuses a caller who holds none of roles, naming them.
func RequireRole(caller Caller, roles ...string) error {
	for _, want := range roles {
		if slices.Contains(caller.Roles, want) {
			return nil
		}
	}
	have := strings.Join(caller.Roles, ", ")
	if have == "" {
		have = "no roles"
	}
	return engine.Errorf(engine.EFORBIDDEN, "this needs the role %s; %s has %s", strings.Join(roles, " or "), caller.ID, have)
}

// temporalError classifies an error from the Temporal client. Validator
// rejections carry the workflow's *engine.Error; an unreachable server is
// EUNAVAILABLE.
func temporalError(op string, err error) error {
	if e, ok := workflows.EngineError(err); ok {
		return e
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return &engine.Error{Code: engine.EINTERNAL, Op: op, Message: app.Error(), Err: err}
	}
	var notFound *serviceerror.NotFound
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	var busy *serviceerror.ResourceExhausted
	var limit *serviceerror.FailedPrecondition
	var badID *serviceerror.InvalidArgument
	switch {
	case errors.As(err, &notFound), errors.As(err, &badID):
		// An id Temporal refuses (blank, too long) names no process either.
		return &engine.Error{Code: engine.ENOTFOUND, Op: op, Message: "no such process", Err: err}
	case errors.As(err, &started):
		return &engine.Error{Code: engine.ECONFLICT, Op: op, Message: "process already exists", Err: err}
	// Too many updates in flight or in one run: the process is busy, not broken.
	case errors.As(err, &unavailable), errors.As(err, &deadline), errors.As(err, &busy), errors.As(err, &limit),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &engine.Error{Code: engine.EUNAVAILABLE, Op: op, Message: "Temporal did not answer", Err: err}
	}
	return &engine.Error{Code: engine.EINTERNAL, Op: op, Message: "Temporal request failed", Err: err}
}
