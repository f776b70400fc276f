package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/itilflow/itilflow/history"
)

// runWhatIf implements `itilflow whatif --definition FILE --since TIME`: it runs
// the actions recorded in every process of that definition started since TIME
// under the proposed definition, and reports which would have breached, escalated
// or ended differently — before the proposal is published.
func runWhatIf(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("whatif", getenv, stderr)
	file := f.String("definition", "", "proposed definition (YAML)")
	since := f.String("since", "", "RFC 3339 time or date: compare the processes started since then")
	beside := addBesideFlags(f)
	conn := temporalFlags(f)
	if err := f.parse(args); err != nil {
		return err
	}
	if *file == "" || *since == "" {
		return errors.New("usage: itilflow whatif --definition FILE --since 2026-11-01")
	}
	def, err := beside.compile(*file, nil, stderr)
	if err != nil {
		return err
	}
	t, err := parseSince(*since)
	if err != nil {
		return err
	}
	tc, err := conn.dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	cmp, err := history.Compare(ctx, tc, def, t, time.Now(), 0)
	if err != nil {
		return err
	}
	for _, d := range cmp.Different {
		fmt.Fprintf(stdout, "%s: %v\n", d.ID, d.What)
	}
	fmt.Fprintf(stdout, "%d %s process(es) since %s: %d would go differently; SLA breaches %d → %d\n",
		cmp.Processes, def.Name, t.Format(time.RFC3339), len(cmp.Different), cmp.ActualBreaches, cmp.ProposedBreaches)
	return nil
}
