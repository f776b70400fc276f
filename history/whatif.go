package history

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// Outcome is how a process went (or would have gone) up to a horizon.
type Outcome struct {
	State       string     `json:"state"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	Breached    []string   `json:"breached,omitempty"`
	Escalations int        `json:"escalations"`
	// Refused lists recorded actions the definition would not have allowed.
	Refused []string `json:"refused,omitempty"`
}

// Diff describes how two outcomes differ; empty when they do not.
func (o Outcome) Diff(other Outcome) []string {
	var out []string
	if o.State != other.State {
		out = append(out, fmt.Sprintf("state %s → %s", o.State, other.State))
	}
	if (o.EndedAt == nil) != (other.EndedAt == nil) || (o.EndedAt != nil && !o.EndedAt.Equal(*other.EndedAt)) {
		out = append(out, fmt.Sprintf("ended %s → %s", when(o.EndedAt), when(other.EndedAt)))
	}
	if a, b := strings.Join(o.Breached, ","), strings.Join(other.Breached, ","); a != b {
		out = append(out, fmt.Sprintf("breached [%s] → [%s]", a, b))
	}
	if o.Escalations != other.Escalations {
		out = append(out, fmt.Sprintf("escalations %d → %d", o.Escalations, other.Escalations))
	}
	if len(other.Refused) > 0 {
		out = append(out, "would refuse "+strings.Join(other.Refused, "; "))
	}
	return out
}

func when(t *time.Time) string {
	if t == nil {
		return "not yet"
	}
	return t.UTC().Format(time.RFC3339)
}

// Horizon is the instant up to which a process is compared: its end, or now for
// a process still open.
func (r Record) Horizon(now time.Time) time.Time {
	for _, e := range r.Events {
		if e.Type == engine.EventEnded {
			return e.At
		}
	}
	return now
}

// Actual is the recorded outcome up to horizon.
func (r Record) Actual(horizon time.Time) Outcome {
	var events []engine.Event
	for _, e := range r.Events {
		if !e.At.After(horizon) {
			events = append(events, e)
		}
	}
	return outcomeOf(events)
}

// WhatIf runs the actions people took in this process, at the times they took
// them, under def instead of the definition it ran, up to horizon. Actions def
// does not allow at that point are skipped and listed; roles are not re-checked
// (the question is what the process would have done, not who may act).
func (r Record) WhatIf(def *engine.Definition, horizon time.Time) (Outcome, error) {
	if len(r.Events) == 0 {
		return Outcome{}, fmt.Errorf("%s: no events recorded", r.Start.ID)
	}
	start := r.Events[0]
	in, err := engine.Start(def, r.Start.ID, 0, r.Start.Input, engine.Actor{ID: start.Actor}, "", start.At)
	if err != nil {
		return Outcome{}, fmt.Errorf("%s: its input is not valid under the proposed definition: %w", r.Start.ID, err)
	}
	var refused []string
	for _, e := range r.Events {
		if e.At.After(horizon) {
			continue
		}
		if e.Type != engine.EventAction {
			// Outcomes of start and webhook steps happened outside the process;
			// they apply when the proposed definition asked for the same step.
			_ = in.ApplyRecorded(def, e)
			continue
		}
		if e.Actor == engine.System.ID {
			continue
		}
		in.Advance(def, e.At)
		err := in.Apply(def, engine.RecordedRequest(e), e.At)
		if err != nil {
			refused = append(refused, fmt.Sprintf("%s at %s (%v)", e.Action, e.At.UTC().Format(time.RFC3339), err))
		}
	}
	in.Advance(def, horizon)
	o := outcomeOf(in.Pending)
	o.Refused = refused
	return o, nil
}

func outcomeOf(events []engine.Event) Outcome {
	var o Outcome
	breached := map[string]bool{}
	for _, e := range events {
		switch e.Type {
		case engine.EventStarted, engine.EventAction:
			o.State = e.To
		case engine.EventSLABreached:
			breached[e.SLA] = true
		case engine.EventEscalation:
			o.Escalations++
		case engine.EventEnded:
			at := e.At
			o.EndedAt = &at
		}
	}
	for name := range breached {
		o.Breached = append(o.Breached, name)
	}
	sort.Strings(o.Breached)
	return o
}
