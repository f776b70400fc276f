package store

import (
	"context"
	"encoding/json"

	"github.com/itilflow/itilflow/engine"
)

// OpenApprovals returns the views of the open processes that are in an approval
// step, oldest first: the candidates for an approver's inbox. Who may vote is
// decided by the caller against each definition.
func (s *Store) OpenApprovals(ctx context.Context) ([]engine.View, error) {
	const op = "store.OpenApprovals"
	var raws [][]byte
	if err := s.db.SelectContext(ctx, &raws, `SELECT view FROM processes
		WHERE ended_at IS NULL AND view ? 'approval' ORDER BY started_at, id`); err != nil {
		return nil, fail(op, err)
	}
	out := make([]engine.View, 0, len(raws))
	for _, raw := range raws {
		var v engine.View
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fail(op, err)
		}
		out = append(out, v)
	}
	return out, nil
}
