package service

import (
	"time"

	"github.com/itilflow/itilflow/engine"
)

// View is a process as the API shows it: the engine's view, whose SLA clocks
// show no start time until they have started and their elapsed time in whole
// seconds. The engine's view keeps a zero
// time there, because it is also what the workflow projects, and recorded
// histories compare their projections field by field: it cannot change shape.
type View struct {
	engine.View
	SLAs []SLA `json:"slas"`
}

// SLA is an SLA clock as the API shows it; StartedAt is nil while the clock
// has not started (its start_on_enter state not reached yet).
type SLA struct {
	engine.SLAView
	StartedAt *time.Time `json:"started_at,omitempty"`
	// TargetAsWritten is the target as the definition's author wrote it,
	// when that differs from target ("24h" for 1d, "2wd" for 16h).
	TargetAsWritten string `json:"target_as_written,omitempty"`
}

// render is v as the API shows it.
func render(v engine.View) View {
	out := View{View: v, SLAs: make([]SLA, len(v.SLAs))}
	for i, c := range v.SLAs {
		// Clocks count nanoseconds; people and the contract's Duration read
		// whole seconds ("4s", not "4s242.740212ms").
		c.Elapsed = engine.Duration(time.Duration(c.Elapsed).Truncate(time.Second))
		out.SLAs[i] = SLA{SLAView: c}
		if !c.StartedAt.IsZero() {
			at := c.StartedAt
			out.SLAs[i].StartedAt = &at
		}
	}
	return out
}

// renderAll is vs as the API shows them.
func renderAll(vs []engine.View) []View {
	out := make([]View, len(vs))
	for i, v := range vs {
		out[i] = render(v)
	}
	return out
}
