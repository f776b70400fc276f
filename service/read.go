package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"time"

	sdklog "go.temporal.io/sdk/log"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/gate"
	"github.com/itilflow/itilflow/history"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/workflows"
)

// Roles that may export and replay workflow histories, besides seeing the
// process: the record of who did what, for audits and for the owners of the
// process who improve it.
var historyReaders = []string{store.RoleAuditor, store.RoleAdmin, RoleProcessOwner}

// processIDs is the form of every process id (a definition's name and a
// number, incident-000123): anything else names no process, and is not sent
// to Temporal, whose gRPC headers cannot carry every string.
var processIDs = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,127}$`)

// noProcess is the answer for an id that names no process the caller may see.
func noProcess(id string) error { return engine.Errorf(engine.ENOTFOUND, "no process %q", id) }

// visible returns the stored view of a process the caller may see, or
// ENOTFOUND — the same answer as for an id nobody started.
func (s *Service) visible(ctx context.Context, caller Caller, id string) (engine.View, error) {
	if !processIDs.MatchString(id) {
		return engine.View{}, noProcess(id)
	}
	return s.store.ProcessFor(ctx, caller.viewer(), id)
}

// reachable checks that the caller may read the record of process id: one
// they may see, or — for those who see everything — any process with a
// history, stored in the projection or not (a record the projection lost is
// exactly what an auditor must still reach).
func (s *Service) reachable(ctx context.Context, caller Caller, id string) error {
	if caller.viewer().SeesAll() {
		if !processIDs.MatchString(id) {
			return noProcess(id)
		}
		return nil
	}
	_, err := s.visible(ctx, caller, id)
	return err
}

// Process returns a process the caller may see, with its events.
func (s *Service) Process(ctx context.Context, caller Caller, id string) (Process, error) {
	v, err := s.visible(ctx, caller, id)
	if err != nil {
		return Process{}, err
	}
	d, err := s.store.Definition(ctx, v.Definition, v.Version)
	if err != nil {
		return Process{}, err
	}
	events, err := s.store.Events(ctx, v.ID)
	if err != nil {
		return Process{}, err
	}
	return process(v, &d.Compiled, caller, events), nil
}

// AsOf is a process as it was at an instant, recomputed from its history.
type AsOf struct {
	At      time.Time `json:"as_of"`
	Process Process   `json:"process"`
}

// ProcessAsOf reconstructs a process the caller may see as it was at t. An
// instant still to come is refused: the history does not know it yet.
func (s *Service) ProcessAsOf(ctx context.Context, caller Caller, id string, t time.Time, now time.Time) (AsOf, error) {
	if t.After(now) {
		return AsOf{}, &engine.Error{Code: engine.EINVALID, Message: "as_of is in the future",
			Details: []engine.Detail{{Field: "as_of", Message: "must not be after now (" + now.UTC().Format(time.RFC3339) + "): the history knows only what has happened"}}}
	}
	rec, err := s.record(ctx, caller, id, "service.ProcessAsOf")
	if err != nil {
		return AsOf{}, err
	}
	v, err := rec.AsOf(t)
	if err != nil {
		return AsOf{}, err
	}
	var events []engine.Event
	for _, e := range rec.Events {
		if !e.At.After(t) {
			events = append(events, e)
		}
	}
	return AsOf{At: t, Process: Process{View: render(v), Actions: []string{}, Events: events}}, nil
}

// List is one page of processes.
type List struct {
	Items  []View `json:"items"`
	Total  int    `json:"total"`
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
}

// Processes lists the processes matching f that the caller may see; Total
// counts only those. A definition or state no process can have is EINVALID,
// with the nearest name: a typo gets a hint, not an empty list.
func (s *Service) Processes(ctx context.Context, caller Caller, f store.ProcessFilter) (List, error) {
	if err := s.checkFilter(ctx, f); err != nil {
		return List{}, err
	}
	items, total, err := s.store.ProcessesFor(ctx, caller.viewer(), f)
	if err != nil {
		return List{}, err
	}
	return List{Items: renderAll(items), Total: total, Limit: f.Limit, Offset: f.Offset}, nil
}

// checkFilter refuses a filter by a definition that was never published, or
// by a state that no version of the definition (of any definition, when the
// filter names none) has. Definitions are no secret — everyone may list
// them — so naming the known ones tells nobody anything.
func (s *Service) checkFilter(ctx context.Context, f store.ProcessFilter) error {
	if f.Definition == "" && f.State == "" {
		return nil
	}
	known, err := s.store.DefinitionStates(ctx)
	if err != nil {
		return err
	}
	var details []engine.Detail
	states := known[f.Definition]
	switch {
	case f.Definition == "":
		for _, ss := range known {
			states = append(states, ss...)
		}
		slices.Sort(states)
		states = slices.Compact(states)
	case states == nil:
		details = append(details, engine.Detail{Field: "definition", Message: engine.Unknown("definition", f.Definition, slices.Sorted(maps.Keys(known)))})
	}
	if f.State != "" && states != nil && !slices.Contains(states, f.State) {
		what := "state"
		if f.Definition != "" {
			what = "state of " + f.Definition
		}
		details = append(details, engine.Detail{Field: "state", Message: engine.Unknown(what, f.State, states)})
	}
	if len(details) == 0 {
		return nil
	}
	return &engine.Error{Code: engine.EINVALID, Op: "service.Processes", Message: "no process can match this filter", Details: details}
}

// record reads a process's history from Temporal and decodes it, once the
// caller may read it.
func (s *Service) record(ctx context.Context, caller Caller, id, op string) (history.Record, error) {
	if err := s.reachable(ctx, caller, id); err != nil {
		return history.Record{}, err
	}
	runs, err := history.Runs(ctx, s.temporal, id)
	if err != nil {
		return history.Record{}, temporalError(op, err)
	}
	return history.Decode(runs...)
}

// Timeline returns the history of a process the caller may see, as a person
// reads it.
func (s *Service) Timeline(ctx context.Context, caller Caller, id string) (history.Timeline, error) {
	rec, err := s.record(ctx, caller, id, "service.Timeline")
	if err != nil {
		return history.Timeline{}, err
	}
	return rec.Timeline(), nil
}

// History writes the workflow history of one run of a process (run "" is the
// current one; a long-lived process continues as new, and its run's first
// event names the run before) in the JSON form of `temporal workflow show
// --output json`. begin is called once, before the first byte, so the caller
// can send its headers; an error after that means the document is incomplete.
func (s *Service) History(ctx context.Context, caller Caller, id, run string, w io.Writer, begin func()) (started bool, err error) {
	if err := s.readsHistories(ctx, caller, id); err != nil {
		return false, err
	}
	if err := gate.Param("run", run); err != nil {
		return false, err
	}
	err = history.WriteJSON(ctx, s.temporal, id, run, w, func() { started = true; begin() })
	if err != nil && !started {
		err = temporalError("service.History", err)
	}
	return started, err
}

// ReplayResult says whether the current code decides as the history recorded.
type ReplayResult struct {
	ID string `json:"id"`
	// Runs is how many runs the process's workflow has had, and Events how
	// many events they recorded in all.
	Runs          int  `json:"runs"`
	Events        int  `json:"events"`
	Deterministic bool `json:"deterministic"`
	// Divergence names the first place where the current code decides
	// differently from the history.
	Divergence string `json:"divergence,omitempty"`
}

// Replay replays the history of a process against the running code.
func (s *Service) Replay(ctx context.Context, caller Caller, id string) (ReplayResult, error) {
	if err := s.readsHistories(ctx, caller, id); err != nil {
		return ReplayResult{}, err
	}
	runs, err := history.Runs(ctx, s.temporal, id)
	if err != nil {
		return ReplayResult{}, temporalError("service.Replay", err)
	}
	out := ReplayResult{ID: id, Runs: len(runs), Deterministic: true}
	logger := sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	for i, h := range runs {
		out.Events += len(h.GetEvents())
		if err := workflows.Replay(logger, h); err != nil && out.Deterministic {
			out.Deterministic, out.Divergence = false, fmt.Sprintf("run %d of %d: %v", i+1, len(runs), err)
		}
	}
	return out, nil
}

// readsHistories lets history readers at the workflow history of a process
// they may see. Visibility comes first: someone who may not see the process
// learns nothing, not even that their role falls short.
func (s *Service) readsHistories(ctx context.Context, caller Caller, id string) error {
	if err := s.reachable(ctx, caller, id); err != nil {
		return err
	}
	return RequireRole(caller, historyReaders...)
}

// Notifications are the notifications addressed to a caller, and to whom
// they were looked up for, so an empty list explains itself.
type Notifications struct {
	Items []store.InboxNotification `json:"items"`
	User  string                    `json:"user"`
	Roles []string                  `json:"roles"`
}

// Notifications returns the notifications addressed to the caller or their
// roles, about processes they may see, with the caller's read state; only
// those they have not read when unread is set.
func (s *Service) Notifications(ctx context.Context, caller Caller, unread bool, limit int) (Notifications, error) {
	items, err := s.store.NotificationInbox(ctx, caller.viewer(), unread, limit)
	if err != nil {
		return Notifications{}, err
	}
	roles := slices.Clone(caller.Roles)
	if roles == nil {
		roles = []string{}
	}
	return Notifications{Items: items, User: caller.ID, Roles: roles}, nil
}

// MarkNotificationRead records that the caller read a notification addressed
// to them or to one of their roles. The visibility rule applies as to every
// read: a notification addressed to someone else, or about a process the
// caller may not see, is ENOTFOUND exactly as one that does not exist.
func (s *Service) MarkNotificationRead(ctx context.Context, caller Caller, id int64) (store.InboxNotification, error) {
	return s.store.MarkNotificationRead(ctx, caller.viewer(), id, time.Now())
}

// Definitions returns the latest version of every definition that is not
// retired: what a person may start.
func (s *Service) Definitions(ctx context.Context) ([]store.Definition, error) {
	defs, err := s.store.Definitions(ctx)
	if err != nil {
		return nil, err
	}
	out := defs[:0]
	for _, d := range defs {
		if d.RetiredAt == nil {
			out = append(out, d)
		}
	}
	return out, nil
}

// Definition returns a version of a definition (0: the latest). Definitions
// are no one's records: everyone signed in may read them.
func (s *Service) Definition(ctx context.Context, name string, version int) (store.Definition, error) {
	return s.store.Definition(ctx, name, version)
}
