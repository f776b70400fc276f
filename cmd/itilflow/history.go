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

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/itilflow/itilflow/history"
	"github.com/itilflow/itilflow/workflows"
)

// runHistory implements `itilflow history export --id ID`: the process's workflow
// history as JSON, in the form `temporal workflow show --output json` writes.
func runHistory(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return errors.New("usage: itilflow history export --id PROCESS-ID > history.json")
	}
	f := newFlags("history export", getenv, stderr)
	id := f.String("id", "", "process id, e.g. incident-000123")
	run := f.String("run", "", "the run to export (default the current one; each run's first event names the run before it)")
	conn := temporalFlags(f)
	if err := f.parse(args[1:]); err != nil {
		return err
	}
	if *id == "" {
		return errors.New("history export needs --id")
	}
	c, err := conn.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return history.WriteJSON(ctx, c, *id, *run, stdout, nil)
}

// runReplay implements `itilflow replay [--id ID]... [--definition D --since T]
// [FILE...]`: it replays each history against this binary's workflow code and
// reports, per history, whether the code makes the same decisions; it fails if any
// history diverges.
func runReplay(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("replay", getenv, stderr)
	var ids stringList
	f.Var(&ids, "id", "process id to fetch from Temporal and replay (repeatable)")
	definition := f.String("definition", "", "replay every process of this definition started since --since")
	since := f.String("since", "", "with --definition: RFC 3339 time or date, e.g. 2026-11-01")
	conn := temporalFlags(f)
	if err := f.parse(args); err != nil {
		return err
	}
	files := f.Args()
	if (*definition == "") != (*since == "") {
		return errors.New("--definition and --since go together")
	}
	if len(ids) == 0 && len(files) == 0 && *definition == "" {
		return errors.New("usage: itilflow replay [--id PROCESS-ID]... [--definition NAME --since TIME] [HISTORY.json]...")
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
	if len(ids) > 0 || *definition != "" {
		c, err := conn.dial(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		if *definition != "" {
			t, err := parseSince(*since)
			if err != nil {
				return err
			}
			found, err := history.Since(ctx, c, *definition, t)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%d %s processes started since %s\n", len(found), *definition, t.Format(time.RFC3339))
			ids = append(ids, found...)
		}
		for _, id := range ids {
			// A process that continued as new is replayed run by run.
			runs, err := history.Runs(ctx, c, id)
			if err != nil {
				items = append(items, item{id, func() (*historypb.History, error) { return nil, err }})
				continue
			}
			for i, h := range runs {
				name := id
				if len(runs) > 1 {
					name = fmt.Sprintf("%s (run %d of %d)", id, i+1, len(runs))
				}
				items = append(items, item{name, func() (*historypb.History, error) { return h, nil }})
			}
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

// parseSince accepts an RFC 3339 time or a date.
func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time (2026-11-01T00:00:00Z) or a date (2026-11-01)", s)
	}
	return t, nil
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
