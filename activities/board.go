package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/itilflow/itilflow/engine"
)

// Boards is what CollectAgenda needs from the store.
type Boards interface {
	// AwaitingBoard returns the open processes of process whose approval in
	// their current state is decided by board meetings, oldest first.
	AwaitingBoard(ctx context.Context, process, board string) ([]engine.AgendaItem, error)
}

// CollectInput is a collect step of a meeting: the processes of Process that
// wait for a decision of Board.
type CollectInput struct {
	Meeting string `json:"meeting"`
	Effect  int64  `json:"effect"`
	Board   string `json:"board"`
	Process string `json:"process"`
}

// CollectAgenda returns the agenda a collect step asked for. The database
// being down only delays it.
func (a *Activities) CollectAgenda(ctx context.Context, in CollectInput) ([]engine.AgendaItem, error) {
	if a.Boards == nil {
		return nil, temporal.NewNonRetryableApplicationError("the worker cannot collect agendas: no store", ErrNotConfigured, nil)
	}
	items, err := a.Boards.AwaitingBoard(ctx, in.Process, in.Board)
	if err != nil {
		return nil, fmt.Errorf("collect %s for %s: %w", in.Process, in.Meeting, err)
	}
	return items, nil
}

// Releaser delivers a meeting's decision to the process it decides.
// workflows.ClientReleaser implements it with a Temporal update. Release must
// be idempotent for one key, and return an *engine.Error when the process
// refuses the decision (it has moved on or ended).
type Releaser interface {
	Release(ctx context.Context, key string, rel engine.Release) error
}

// ReleaseInput is one decision of a meeting (Release.Meeting) to release; the
// meeting's effect Effect asked for it.
type ReleaseInput struct {
	Effect  int64          `json:"effect"`
	Release engine.Release `json:"release"`
}

// Key names the release; every attempt delivers the same decision once.
func (in ReleaseInput) Key() string {
	return fmt.Sprintf("%s/release/%d", in.Release.Meeting, in.Effect)
}

// ErrReleaseRefused is the error type of a decision its process refused.
const ErrReleaseRefused = "release_refused"

// ReleaseDecision delivers a meeting's decision to its process. A refusal (the
// change was withdrawn, or decided by a break-glass) fails at once; Temporal
// or the worker being down only delays it.
func (a *Activities) ReleaseDecision(ctx context.Context, in ReleaseInput) error {
	if a.Releaser == nil {
		return temporal.NewNonRetryableApplicationError("the worker cannot release decisions: no releaser", ErrNotConfigured, nil)
	}
	err := a.Releaser.Release(ctx, in.Key(), in.Release)
	var refused *engine.Error
	if errors.As(err, &refused) && refused.Code != engine.EUNAVAILABLE && refused.Code != engine.EINTERNAL {
		return temporal.NewNonRetryableApplicationError(refused.Message, ErrReleaseRefused, nil)
	}
	return err
}
