package history

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/itilflow/itilflow/engine"
)

// Comparison is what a proposed definition would have done with the
// processes of its name started since a time, beside what they did.
type Comparison struct {
	Since     time.Time `json:"since"`
	Processes int       `json:"processes"`
	// Truncated says only the first limit processes were compared.
	Truncated bool `json:"truncated,omitempty"`
	// Different are the processes that would have gone differently, each
	// with how (or why they could not be replayed).
	Different        []Difference `json:"different"`
	ActualBreaches   int          `json:"actual_breaches"`
	ProposedBreaches int          `json:"proposed_breaches"`
}

// Difference is how one process would have gone under the proposal.
type Difference struct {
	ID   string   `json:"id"`
	What []string `json:"what"`
}

// Compare replays the recorded actions of every process of def's name
// started since since (at most limit of them; 0: all) under def, up to now.
func Compare(ctx context.Context, c client.Client, def *engine.Definition, since, now time.Time, limit int) (Comparison, error) {
	ids, err := Since(ctx, c, def.Name, since)
	if err != nil {
		return Comparison{}, err
	}
	out := Comparison{Since: since, Different: []Difference{}}
	if limit > 0 && len(ids) > limit {
		ids, out.Truncated = ids[:limit], true
	}
	out.Processes = len(ids)
	for _, id := range ids {
		runs, err := Runs(ctx, c, id)
		if err != nil {
			return Comparison{}, err
		}
		rec, err := Decode(runs...)
		if err != nil {
			return Comparison{}, fmt.Errorf("%s: %w", id, err)
		}
		horizon := rec.Horizon(now)
		actual := rec.Actual(horizon)
		proposed, err := rec.WhatIf(def, horizon)
		if err != nil {
			out.Different = append(out.Different, Difference{ID: id, What: []string{err.Error()}})
			continue
		}
		out.ActualBreaches += len(actual.Breached)
		out.ProposedBreaches += len(proposed.Breached)
		if diff := actual.Diff(proposed); len(diff) > 0 {
			out.Different = append(out.Different, Difference{ID: id, What: diff})
		}
	}
	return out, nil
}
