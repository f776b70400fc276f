// Package service holds what people do with processes — start one, act on it,
// vote, read it, list them, follow its history — and with their definitions
// — check, publish, compare and draw them — with the rules every front door
// shares, written once: who the caller is, what they may see (a process
// they may not see is "not found", exactly like one that does not exist), the
// gate every string passes, and idempotent retries. The JSON API and the web
// console only decode a request, call one of these operations and render its
// result, so neither can show or do what the other would refuse.
//
// Whether an action or a vote is allowed is decided by the process's
// workflow (state, roles, relations, separation of duties); the service adds
// what only it can know: visibility, the text gate and the directory's
// delegations.
package service

import (
	"log/slog"

	"go.temporal.io/sdk/client"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/reports"
	"github.com/itilflow/itilflow/store"
)

// Service performs the operations. It is safe for concurrent use.
type Service struct {
	store     *store.Store
	temporal  client.Client
	calendars engine.Calendars
	log       *slog.Logger
	// checkpoints, when set, are the audit checkpoints verification checks
	// the chain against.
	checkpoints CheckpointSource
	// reports, when set, are the reports people read (UseReports);
	// reportsDown says why there are none (ReportsUnavailable).
	reports     *reports.Reports
	reportsDown string
	// heavy bounds the CPU-heavy work on definitions — checks, publications,
	// graphs, diffs — whichever door asks for it.
	heavy *workLimiter
}

// New returns the service over its dependencies; calendars are the business
// calendars as they are now (a freeze added since a version was published
// still refuses a change window).
func New(st *store.Store, tc client.Client, calendars engine.Calendars, log *slog.Logger) *Service {
	return &Service{store: st, temporal: tc, calendars: calendars, log: log,
		heavy: newWorkLimiter(heavySlots, heavyWait, heavyBudget)}
}

// Caller is who asks: an authenticated user with their roles, and the
// request that carries the call, for the audit log.
type Caller struct {
	engine.Actor
	RequestID string
}

func (c Caller) viewer() store.Viewer { return store.Viewer{ID: c.ID, Roles: c.Roles} }

// Process is a process as its reader sees it: the view, the actions the
// reader may take now and, when asked for, its events.
type Process struct {
	View
	// Actions are the actions the caller may take now.
	Actions []string       `json:"actions"`
	Events  []engine.Event `json:"events,omitempty"`
}

// process renders a view for caller, with the actions the definition lets
// them take in its state.
func process(v engine.View, d *engine.Definition, caller Caller, events []engine.Event) Process {
	actions := d.AllowedActions(v.State, caller.Actor, v.Parties())
	if actions == nil || v.EndedAt != nil {
		actions = []string{}
	}
	out := Process{View: render(v), Actions: actions, Events: events}
	for i, c := range out.SLAs {
		if w := d.WrittenTarget(c.Name, v.Parties()); w != "" && w != c.Target.String() {
			out.SLAs[i].TargetAsWritten = w
		}
	}
	return out
}
