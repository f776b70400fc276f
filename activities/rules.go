package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Counter is what CountProcesses needs from the store.
type Counter interface {
	// ProcessesOnCI returns the ids of the processes of definition naming
	// the configuration item ci that started at or after since, other than
	// except, oldest first (by start, then id).
	ProcessesOnCI(ctx context.Context, definition, ci string, since time.Time, except string) ([]string, error)
}

// CountInput is a rule of the process Process (its effect Effect) counting
// the processes of Definition on the item CI since Since.
type CountInput struct {
	Process    string    `json:"process"`
	Effect     int64     `json:"effect"`
	Rule       string    `json:"rule"`
	Definition string    `json:"definition"`
	CI         string    `json:"ci"`
	Since      time.Time `json:"since"`
}

// CountProcesses reads what a rule counts. Its answer is recorded in the
// process's history, so a replay decides on the same count; the database
// being down only delays it (retried).
func (a *Activities) CountProcesses(ctx context.Context, in CountInput) ([]string, error) {
	if a.Counter == nil {
		return nil, temporal.NewNonRetryableApplicationError("the worker cannot count processes: no store", ErrNotConfigured, nil)
	}
	ids, err := a.Counter.ProcessesOnCI(ctx, in.Definition, in.CI, in.Since, in.Process)
	if err != nil {
		return nil, fmt.Errorf("rule %s of %s: %w", in.Rule, in.Process, err)
	}
	return ids, nil
}
