package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// Directory is what ResolveApprovers needs from the store: the users who hold
// any of the roles or belong to any of the groups, each once.
type Directory interface {
	Members(ctx context.Context, roles, groups []string) ([]string, error)
}

// ResolveInput asks for the people behind a vote's roles and groups.
type ResolveInput struct {
	Process string   `json:"process"`
	Roles   []string `json:"roles,omitempty"`
	Groups  []string `json:"groups,omitempty"`
}

// ResolveApprovers returns the members of the roles and groups as the
// directory holds them now. The database being down only delays it.
func (a *Activities) ResolveApprovers(ctx context.Context, in ResolveInput) ([]string, error) {
	if a.Directory == nil {
		return nil, temporal.NewNonRetryableApplicationError("the worker cannot resolve approvers: no directory", ErrNotConfigured, nil)
	}
	members, err := a.Directory.Members(ctx, in.Roles, in.Groups)
	if err != nil {
		return nil, fmt.Errorf("resolve the approvers of %s: %w", in.Process, err)
	}
	return members, nil
}

// RecipientsInput asks for the members of the directory groups a notify step
// addresses.
type RecipientsInput struct {
	Process string   `json:"process"`
	Groups  []string `json:"groups"`
}

// ResolveRecipients returns the members of the groups as the directory holds
// them now; the process records them, so a replay tells the same people. The
// database being down only delays it.
func (a *Activities) ResolveRecipients(ctx context.Context, in RecipientsInput) ([]string, error) {
	if a.Directory == nil {
		return nil, temporal.NewNonRetryableApplicationError("the worker cannot resolve recipients: no directory", ErrNotConfigured, nil)
	}
	members, err := a.Directory.Members(ctx, nil, in.Groups)
	if err != nil {
		return nil, fmt.Errorf("resolve the recipients of %s (groups %v): %w", in.Process, in.Groups, err)
	}
	return members, nil
}
