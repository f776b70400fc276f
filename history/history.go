// Package history reads process workflow histories from Temporal: whole, as a
// stream of JSON in the form `temporal workflow show --output json` writes, or as
// the list of processes of a definition started in a period. It is shared by the
// API and the command line, which both offer export and replay.
package history

import (
	"context"
	"fmt"
	"io"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/itilflow/itilflow/workflows"
)

// Fetch reads a process's whole history, page by page.
func Fetch(ctx context.Context, c client.Client, id string) (*historypb.History, error) {
	h := &historypb.History{}
	err := Each(ctx, c, id, func(e *historypb.HistoryEvent) error {
		h.Events = append(h.Events, e)
		return nil
	})
	return h, err
}

// Each calls fn for every event of the process's history, in order, without
// holding the whole history in memory.
func Each(ctx context.Context, c client.Client, id string, fn func(*historypb.HistoryEvent) error) error {
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return fmt.Errorf("history of %s: %w", id, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSON streams the history of a process as {"events":[…]}, one event at a
// time, so a large history never sits whole in memory. first is called before
// anything is written (an HTTP handler sets its headers there), once the first
// page has arrived, so an unknown process can still be answered with an error.
func WriteJSON(ctx context.Context, c client.Client, id string, w io.Writer, first func()) error {
	n := 0
	err := Each(ctx, c, id, func(e *historypb.HistoryEvent) error {
		b, err := protojson.Marshal(e)
		if err != nil {
			return err
		}
		prefix := ",\n  "
		if n == 0 {
			if first != nil {
				first()
			}
			prefix = "{\"events\": [\n  "
		}
		n++
		if _, err := io.WriteString(w, prefix); err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n]}\n")
	return err
}

// Since lists the ids of the processes of a definition started at or after since,
// oldest first, from Temporal's visibility store.
func Since(ctx context.Context, c client.Client, definition string, since time.Time) ([]string, error) {
	query := fmt.Sprintf(`%s = %q AND StartTime >= %q`, workflows.AttrDefinition.GetName(), definition, since.UTC().Format(time.RFC3339))
	var ids []string
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list %s processes: %w", definition, err)
		}
		for _, e := range resp.GetExecutions() {
			ids = append(ids, e.GetExecution().GetWorkflowId())
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	// Visibility lists newest first; replay reports read better in time order.
	for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
		ids[i], ids[j] = ids[j], ids[i]
	}
	return ids, nil
}
