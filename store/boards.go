package store

import (
	"context"
	"encoding/json"

	"github.com/itilflow/itilflow/engine"
)

// AwaitingBoard returns the open processes of process whose approval in their
// current state is decided by meetings of board, oldest first and at most
// engine.MaxAgenda of them: a meeting's agenda (the others wait for the next). Each carries who may not vote on it — who started it and whom its
// exclude expressions name — as its projection last showed.
func (s *Store) AwaitingBoard(ctx context.Context, process, board string) ([]engine.AgendaItem, error) {
	const op = "store.AwaitingBoard"
	var raws [][]byte
	if err := s.db.SelectContext(ctx, &raws, `SELECT view FROM processes
		WHERE definition = $1 AND ended_at IS NULL AND view->'approval'->>'board' = $2
		ORDER BY started_at, id LIMIT $3`, process, board, engine.MaxAgenda); err != nil {
		return nil, fail(op, err)
	}
	items := make([]engine.AgendaItem, 0, len(raws))
	for _, raw := range raws {
		var v engine.View
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fail(op, err)
		}
		title, _ := v.Input["title"].(string)
		items = append(items, engine.AgendaItem{ID: v.ID, Definition: v.Definition, State: v.State, Title: title,
			StartedBy: v.StartedBy, Excluded: v.Approval.Excluded})
	}
	return items, nil
}
