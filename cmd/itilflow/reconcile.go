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

	"github.com/itilflow/itilflow/history"
)

// runReconcile implements `itilflow reconcile`: for every process the PostgreSQL
// projection holds as open, it reads the truth from the workflow history — the
// latest view the workflow decided and every event — and repairs the projection
// where it drifted (a restored backup, a manual edit, a lost write), reporting
// each change. With --dry-run it only reports.
func runReconcile(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("reconcile", getenv, stderr)
	dryRun := f.Bool("dry-run", false, "report drift without repairing it")
	address, namespace := temporalFlags(f)
	// A repair appends the audit records of the events it adds.
	keyFile := f.auditKeyFile()
	if err := f.parse(args); err != nil {
		return err
	}
	keys, err := cliAuditKeys(*keyFile, getenv)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, getenv, keys...)
	if err != nil {
		return err
	}
	defer st.Close()
	tc, err := dialTemporal(ctx, *address, *namespace)
	if err != nil {
		return err
	}
	defer tc.Close()

	open, err := st.OpenProcesses(ctx)
	if err != nil {
		return err
	}
	repaired, problems := 0, 0
	for _, p := range open {
		h, err := history.Fetch(ctx, tc, p.ID)
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			problems++
			fmt.Fprintf(stdout, "%s: no workflow history (deleted by retention, or never started); left as it is\n", p.ID)
			continue
		}
		if err != nil {
			return err
		}
		rec, err := history.Decode(h)
		if err != nil {
			return fmt.Errorf("%s: %w", p.ID, err)
		}
		truth := rec.View
		closed := ""
		if truth.EndedAt == nil {
			// Terminated or timed-out workflows run no code at the end: the history's
			// last view still says open. Their close time ends the process.
			desc, err := tc.DescribeWorkflowExecution(ctx, p.ID, "")
			if err != nil {
				return fmt.Errorf("%s: %w", p.ID, err)
			}
			if info := desc.GetWorkflowExecutionInfo(); info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				at := info.GetCloseTime().AsTime()
				truth.EndedAt = &at
				truth.NextWake = nil
				closed = strings.ToLower(strings.TrimPrefix(info.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_"))
			}
		}
		if closed == "" && truth.Seq == p.Seq && truth.State == p.State && int64(len(rec.Events)) == p.Events {
			continue
		}
		fmt.Fprintf(stdout, "%s: state %s → %s, seq %d → %d, %d missing event(s)", p.ID, p.State, truth.State, p.Seq, truth.Seq, int64(len(rec.Events))-p.Events)
		if closed != "" {
			fmt.Fprintf(stdout, ", workflow %s at %s: marked ended", closed, truth.EndedAt.UTC().Format(time.RFC3339))
		}
		if *dryRun {
			fmt.Fprintln(stdout, " (dry run: not repaired)")
			continue
		}
		if err := st.RepairProjection(ctx, truth, rec.Events); err != nil {
			return fmt.Errorf("%s: %w", p.ID, err)
		}
		repaired++
		fmt.Fprintln(stdout, " — repaired")
	}
	fmt.Fprintf(stdout, "checked %d open process(es): %d repaired, %d without history\n", len(open), repaired, problems)
	return nil
}
