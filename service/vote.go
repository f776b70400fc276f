package service

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// Outcome of a vote that did not decide its approval.
const outcomePending = "pending"

// VoteRequest casts a vote in the approval step of a process.
type VoteRequest struct {
	Process  string
	Step     string
	Decision string
	Comment  string
	// OnBehalfOf votes for an approver who has delegated to the caller.
	OnBehalfOf string
	// Item is the process on a meeting's agenda the vote is for.
	Item           string
	IdempotencyKey string
}

// VoteResult answers a vote: the tally after it and the outcome, which is
// pending until the vote decides the approval.
type VoteResult struct {
	ID       string       `json:"id"`
	Step     string       `json:"step"`
	Decision string       `json:"decision"`
	For      string       `json:"on_behalf_of,omitempty"`
	Item     string       `json:"item,omitempty"`
	Outcome  string       `json:"outcome"`
	Tally    engine.Tally `json:"tally"`
	State    string       `json:"state"`
	View     View         `json:"process"`
}

// Vote casts the caller's vote. The workflow decides whether they may
// (approver, separation of duties, one vote per person, not after the
// decision); votes arriving together are applied one at a time, so exactly
// one of them decides.
func (s *Service) Vote(ctx context.Context, caller Caller, req VoteRequest) (VoteResult, error) {
	if req.Decision != engine.ActionApprove && req.Decision != engine.ActionReject {
		return VoteResult{}, &engine.Error{Code: engine.EINVALID, Message: "decision is not valid", Details: []engine.Detail{{Field: "decision",
			Message: fmt.Sprintf("must be %q or %q, got %q", engine.ActionApprove, engine.ActionReject, req.Decision)}}}
	}
	v, d, err := s.target(ctx, caller, req.Process, req.IdempotencyKey)
	if err != nil {
		return VoteResult{}, err
	}
	comment, err := Comment("comment", req.Comment)
	if err != nil {
		return VoteResult{}, err
	}
	if st := d.Compiled.State(req.Step); st == nil || st.Approval == nil {
		return VoteResult{}, engine.Errorf(engine.ENOTFOUND, "process %s (%s) has no approval step %q", v.ID, v.Definition, req.Step)
	}
	areq := engine.ActionRequest{Action: req.Decision, State: req.Step, Actor: caller.Actor, Comment: comment, RequestID: caller.RequestID, Item: req.Item}
	if req.OnBehalfOf != "" {
		if areq.OnBehalfOf, err = s.delegator(ctx, caller, req.OnBehalfOf); err != nil {
			return VoteResult{}, err
		}
	}
	res, err := s.update(ctx, v, areq, updateID(caller, req.Process, req.Step, req.Item, req.OnBehalfOf, req.IdempotencyKey))
	if err != nil {
		return VoteResult{}, s.voteError(ctx, v.ID, req.Step, err)
	}
	after, err := s.after(ctx, v.ID, res)
	if err != nil {
		return VoteResult{}, err
	}
	// The tally as this vote left it is in the vote's own event: the view may
	// already show later votes, or the next state.
	out := VoteResult{ID: v.ID, Step: req.Step, Decision: req.Decision, For: req.OnBehalfOf, Item: req.Item, Outcome: outcomePending, State: after.State, View: render(after)}
	if a := after.Approval; a != nil && after.State == req.Step && req.Item == "" {
		out.Tally = a.Tally
	}
	events, err := s.store.Events(ctx, v.ID)
	if err != nil {
		return VoteResult{}, err
	}
	for _, e := range events {
		if e.Type == engine.EventAction && e.Actor == caller.ID && e.Action == req.Decision && e.From == req.Step && e.Data["tally"] != nil &&
			(req.OnBehalfOf == "" || e.Data["on_behalf_of"] == req.OnBehalfOf) && (req.Item == "" || e.Data["item"] == req.Item) {
			out.Tally = tallyOf(e.Data["tally"])
		}
	}
	if out.Tally.Outcome != "" {
		out.Outcome = out.Tally.Outcome
	}
	return out, nil
}

// voteError explains a refused vote on a process that has ended, which
// cannot say why itself: its record can.
func (s *Service) voteError(ctx context.Context, id, step string, err error) error {
	if engine.ErrorCode(err) != engine.ECONFLICT {
		return err
	}
	if v, perr := s.store.Process(ctx, id); perr != nil || v.EndedAt == nil {
		return err
	}
	events, derr := s.store.Events(ctx, id)
	if derr != nil {
		return err
	}
	var last *engine.Event
	for i, e := range events {
		if e.Type == engine.EventApprovalDecided && e.From == step {
			last = &events[i]
		}
	}
	if last == nil {
		return err
	}
	return &engine.Error{Code: engine.ECONFLICT, Message: fmt.Sprintf("the approval in %q was decided (%v) at %s; no more votes count",
		step, last.Data["outcome"], last.At.UTC().Format(time.RFC3339)), Allowed: []string{}}
}

// tallyOf reads a tally back from an event's data (a JSON object).
func tallyOf(v any) engine.Tally {
	var t engine.Tally
	if b, err := json.Marshal(v); err == nil {
		_ = json.Unmarshal(b, &t)
	}
	return t
}

// delegator resolves a vote cast on behalf of another approver: the caller
// must hold an active delegation from them. The workflow then applies the
// approver's eligibility and separation of duties to both.
func (s *Service) delegator(ctx context.Context, caller Caller, id string) (*engine.Actor, error) {
	from, err := s.delegators(ctx, caller.ID)
	if err != nil {
		return nil, err
	}
	for i := range from {
		if from[i].ID == id {
			return &from[i], nil
		}
	}
	return nil, engine.Errorf(engine.EFORBIDDEN, "%s holds no delegation from %s now", caller.ID, id)
}

// delegators are the approvers who have delegated their votes to user now,
// with their roles.
func (s *Service) delegators(ctx context.Context, user string) ([]engine.Actor, error) {
	ids, err := s.store.Delegators(ctx, user, time.Now())
	if err != nil {
		return nil, err
	}
	out := make([]engine.Actor, 0, len(ids))
	for _, id := range ids {
		u, err := s.store.UserByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, engine.Actor{ID: u.ID, Roles: []string(u.Roles)})
	}
	return out, nil
}
