package store

import (
	"context"
	"encoding/json"

	"github.com/lib/pq"

	"github.com/itilflow/itilflow/engine"
)

// A lean process (one whose workflow sends compact projections) is stored
// without its approval's votes: each vote is in its own event already, and a
// meeting's view would otherwise be rewritten with every vote so far at each
// new vote. Readers put the votes back here, from the vote events cast in the
// current state since the approval opened.

// viewColumns are what a read needs of a process row to give its whole view.
const viewColumns = `p.view, p.id, p.state, p.lean, p.approval_opened`

// viewRow is one process row as viewColumns reads it.
type viewRow struct {
	View   []byte `db:"view"`
	ID     string `db:"id"`
	State  string `db:"state"`
	Lean   bool   `db:"lean"`
	Opened int64  `db:"approval_opened"`
}

// views decodes rows and gives lean ones their votes back, with one query for
// all of them.
func (s *Store) views(ctx context.Context, rows []viewRow) ([]engine.View, error) {
	out := make([]engine.View, len(rows))
	var lean []string
	for i, r := range rows {
		if err := json.Unmarshal(r.View, &out[i]); err != nil {
			return nil, err
		}
		if r.Lean && out[i].Approval != nil {
			lean = append(lean, r.ID)
		}
	}
	if len(lean) == 0 {
		return out, nil
	}
	events, err := s.voteEvents(ctx, lean)
	if err != nil {
		return nil, err
	}
	for i, r := range rows {
		if a := out[i].Approval; r.Lean && a != nil {
			a.Votes = engine.VotesSince(events[r.ID], r.Opened, r.State)
			if a.Votes == nil {
				a.Votes = []engine.Vote{}
			}
		}
	}
	return out, nil
}

// voteEvents returns the vote events (approve and reject actions) of the
// processes, by process, in order.
func (s *Store) voteEvents(ctx context.Context, ids []string) (map[string][]engine.Event, error) {
	rows, err := s.db.QueryxContext(ctx, `SELECT process_id, seq, at, type, actor, action, from_state, to_state, sla, comment, data
		FROM events WHERE process_id = ANY($1) AND type = $2 AND action IN ($3, $4) ORDER BY process_id, seq`,
		pq.StringArray(ids), engine.EventAction, engine.ActionApprove, engine.ActionReject)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]engine.Event{}
	for rows.Next() {
		var id string
		var e engine.Event
		var data []byte
		if err := rows.Scan(&id, &e.Seq, &e.At, &e.Type, &e.Actor, &e.Action, &e.From, &e.To, &e.SLA, &e.Comment, &data); err != nil {
			return nil, err
		}
		if data != nil {
			if err := json.Unmarshal(data, &e.Data); err != nil {
				return nil, err
			}
		}
		e.At = e.At.UTC()
		out[id] = append(out[id], e)
	}
	return out, rows.Err()
}

// view reads one process row with q's query and args, and gives its whole
// view; a missing row is sql.ErrNoRows.
func (s *Store) view(ctx context.Context, query string, args ...any) (engine.View, error) {
	var r viewRow
	if err := s.db.GetContext(ctx, &r, query, args...); err != nil {
		return engine.View{}, err
	}
	vs, err := s.views(ctx, []viewRow{r})
	if err != nil {
		return engine.View{}, err
	}
	return vs[0], nil
}

// ItemVotes returns the votes cast on an agenda item at a meeting, in order,
// from its vote events.
func (s *Store) ItemVotes(ctx context.Context, process, item string) ([]engine.Vote, error) {
	events, err := s.voteEvents(ctx, []string{process})
	if err != nil {
		return nil, fail("store.ItemVotes", err)
	}
	var out []engine.Vote
	for _, e := range events[process] {
		if v, ok := engine.VoteOf(e); ok && v.Item == item {
			out = append(out, v)
		}
	}
	return out, nil
}
