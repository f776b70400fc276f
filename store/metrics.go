package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/engine"
)

// Projected is what one committed projection stored for the first time. A
// retried projection whose events are already stored yields none of them
// again, so whoever counts events here (the metrics package) counts each once
// however often Temporal retries the activity.
type Projected struct {
	// View is the process as stored (merged, for a compact projection).
	View engine.View
	// Events are the events this projection added, in order.
	Events []engine.Event
	// Decisions are the approvals decided among Events.
	Decisions []Decision
	// Priority is the process's priority if its definition offers it as one
	// of an enum's values, "" for a process without one, and PriorityOther
	// for any other value: a free-text priority must not become a label that
	// anyone who reads /metrics sees, nor a new series per value.
	Priority string
}

// PriorityOther stands for a priority that is not one of its definition's
// enum values.
const PriorityOther = "other"

// priorityLabel is Projected.Priority for the view v.
func (s *Store) priorityLabel(ctx context.Context, tx *sqlx.Tx, v engine.View) (string, error) {
	if v.Priority == "" {
		return "", nil
	}
	def, err := s.compiledDefinition(ctx, tx, v.Definition, v.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return PriorityOther, nil
	}
	if err != nil {
		return "", err
	}
	fields := append(append([]engine.Field(nil), def.Input...), def.Variables...)
	for _, st := range def.States {
		for _, a := range st.Actions {
			fields = append(fields, a.Input...)
		}
	}
	for _, f := range fields {
		if f.Name == "priority" && slices.Contains(f.Values, v.Priority) {
			return v.Priority, nil
		}
	}
	return PriorityOther, nil
}

// Decision is one approval decided, with how long its vote was open: from the
// event that entered the approval's state to the decision.
type Decision struct {
	State   string
	Outcome string
	Open    time.Duration
}

// ProjectionObserver hears of every projection after its transaction
// committed. It is called on the projecting goroutine, so it must be quick and
// must not call the store.
type ProjectionObserver interface {
	Projected(Projected)
}

// ObserveProjections has o told of each projection from now on. Call it before
// the worker starts: it is not safe while projections run.
func (s *Store) ObserveProjections(o ProjectionObserver) { s.observer = o }

// decisionOpen returns how long the approval decided by e (an
// approval_decided event, whose From is the approval's state) had been open:
// since the latest event before it that entered that state. It runs in the
// projection's transaction, after the events before e were inserted.
func decisionOpen(ctx context.Context, tx *sqlx.Tx, id string, e engine.Event) (Decision, bool, error) {
	var entered sql.NullTime
	err := tx.GetContext(ctx, &entered, `SELECT max(at) FROM events WHERE process_id = $1 AND seq < $2 AND to_state = $3`, id, e.Seq, e.From)
	if err != nil || !entered.Valid {
		return Decision{}, false, err
	}
	outcome, _ := e.Data["outcome"].(string)
	return Decision{State: e.From, Outcome: outcome, Open: e.At.Sub(entered.Time)}, true, nil
}

// Count is a number of processes with a definition and state.
type Count struct {
	Definition string `db:"definition"`
	State      string `db:"state"`
	N          int64  `db:"n"`
}

// Gauges are what the projection holds now, for the metrics read at each
// scrape (so they are right straight after a restart).
type Gauges struct {
	// Open counts the processes not ended, by definition and state.
	Open []Count
	// Approvals counts the open processes waiting on a vote, by definition and
	// the state that holds the vote.
	Approvals []Count
	// Overdue counts the running SLA clocks whose due time has passed
	// although the projection records no breach; OldestDue is the earliest
	// of their due times. Every breach is an event the workflow projects, so
	// these are changes the projection has not caught up with: a worker that is
	// down, a workflow task that keeps failing, a projection being retried.
	// (A clock without a target never breaches, so it is never overdue.)
	Overdue   int64
	OldestDue *time.Time
}

// MetricGauges reads the Gauges as of now, each query bounded by ctx and the
// store's timeout.
func (s *Store) MetricGauges(ctx context.Context, now time.Time) (Gauges, error) {
	const op = "store.MetricGauges"
	g := Gauges{Open: []Count{}, Approvals: []Count{}}
	if err := s.db.SelectContext(ctx, &g.Open, `SELECT definition, state, count(*) AS n
		FROM processes WHERE ended_at IS NULL GROUP BY definition, state ORDER BY definition, state`); err != nil {
		return g, fail(op, err)
	}
	// The same condition as the approvals inbox's index (processes_open_approvals).
	if err := s.db.SelectContext(ctx, &g.Approvals, `SELECT definition, state, count(*) AS n
		FROM processes WHERE ended_at IS NULL AND view ? 'approval' GROUP BY definition, state ORDER BY definition, state`); err != nil {
		return g, fail(op, err)
	}
	var overdue struct {
		N      int64        `db:"n"`
		Oldest sql.NullTime `db:"oldest"`
	}
	if err := s.db.GetContext(ctx, &overdue, `SELECT count(*) AS n, min(s.due) AS oldest FROM process_slas s JOIN processes p ON p.id = s.process_id
		WHERE s.status = 'running' AND NOT s.breached AND s.target_s > 0 AND s.due < $1 AND p.ended_at IS NULL`, now); err != nil {
		return g, fail(op, err)
	}
	g.Overdue = overdue.N
	if overdue.Oldest.Valid {
		t := overdue.Oldest.Time
		g.OldestDue = &t
	}
	return g, nil
}
