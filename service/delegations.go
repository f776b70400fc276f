package service

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

// maxDelegation bounds a delegation, so a forgotten one does not hand a vote
// away for good.
const maxDelegation = 90 * 24 * time.Hour

// DelegationRequest hands the caller's votes to another user for a period;
// StartsAt nil means now.
type DelegationRequest struct {
	To       string
	StartsAt *time.Time
	EndsAt   *time.Time
	Reason   string
}

// AddDelegation records a delegation of the caller's votes, at now.
func (s *Service) AddDelegation(ctx context.Context, caller Caller, req DelegationRequest, now time.Time) (store.Delegation, error) {
	now = now.UTC()
	starts := now
	if req.StartsAt != nil {
		starts = *req.StartsAt
	}
	var details []engine.Detail
	switch {
	case req.To == "":
		details = append(details, engine.Detail{Field: "to", Message: "is required: the user who votes for you"})
	case req.To == caller.ID:
		details = append(details, engine.Detail{Field: "to", Message: "cannot be yourself"})
	}
	switch {
	case req.EndsAt == nil:
		details = append(details, engine.Detail{Field: "ends_at", Message: "is required (RFC 3339): a delegation always ends"})
	case !req.EndsAt.After(starts) || !req.EndsAt.After(now):
		details = append(details, engine.Detail{Field: "ends_at", Message: "must be after starts_at and in the future"})
	case req.EndsAt.Sub(starts) > maxDelegation:
		details = append(details, engine.Detail{Field: "ends_at", Message: fmt.Sprintf("a delegation lasts at most %d days", int(maxDelegation.Hours()/24))})
	}
	reason, err := Comment("reason", req.Reason)
	if err != nil {
		return store.Delegation{}, err
	}
	if len(details) > 0 {
		return store.Delegation{}, &engine.Error{Code: engine.EINVALID, Message: "delegation is not valid", Details: details}
	}
	return s.store.AddDelegation(ctx, store.Delegation{From: caller.ID, To: req.To, StartsAt: starts, EndsAt: *req.EndsAt,
		Reason: reason, CreatedBy: caller.ID}, caller.RequestID)
}

// Delegations are the delegations the caller has given and received that
// have not ended by now.
func (s *Service) Delegations(ctx context.Context, caller Caller, now time.Time) (given, received []store.Delegation, err error) {
	return s.store.Delegations(ctx, caller.ID, now)
}

// RevokeDelegation ends a delegation now, keeping it for the record. Only the
// delegator or an admin may: the delegate may not hand the votes back (they
// may simply not use them), and nobody else may take them away.
func (s *Service) RevokeDelegation(ctx context.Context, caller Caller, id string) (store.Delegation, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return store.Delegation{}, engine.Errorf(engine.ENOTFOUND, "no delegation %q: ids are whole numbers", id)
	}
	d, err := s.store.DelegationByID(ctx, n)
	if err != nil {
		return store.Delegation{}, err
	}
	if d.From != caller.ID && !caller.hasRole(store.RoleAdmin) {
		return store.Delegation{}, engine.Errorf(engine.EFORBIDDEN, "delegation %d is %s's: only they or a user with the role %s may revoke it", n, d.From, store.RoleAdmin)
	}
	return s.store.RevokeDelegation(ctx, n, caller.ID, caller.RequestID)
}
