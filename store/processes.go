package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/gate"
)

// NextProcessID returns a new readable process id such as incident-000123.
func (s *Store) NextProcessID(ctx context.Context, definition string) (string, error) {
	var n int64
	if err := s.db.GetContext(ctx, &n, `SELECT nextval('process_number')`); err != nil {
		return "", fail("store.NextProcessID", err)
	}
	return fmt.Sprintf("%s-%06d", definition, n), nil
}

// Project stores a process view and appends its new events, in one transaction.
// It is idempotent and order-tolerant: a view older than the stored one changes
// nothing, and events already stored are skipped, so Temporal may retry it freely.
func (s *Store) Project(ctx context.Context, v engine.View, events []engine.Event) error {
	return s.project(ctx, "store.Project", v, events, projection{})
}

// ProjectCompact is Project for a compact view (engine.CompactView): it is
// merged into the view the store holds (engine.MergeView) under the row's
// lock, and stored without votes, which readers take from the vote events
// (a lean process: see votes.go).
func (s *Store) ProjectCompact(ctx context.Context, v engine.View, events []engine.Event, patch engine.ViewPatch) error {
	return s.project(ctx, "store.ProjectCompact", v, events, projection{patch: &patch, lean: true, opened: patch.Opened})
}

// RepairProjection overwrites the stored view with v (a whole one) whatever
// its sequence number and adds the events that are missing. Reconcile uses it
// when the projection has drifted from the workflow history, which stays the
// source of truth. For a lean process (its history's projections were
// compact), opened is the event after which it entered its state
// (history.Record.Opened), which later compact projections merge against.
func (s *Store) RepairProjection(ctx context.Context, v engine.View, events []engine.Event, lean bool, opened int64) error {
	return s.project(ctx, "store.RepairProjection", v, events, projection{force: true, lean: lean, opened: opened})
}

// projection says how project stores a view.
type projection struct {
	// patch, when set, says the view is compact: merged into the stored one.
	patch *engine.ViewPatch
	// force stores the view whatever its sequence number (a repair).
	force bool
	// lean stores it without votes, with the approval's opening event.
	lean   bool
	opened int64
}

func (s *Store) project(ctx context.Context, op string, v engine.View, events []engine.Event, how projection) error {
	if err := storable(nil, events); err != nil {
		return &engine.Error{Code: engine.EINVALID, Op: op, Message: fmt.Sprintf("process %s holds text the database cannot store", v.ID), Err: err}
	}
	var added Projected
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		added = Projected{}
		if how.patch != nil {
			merged, err := mergeStored(ctx, tx, v, events, *how.patch)
			if err != nil {
				return err
			}
			v = merged
		}
		stored := v
		if how.lean && v.Approval != nil {
			a := *v.Approval
			a.Votes = nil // in the vote events; readers put them back
			stored.Approval = &a
		}
		view, err := json.Marshal(stored)
		if err != nil {
			return err
		}
		if err := storable(view, nil); err != nil {
			return &engine.Error{Code: engine.EINVALID, Op: op, Message: fmt.Sprintf("process %s holds text the database cannot store", v.ID), Err: err}
		}
		breached, nextDue := false, (*time.Time)(nil)
		for _, c := range v.SLAs {
			breached = breached || c.Breached
			if c.Status == engine.ClockRunning && c.Due != nil && (nextDue == nil || c.Due.Before(*nextDue)) {
				nextDue = c.Due
			}
		}
		q := queueColumnsOf(v)
		res, err := tx.ExecContext(ctx, `INSERT INTO processes
			(id, definition, version, state, priority, breached, started_at, started_by, ended_at, next_wake, seq, view, approval_opened, lean, next_due,
			 assignee, assignment_group, ci, search_text, search, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $14, $15, $16, $17, $18, $19, $20, to_tsvector('simple', $20), now())
			ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, priority = EXCLUDED.priority,
				breached = EXCLUDED.breached, ended_at = EXCLUDED.ended_at, next_wake = EXCLUDED.next_wake,
				seq = EXCLUDED.seq, view = EXCLUDED.view, approval_opened = EXCLUDED.approval_opened, lean = EXCLUDED.lean,
				next_due = EXCLUDED.next_due, assignee = EXCLUDED.assignee, assignment_group = EXCLUDED.assignment_group,
				ci = EXCLUDED.ci, search_text = EXCLUDED.search_text, search = EXCLUDED.search, updated_at = now()
			WHERE processes.seq < EXCLUDED.seq OR $13`,
			v.ID, v.Definition, v.Version, v.State, v.Priority, breached, v.StartedAt, v.StartedBy, v.EndedAt, v.NextWake, v.Seq, view, how.force, how.opened, how.lean, nextDue,
			q.assignee, q.group, q.ci, q.search)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if err := upsertSLAs(ctx, tx, v); err != nil {
				return err
			}
		}
		if err := s.addParticipants(ctx, tx, v, events); err != nil {
			return err
		}
		if v.EndedAt != nil {
			// An ended process holds no configuration item any more.
			if _, err := tx.ExecContext(ctx, `DELETE FROM ci_windows WHERE process_id = $1`, v.ID); err != nil {
				return err
			}
		}
		for _, e := range events {
			inserted, err := insertEvent(ctx, tx, v.ID, e)
			if err != nil {
				return err
			}
			if err := s.auditEvent(ctx, tx, v, e); err != nil {
				return err
			}
			if !inserted || s.observer == nil {
				continue
			}
			added.Events = append(added.Events, e)
			if e.Type == engine.EventApprovalDecided {
				d, ok, err := decisionOpen(ctx, tx, v.ID, e)
				if err != nil {
					return err
				}
				if ok {
					added.Decisions = append(added.Decisions, d)
				}
			}
		}
		added.View = v
		if s.observer != nil {
			priority, err := s.priorityLabel(ctx, tx, v)
			if err != nil {
				return err
			}
			added.Priority = priority
		}
		return nil
	})
	// Told only after the commit, so an observer never counts what a rolled
	// back attempt inserted and its retry inserts again.
	if err == nil && s.observer != nil {
		s.observer.Projected(added)
	}
	return err
}

// mergeStored merges the compact view v into the view stored for its
// process, locking the row so no other projection of it interleaves. A view
// older than the stored one is returned as it is: the upsert ignores it.
func mergeStored(ctx context.Context, tx *sqlx.Tx, v engine.View, events []engine.Event, patch engine.ViewPatch) (engine.View, error) {
	var row struct {
		View   []byte `db:"view"`
		Seq    int64  `db:"seq"`
		Opened int64  `db:"approval_opened"`
	}
	var prev *engine.View
	err := tx.GetContext(ctx, &row, `SELECT view, seq, approval_opened FROM processes WHERE id = $1 FOR UPDATE`, v.ID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return v, err
	default:
		if row.Seq >= v.Seq {
			return v, nil
		}
		prev = &engine.View{}
		if err := json.Unmarshal(row.View, prev); err != nil {
			return v, err
		}
	}
	var fresh []engine.Event
	for _, e := range events {
		if prev == nil || e.Seq > row.Seq {
			fresh = append(fresh, e)
		}
	}
	return engine.MergeView(prev, row.Opened, v, patch, fresh), nil
}

// storable refuses a projection with text PostgreSQL cannot hold (a NUL, which
// jsonb and text refuse), naming where it is. The projection activity cleans
// what it hands over, so this guards against any other writer.
func storable(view []byte, events []engine.Event) error {
	if view != nil {
		if err := gate.JSON(view); err != nil {
			return err
		}
	}
	for _, e := range events {
		for _, s := range []string{e.Type, e.Actor, e.Action, e.From, e.To, e.SLA, e.Comment, e.RequestID} {
			if p := gate.Problem(s); p != "" {
				return fmt.Errorf("event %d: a field %s", e.Seq, p)
			}
		}
		data, err := json.Marshal(e.Data)
		if err != nil {
			return err
		}
		if err := gate.JSON(data); err != nil {
			return fmt.Errorf("event %d: data: %w", e.Seq, err)
		}
	}
	return nil
}

// addParticipants adds the people the view and events name to those the
// process already has: people are only ever added, so whoever took part once
// keeps seeing the record. A process of a version the store does not hold
// (a test's) gets the people any definition names: starter and actors.
func (s *Store) addParticipants(ctx context.Context, tx *sqlx.Tx, v engine.View, events []engine.Event) error {
	def, err := s.compiledDefinition(ctx, tx, v.Definition, v.Version)
	if errors.Is(err, sql.ErrNoRows) {
		def, err = &engine.Definition{}, nil
	}
	if err != nil {
		return err
	}
	people := pqArray(def.Participants(v, events))
	_, err = tx.ExecContext(ctx, `UPDATE processes SET participants = ARRAY(SELECT DISTINCT x FROM unnest(participants || $2::text[]) x ORDER BY x)
		WHERE id = $1 AND NOT participants @> $2::text[]`, v.ID, people)
	return err
}

func upsertSLAs(ctx context.Context, tx *sqlx.Tx, v engine.View) error {
	for _, c := range v.SLAs {
		_, err := tx.ExecContext(ctx, `INSERT INTO process_slas
			(process_id, name, status, target_s, elapsed_s, due, breached, breached_at, started_at, stopped_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (process_id, name) DO UPDATE SET status = EXCLUDED.status, target_s = EXCLUDED.target_s,
				elapsed_s = EXCLUDED.elapsed_s, due = EXCLUDED.due, breached = EXCLUDED.breached,
				breached_at = EXCLUDED.breached_at, started_at = EXCLUDED.started_at, stopped_at = EXCLUDED.stopped_at`,
			v.ID, c.Name, c.Status, int64(time.Duration(c.Target)/time.Second), int64(time.Duration(c.Elapsed)/time.Second),
			c.Due, c.Breached, c.BreachAt, c.StartedAt, c.StoppedAt)
		if err != nil {
			return err
		}
	}
	return nil
}

// insertEvent stores e unless it is stored already, and reports whether it
// was new.
func insertEvent(ctx context.Context, tx *sqlx.Tx, id string, e engine.Event) (bool, error) {
	var data []byte
	if len(e.Data) > 0 {
		var err error
		if data, err = json.Marshal(e.Data); err != nil {
			return false, err
		}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO events (process_id, seq, at, type, actor, action, from_state, to_state, sla, comment, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (process_id, seq) DO NOTHING`,
		id, e.Seq, e.At, e.Type, e.Actor, e.Action, e.From, e.To, e.SLA, e.Comment, data)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if e.Type != engine.EventNotification {
		return n > 0, nil
	}
	role, _ := e.Data["role"].(string)
	user, _ := e.Data["user"].(string)
	msg, _ := e.Data["message"].(string)
	_, err = tx.ExecContext(ctx, `INSERT INTO notifications (process_id, seq, role, user_id, message, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (process_id, seq) DO NOTHING`, id, e.Seq, role, user, msg, e.At)
	return n > 0, err
}

// ProjectionStatus is what the projection holds of a process, for reconcile.
type ProjectionStatus struct {
	ID     string `db:"id"`
	State  string `db:"state"`
	Seq    int64  `db:"seq"`
	Events int64  `db:"events"`
}

// OpenProcesses returns the processes the projection holds as not ended.
func (s *Store) OpenProcesses(ctx context.Context) ([]ProjectionStatus, error) {
	out := []ProjectionStatus{}
	err := s.db.SelectContext(ctx, &out, `SELECT p.id, p.state, p.seq,
		(SELECT count(*) FROM events e WHERE e.process_id = p.id) AS events
		FROM processes p WHERE p.ended_at IS NULL ORDER BY p.started_at, p.id`)
	return out, fail("store.OpenProcesses", err)
}

// ProcessIDs returns the id of every process in the projection, oldest first.
func (s *Store) ProcessIDs(ctx context.Context) ([]string, error) {
	out := []string{}
	err := s.db.SelectContext(ctx, &out, `SELECT id FROM processes ORDER BY started_at, id`)
	return out, fail("store.ProcessIDs", err)
}

// Process returns the stored view of a process.
func (s *Store) Process(ctx context.Context, id string) (engine.View, error) {
	v, err := s.view(ctx, `SELECT `+viewColumns+` FROM processes p WHERE p.id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return v, engine.Errorf(engine.ENOTFOUND, "no process %q", id)
	}
	return v, fail("store.Process", err)
}

// Events returns the events of a process in order.
func (s *Store) Events(ctx context.Context, id string) ([]engine.Event, error) {
	rows, err := s.db.QueryxContext(ctx, `SELECT seq, at, type, actor, action, from_state, to_state, sla, comment, data
		FROM events WHERE process_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, fail("store.Events", err)
	}
	defer rows.Close()
	out := []engine.Event{}
	for rows.Next() {
		var e engine.Event
		var data []byte
		if err := rows.Scan(&e.Seq, &e.At, &e.Type, &e.Actor, &e.Action, &e.From, &e.To, &e.SLA, &e.Comment, &data); err != nil {
			return nil, fail("store.Events", err)
		}
		if data != nil {
			if err := json.Unmarshal(data, &e.Data); err != nil {
				return nil, fail("store.Events", err)
			}
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, fail("store.Events", rows.Err())
}

// ProcessFilter selects processes; empty fields match everything.
type ProcessFilter struct {
	Definition string
	State      string
	Breached   *bool
	// Open keeps only processes that have not ended.
	Open bool
	// IDs, when not nil, keeps only these processes (a meeting's agenda).
	IDs []string
	// Priority, Assignee, StartedBy and CI keep the processes with that
	// value; AssignmentGroup those assigned to that group.
	Priority, Assignee, StartedBy, CI, AssignmentGroup string
	// Unassigned keeps the processes nobody is assigned to.
	Unassigned bool
	// MyGroups keeps the processes assigned to a group of the viewer's, or
	// to one of their roles (reassign steps name roles as groups).
	MyGroups bool
	// StartedFrom and StartedBefore bound when the processes started.
	StartedFrom, StartedBefore *time.Time
	// Text keeps the processes whose title or description holds its words
	// (PostgreSQL full-text search), or — for text in Chinese, whose words
	// are not spaced — the text itself.
	Text string
	// ByDue orders by the next SLA due time (the most urgent first, those with
	// no running clock last) instead of newest first.
	ByDue  bool
	Limit  int
	Offset int
}

// Notification is a message raised by an escalation.
type Notification struct {
	ID        int64     `json:"id" db:"id"`
	ProcessID string    `json:"process_id" db:"process_id"`
	Seq       int64     `json:"seq" db:"seq"`
	Role      string    `json:"role,omitempty" db:"role"`
	User      string    `json:"user,omitempty" db:"user_id"`
	Message   string    `json:"message" db:"message"`
	CreatedAt time.Time `json:"created_at" db:"created_at"`
}

// ProcessSeq returns the number of the last event the projection holds of a
// process (0 when it holds none yet), for callers waiting for their change.
func (s *Store) ProcessSeq(ctx context.Context, id string) (int64, error) {
	var seq int64
	err := s.db.GetContext(ctx, &seq, `SELECT seq FROM processes WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, fail("store.ProcessSeq", err)
}

// queueColumns are what the queue filters a process by, from its view.
type queueColumns struct {
	assignee, group, ci *string
	search              string
}

// queueColumnsOf reads them: the assignee and assignment group a reassign
// step or an assign action set, the configuration item (a variable, else
// the input), and the title and description searched as text.
func queueColumnsOf(v engine.View) queueColumns {
	str := func(m map[string]any, k string) *string {
		if s, ok := m[k].(string); ok && s != "" {
			return &s
		}
		return nil
	}
	q := queueColumns{assignee: str(v.Vars, engine.VarAssignee), group: str(v.Vars, engine.VarAssignmentGroup), ci: str(v.Vars, "ci")}
	if q.ci == nil {
		q.ci = str(v.Input, "ci")
	}
	var text []string
	for _, k := range []string{"title", "description"} {
		if s := str(v.Input, k); s != nil {
			text = append(text, *s)
		}
	}
	q.search = strings.Join(text, " ")
	return q
}
