package service

import (
	"context"
	"slices"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/workflows"
)

// CommentRequest is a work note a person adds to a process.
type CommentRequest struct {
	Process, Comment string
	// IdempotencyKey makes a retry add the note once.
	IdempotencyKey string
}

// AddComment adds a work note to a running process: anyone who sees the
// process may (others get ENOTFOUND, as for a read), except someone who sees
// it only as an auditor (EFORBIDDEN). The note is an event of
// the process's history, shown in its timeline, and audited like an action.
func (s *Service) AddComment(ctx context.Context, caller Caller, req CommentRequest) (Process, error) {
	v, d, err := s.target(ctx, caller, req.Process, req.IdempotencyKey)
	if err != nil {
		return Process{}, err
	}
	if slices.Equal(caller.Roles, []string{store.RoleAuditor}) {
		return Process{}, engine.Errorf(engine.EFORBIDDEN, "auditors read processes; work notes are for the people who work them")
	}
	text, err := Comment("comment", req.Comment)
	if err != nil {
		return Process{}, err
	}
	res, err := s.send(ctx, v, workflows.UpdateComment, workflows.CommentRequest{Actor: caller.Actor, Comment: text, RequestID: caller.RequestID},
		updateID(caller, req.Process, workflows.UpdateComment, req.IdempotencyKey))
	if err != nil {
		return Process{}, err
	}
	if v, err = s.after(ctx, v.ID, res); err != nil {
		return Process{}, err
	}
	return process(v, &d.Compiled, caller, nil), nil
}
