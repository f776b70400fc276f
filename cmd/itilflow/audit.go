package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/itilflow/itilflow/checkpoint"
	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/history"
	"github.com/itilflow/itilflow/store"
)

const auditUsage = "usage: itilflow audit verify [--deep] [--audit-key-file FILE] [--audit-checkpoint-file FILE]   (reads DATABASE_URL, --deep TEMPORAL_ADDRESS too; unset, those of the dev running on --data-dir)"

// checkpointFileName is the checkpoint file `dev` keeps in its data directory,
// where `audit verify` also looks for one.
const checkpointFileName = "audit-checkpoints.jsonl"

// runAudit implements `itilflow audit verify`: it checks the audit chain in
// DATABASE_URL, against the latest checkpoint of the checkpoint file, and the
// process events' records against the events table, and names the first
// problem of each. Without a key or a checkpoint file it checks what it can and
// says what it could not. With --deep it also compares every process's events
// rows with its workflow history.
func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New(auditUsage)
	}
	f := newFlags("audit verify", getenv, stderr)
	keyFile := f.auditKeyFile()
	cpFile := f.string("audit-checkpoint-file", "", "the checkpoint file to check the chain against (default <data-dir>/"+checkpointFileName+", if it exists)")
	deep := f.Bool("deep", false, "also compare every process's events rows with its workflow history in Temporal")
	conn := temporalFlags(f)
	loc := f.local()
	if err := f.parse(args[1:]); err != nil {
		return err
	}
	st, err := openCLIStore(ctx, *keyFile, loc)
	if err != nil {
		return err
	}
	defer st.Close()
	checkpoints, note, err := latestCheckpoint(*cpFile, loc.dir())
	if err != nil {
		return err
	}
	v, err := st.VerifyAudit(ctx, checkpoints...)
	if err != nil {
		return err
	}
	if note != "" {
		v.Unchecked = append(v.Unchecked, note)
	}
	printVerification(stdout, v)
	var failed []error
	if !v.OK {
		failed = append(failed, errors.New("audit log does not verify"))
	}
	if *deep {
		tc, err := conn.dial(ctx)
		if err != nil {
			return errors.Join(append(failed, err)...)
		}
		defer tc.Close()
		n, err := deepVerify(ctx, st, tc, stdout)
		if err != nil {
			return errors.Join(append(failed, err)...)
		}
		if n > 0 {
			failed = append(failed, fmt.Errorf("%d process(es) differ from their histories or could not be read", n))
		}
	}
	return errors.Join(failed...)
}

// deepVerify compares, for every process in the projection, its events rows
// with the events its workflow history holds — the source of truth — and
// prints the first difference of each. A process whose history is gone
// (retention) is reported and is no failure; one whose history cannot be read
// is reported, counts as a failure, and the comparison goes on. It returns the
// number of failures.
func deepVerify(ctx context.Context, st *store.Store, tc client.Client, w io.Writer) (int, error) {
	ids, err := st.ProcessIDs(ctx)
	if err != nil {
		return 0, err
	}
	differ, gone, unreadable := 0, 0, 0
	for _, id := range ids {
		runs, err := history.Runs(ctx, tc, id)
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			gone++
			fmt.Fprintf(w, "deep: %s: no workflow history (deleted by retention, or never started); not compared\n", id)
			continue
		}
		var rec history.Record
		if err == nil {
			rec, err = history.Decode(runs...)
		}
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			unreadable++
			fmt.Fprintf(w, "deep: %s: cannot read its history: %v\n", id, err)
			continue
		}
		events, err := st.Events(ctx, id)
		if err != nil {
			return 0, err
		}
		if d := firstDifference(events, rec.Events); d != "" {
			differ++
			fmt.Fprintf(w, "deep: %s differs from its history at %s\n", id, d)
		}
	}
	fmt.Fprintf(w, "deep: compared %d process(es) with their histories: %d differ, %d without history, %d unreadable\n",
		len(ids)-gone-unreadable, differ, gone, unreadable)
	return differ + unreadable, nil
}

// firstDifference describes where a process's events rows first differ from
// the events of its history: the seq and every field that differs there. It
// returns "" when they agree.
func firstDifference(projected, recorded []engine.Event) string {
	for i := 0; i < max(len(projected), len(recorded)); i++ {
		switch {
		case i >= len(projected):
			return fmt.Sprintf("seq %d: the history has %d event(s) the projection lacks (a projection may be in flight: run again, or itilflow reconcile)",
				recorded[i].Seq, len(recorded)-i)
		case i >= len(recorded):
			return fmt.Sprintf("seq %d: the projection has %d event(s) the history lacks", projected[i].Seq, len(projected)-i)
		}
		p, r := projected[i], recorded[i]
		if p.Seq != r.Seq {
			return fmt.Sprintf("seq %d: the projection's next event is seq %d", r.Seq, p.Seq)
		}
		var differ []string
		for _, f := range []struct{ name, p, r string }{
			{"type", p.Type, r.Type}, {"actor", p.Actor, r.Actor}, {"action", p.Action, r.Action}, {"from", p.From, r.From},
			{"to", p.To, r.To}, {"sla", p.SLA, r.SLA}, {"comment", p.Comment, r.Comment},
		} {
			if f.p != f.r {
				differ = append(differ, fmt.Sprintf("%s is %q in the projection, %q in the history", f.name, f.p, f.r))
			}
		}
		// PostgreSQL keeps the history's time rounded to microseconds.
		if d := p.At.Sub(r.At); d >= time.Microsecond || d <= -time.Microsecond {
			differ = append(differ, fmt.Sprintf("time is %s in the projection, %s in the history", p.At.Format(time.RFC3339Nano), r.At.UTC().Format(time.RFC3339Nano)))
		}
		if pd, rd := eventData(p), eventData(r); pd != rd {
			differ = append(differ, fmt.Sprintf("data is %s in the projection, %s in the history", pd, rd))
		}
		if len(differ) > 0 {
			return fmt.Sprintf("seq %d: %s", p.Seq, strings.Join(differ, "; "))
		}
	}
	return ""
}

// eventData is an event's data as JSON with sorted keys; none and empty are
// the same (the events table keeps both as NULL).
func eventData(e engine.Event) string {
	if len(e.Data) == 0 {
		return "null"
	}
	b, _ := json.Marshal(e.Data)
	return string(b)
}

// latestCheckpoint reads the latest checkpoint of file, or of the checkpoint
// file in the data directory dir when none is given; without one it says why.
func latestCheckpoint(file, dir string) ([]store.AuditCheckpoint, string, error) {
	if file == "" {
		file = filepath.Join(dir, checkpointFileName)
		if _, err := os.Stat(file); err != nil {
			return nil, "no checkpoint file: none given (--audit-checkpoint-file) and none at " + file, nil
		}
	}
	cp, ok, err := (&checkpoint.File{Path: file}).Latest()
	switch {
	case err != nil:
		return nil, "", fmt.Errorf("checkpoint file: %w", err)
	case !ok:
		return nil, "the checkpoint file " + file + " holds no checkpoint yet", nil
	}
	return []store.AuditCheckpoint{cp}, "", nil
}

// printVerification writes one line per check, then what was not checked.
func printVerification(w io.Writer, v store.AuditVerification) {
	keys := "no audit key given"
	if len(v.KeyIDs) > 0 {
		keys = "keys " + strings.Join(v.KeyIDs, ", ")
	}
	if v.FirstBad != 0 {
		fmt.Fprintf(w, "audit log BROKEN at record %d: %s (%d records before it verified; %s)\n", v.FirstBad, v.Problem, v.Records, keys)
	} else {
		fmt.Fprintf(w, "audit log ok: %d records (%d linked with HMAC; %s), head %s\n", v.Records, v.Keyed, keys, v.Head)
	}
	if c := v.Checkpoint; c != nil {
		at := c.At.UTC().Format(time.RFC3339)
		if c.OK {
			fmt.Fprintf(w, "checkpoint ok: record %d had hash %s at %s (key %s)\n", c.Seq, c.Hash, at, c.KeyID)
		} else {
			fmt.Fprintf(w, "checkpoint BROKEN: %s\n", c.Problem)
		}
	}
	if e := v.Events; e.Bad > 0 {
		fmt.Fprintf(w, "events BROKEN at %s event %d: %s (%d problem(s) in all)\n", e.ProcessID, e.Seq, e.Problem, e.Bad)
	} else {
		fmt.Fprintf(w, "events ok: %d audit records of process events match their events rows\n", e.Checked)
	}
	for _, u := range v.Unchecked {
		fmt.Fprintf(w, "NOT CHECKED: %s\n", u)
	}
}
