package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

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
	// CommentsFromStore says the votes come without their comments, which
	// are in the meeting's vote events already: the activity reads them from
	// the store. Lean workflows send it, so a meeting's history holds each
	// comment once more, not twice.
	CommentsFromStore bool `json:"comments_from_store,omitempty"`
}

// VoteReader reads the votes a process's events recorded.
type VoteReader interface {
	// ItemVotes returns the votes cast on item in process, in order.
	ItemVotes(ctx context.Context, process, item string) ([]engine.Vote, error)
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
	if in.CommentsFromStore {
		if err := a.fillComments(ctx, &in.Release); err != nil {
			return err
		}
	}
	err := a.Releaser.Release(ctx, in.Key(), in.Release)
	var refused *engine.Error
	if errors.As(err, &refused) && refused.Code != engine.EUNAVAILABLE && refused.Code != engine.EINTERNAL {
		return temporal.NewNonRetryableApplicationError(refused.Message, ErrReleaseRefused, nil)
	}
	return err
}

// fillComments puts back the comments of a release's votes from the
// meeting's vote events. Until the projection holds every one of them the
// activity fails and Temporal retries it.
func (a *Activities) fillComments(ctx context.Context, rel *engine.Release) error {
	if a.Votes == nil {
		return temporal.NewNonRetryableApplicationError("the worker cannot read votes: no store", ErrNotConfigured, nil)
	}
	stored, err := a.Votes.ItemVotes(ctx, rel.Meeting, rel.Process)
	if err != nil {
		return fmt.Errorf("the votes of %s on %s: %w", rel.Meeting, rel.Process, err)
	}
	votes := make([]engine.Vote, len(rel.Votes))
	for i, v := range rel.Votes {
		j := slices.IndexFunc(stored, func(s engine.Vote) bool {
			// The database keeps microseconds, rounded.
			d := s.At.Sub(v.At)
			return s.Actor == v.Actor && s.By == v.By && s.Decision == v.Decision && d > -time.Microsecond && d < time.Microsecond
		})
		if j < 0 {
			return fmt.Errorf("the vote of %s on %s at %s is not projected yet", v.Actor, rel.Process, v.At.Format(time.RFC3339Nano))
		}
		v.Comment = stored[j].Comment
		votes[i] = v
	}
	rel.Votes = votes
	return nil
}
