package service

import (
	"context"
	"slices"
	"time"

	"github.com/itilflow/itilflow/store"
)

// Me is who the caller is, as far as what they may do depends on it: their
// roles, the groups approvals may name them by, and the delegations of votes
// they gave and received that have not ended.
type Me struct {
	ID          string      `json:"id"`
	Roles       []string    `json:"roles"`
	Groups      []string    `json:"groups"`
	Delegations Delegations `json:"delegations"`
}

// Delegations are the delegations of votes a user gave and received.
type Delegations struct {
	Given    []store.Delegation `json:"given"`
	Received []store.Delegation `json:"received"`
}

// Me describes the caller. A user known only from a JWT is in no group and
// has no delegation: both need a user in the directory.
func (s *Service) Me(ctx context.Context, caller Caller, now time.Time) (Me, error) {
	groups, err := s.store.GroupsOf(ctx, caller.ID)
	if err != nil {
		return Me{}, err
	}
	given, received, err := s.store.Delegations(ctx, caller.ID, now)
	if err != nil {
		return Me{}, err
	}
	roles := slices.Clone(caller.Roles)
	if roles == nil {
		roles = []string{}
	}
	return Me{ID: caller.ID, Roles: roles, Groups: groups, Delegations: Delegations{Given: given, Received: received}}, nil
}
