// Package history reads process workflow histories from Temporal: whole, as a
// stream of JSON in the form `temporal workflow show --output json` writes, or as
// the list of processes of a definition started in a period. It is shared by the
// API and the command line, which both offer export and replay.
package history

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/itilflow/itilflow/workflows"
)

// Fetch reads the history of a process's current run, page by page.
func Fetch(ctx context.Context, c client.Client, id string) (*historypb.History, error) {
	return fetchRun(ctx, c, id, "")
}

func fetchRun(ctx context.Context, c client.Client, id, run string) (*historypb.History, error) {
	h := &historypb.History{}
	err := eachOfRun(ctx, c, id, run, func(e *historypb.HistoryEvent) error {
		h.Events = append(h.Events, e)
		return nil
	})
	return h, err
}

// Runs reads the histories of every run of a process, the first first: a
// long-lived process continues as new (workflows.Limits), and its record is
// all of them. A run whose history retention deleted ends the chain: Runs
// returns the runs after it.
func Runs(ctx context.Context, c client.Client, id string) ([]*historypb.History, error) {
	h, err := Fetch(ctx, c, id)
	if err != nil {
		return nil, err
	}
	runs := []*historypb.History{h}
	for {
		prev := ContinuedFrom(runs[0])
		if prev == "" {
			return runs, nil
		}
		h, err := fetchRun(ctx, c, id, prev)
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return runs, nil
		}
		if err != nil {
			return nil, err
		}
		runs = append([]*historypb.History{h}, runs...)
	}
}

// ContinuedFrom returns the run a history's run continued, or "" for a first
// run.
func ContinuedFrom(h *historypb.History) string {
	if len(h.GetEvents()) == 0 {
		return ""
	}
	return h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
}

// Each calls fn for every event of the history of the process's current run,
// in order, without holding the whole history in memory.
func Each(ctx context.Context, c client.Client, id string, fn func(*historypb.HistoryEvent) error) error {
	return eachOfRun(ctx, c, id, "", fn)
}

func eachOfRun(ctx context.Context, c client.Client, id, run string, fn func(*historypb.HistoryEvent) error) error {
	it := c.GetWorkflowHistory(ctx, id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
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

// WriteJSON streams the history of one run of a process (run "" is the
// current one) as {"events":[…]}, one event at a time, so a large history
// never sits whole in memory. first is called before anything is written (an
// HTTP handler sets its headers there), once the first page has arrived, so
// an unknown process can still be answered with an error.
func WriteJSON(ctx context.Context, c client.Client, id, run string, w io.Writer, first func()) error {
	n := 0
	err := eachOfRun(ctx, c, id, run, func(e *historypb.HistoryEvent) error {
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
