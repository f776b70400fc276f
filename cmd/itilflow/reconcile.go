package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/gate"
	"github.com/itilflow/itilflow/history"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/workflows"
)

// runReconcile implements `itilflow reconcile`: for every process the PostgreSQL
// projection holds as open, it reads the truth from the workflow history — the
// latest view the workflow decided and every event — and repairs the projection
// where it drifted (a restored backup, a manual edit, a lost write), reporting
// each change. With --dry-run it only reports.
func runReconcile(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("reconcile", getenv, stderr)
	dryRun := f.Bool("dry-run", false, "report drift without repairing it")
	conn := temporalFlags(f)
	// A repair appends the audit records of the events it adds.
	keyFile := f.auditKeyFile()
	loc := f.local()
	if err := f.parse(args); err != nil {
		return err
	}
	st, err := openCLIStore(ctx, *keyFile, loc)
	if err != nil {
		return err
	}
	defer st.Close()
	tc, err := conn.dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()

	open, err := st.OpenProcesses(ctx)
	if err != nil {
		return err
	}
	var repaired, missing, failed int
	for _, p := range open {
		changed, err := reconcileOne(ctx, st, tc, p, *dryRun, stdout)
		var notFound *serviceerror.NotFound
		switch {
		case errors.As(err, &notFound):
			missing++
			fmt.Fprintf(stdout, "%s: no workflow history (deleted by retention, or never started); left as it is\n", p.ID)
		case err != nil:
			// One record that cannot be read or repaired must not keep the
			// others from being repaired: report it and go on.
			failed++
			fmt.Fprintf(stdout, "%s: cannot be reconciled: %v\n", p.ID, err)
		case changed:
			repaired++
		}
	}
	fmt.Fprintf(stdout, "checked %d open process(es): %d repaired, %d without history, %d failed\n", len(open), repaired, missing, failed)
	if failed > 0 {
		return fmt.Errorf("%d process(es) could not be reconciled (see above)", failed)
	}
	return nil
}

// reconcileOne compares one process with its workflow history and repairs its
// projection, saying what it changed; it reports whether it repaired anything
// (in a dry run: whether it would have).
func reconcileOne(ctx context.Context, st *store.Store, tc client.Client, p store.ProjectionStatus, dryRun bool, stdout io.Writer) (bool, error) {
	runs, err := history.Runs(ctx, tc, p.ID)
	if err != nil {
		return false, err
	}
	rec, err := history.Decode(runs...)
	if err != nil {
		return false, err
	}
	truth := rec.View
	closed := ""
	if truth.EndedAt == nil {
		// Terminated or timed-out workflows run no code at the end: the history's
		// last view still says open. Their close time ends the process.
		desc, err := tc.DescribeWorkflowExecution(ctx, p.ID, "")
		if err != nil {
			return false, err
		}
		if info := desc.GetWorkflowExecutionInfo(); info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			at := info.GetCloseTime().AsTime()
			truth.EndedAt = &at
			truth.NextWake = nil
			closed = strings.ToLower(strings.TrimPrefix(info.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_"))
		}
	}
	if closed == "" && truth.Seq == p.Seq && truth.State == p.State && int64(len(rec.Events)) == p.Events {
		return false, nil
	}
	fmt.Fprintf(stdout, "%s: state %s → %s, seq %d → %d, %d missing event(s)", p.ID, p.State, truth.State, p.Seq, truth.Seq, int64(len(rec.Events))-p.Events)
	if closed != "" {
		fmt.Fprintf(stdout, ", workflow %s at %s: marked ended", closed, truth.EndedAt.UTC().Format(time.RFC3339))
	}
	if dryRun {
		fmt.Fprintln(stdout, " (dry run: not repaired)")
		return true, nil
	}
	// The projection keeps what the database can hold, as the projection
	// activity does.
	repair, cleaned, err := gate.CleanJSON(projection{View: truth, Events: rec.Events})
	if err != nil {
		fmt.Fprintln(stdout)
		return false, err
	}
	if err := st.RepairProjection(ctx, repair.View, repair.Events, rec.Lean, rec.Opened); err != nil {
		fmt.Fprintln(stdout)
		return false, err
	}
	if cleaned {
		fmt.Fprint(stdout, " (text the database cannot hold replaced with U+FFFD)")
	}
	fmt.Fprintln(stdout, " — repaired")
	if closed != "" {
		tellParent(ctx, tc, truth, closed, stdout)
	}
	return true, nil
}

// tellParent tells the process that started one whose workflow was
// terminated or timed out — which runs no code at its end, so never said so
// itself — that it has ended, in the state named for how it closed; the
// parent records it and takes its start step's on_end. A parent that has
// ended itself cannot be told, and needs not be.
func tellParent(ctx context.Context, tc client.Client, v engine.View, closed string, stdout io.Writer) {
	for _, l := range v.Links {
		if l.Relation != engine.RelationParent {
			continue
		}
		end := workflows.ChildEnd{ID: v.ID, Definition: v.Definition, State: closed}
		if err := tc.SignalWorkflow(ctx, l.ID, "", workflows.SignalChildEnded, end); err != nil {
			fmt.Fprintf(stdout, "%s: could not tell %s, which started it: %v\n", v.ID, l.ID, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: told %s, which started it, that it ended (%s)\n", v.ID, l.ID, closed)
	}
}

// projection is what reconcile stores of a process.
type projection struct {
	View   engine.View    `json:"view"`
	Events []engine.Event `json:"events"`
}
