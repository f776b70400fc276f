package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/itilflow/itilflow/workflows"
)

// temporalFlags are the connection flags of the commands that talk to Temporal
// directly (history export, replay --id).
func temporalFlags(f *flags) (address, namespace *string) {
	address = f.String("temporal-address", envOr(f.getenv, "TEMPORAL_ADDRESS", "127.0.0.1:7233"), "Temporal frontend (env TEMPORAL_ADDRESS)")
	namespace = f.String("namespace", envOr(f.getenv, "TEMPORAL_NAMESPACE", "default"), "Temporal namespace (env TEMPORAL_NAMESPACE)")
	return address, namespace
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func dialTemporal(ctx context.Context, address, namespace string) (client.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := client.DialContext(dctx, client.Options{HostPort: address, Namespace: namespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		return nil, fmt.Errorf("Temporal at %s is unreachable: %w", address, err)
	}
	return c, nil
}

// runHistory implements `itilflow history export --id ID`: the process's workflow
// history as JSON, in the form `temporal workflow show --output json` writes.
func runHistory(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return errors.New("usage: itilflow history export --id PROCESS-ID > history.json")
	}
	f := newFlags("history export", getenv, stderr)
	id := f.String("id", "", "process id, e.g. incident-000123")
	address, namespace := temporalFlags(f)
	if err := f.parse(args[1:]); err != nil {
		return err
	}
	if *id == "" {
		return errors.New("history export needs --id")
	}
	c, err := dialTemporal(ctx, *address, *namespace)
	if err != nil {
		return err
	}
	defer c.Close()
	h, err := fetchHistory(ctx, c, *id)
	if err != nil {
		return err
	}
	return writeHistoryJSON(stdout, h)
}

// fetchHistory reads a workflow's whole history, page by page.
func fetchHistory(ctx context.Context, c client.Client, id string) (*historypb.History, error) {
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", id, err)
		}
		h.Events = append(h.Events, e)
	}
	return h, nil
}

func writeHistoryJSON(w io.Writer, h *historypb.History) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// runReplay implements `itilflow replay [--id ID]... [FILE...]`: it replays each
// history against this binary's workflow code and reports, per history, whether
// the code makes the same decisions; it fails if any history diverges.
func runReplay(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("replay", getenv, stderr)
	var ids stringList
	f.Var(&ids, "id", "process id to fetch from Temporal and replay (repeatable)")
	address, namespace := temporalFlags(f)
	if err := f.parse(args); err != nil {
		return err
	}
	files := f.Args()
	if len(ids) == 0 && len(files) == 0 {
		return errors.New("usage: itilflow replay [--id PROCESS-ID]... [HISTORY.json]...")
	}
	logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	type item struct {
		name    string
		history func() (*historypb.History, error)
	}
	var items []item
	for _, file := range files {
		items = append(items, item{file, func() (*historypb.History, error) { return readHistoryFile(file) }})
	}
	if len(ids) > 0 {
		c, err := dialTemporal(ctx, *address, *namespace)
		if err != nil {
			return err
		}
		defer c.Close()
		for _, id := range ids {
			items = append(items, item{id, func() (*historypb.History, error) { return fetchHistory(ctx, c, id) }})
		}
	}
	failed := 0
	for _, it := range items {
		h, err := it.history()
		if err == nil {
			err = workflows.Replay(logger, h)
		}
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "%s: NOT deterministic: %v\n", it.name, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: deterministic (%d events)\n", it.name, len(h.Events))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d histories do not replay", failed, len(items))
	}
	return nil
}

func readHistoryFile(name string) (*historypb.History, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return client.HistoryFromJSON(fh, client.HistoryJSONOptions{})
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
