package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// runAudit implements `itilflow audit verify`: it recomputes the audit chain in
// DATABASE_URL and names the first record that was altered, removed or inserted
// out of order.
func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "verify" {
		return errors.New("usage: itilflow audit verify   (reads DATABASE_URL)")
	}
	st, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := st.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if !v.OK {
		fmt.Fprintf(stdout, "audit log BROKEN at record %d: %s (%d records before it verified)\n", v.FirstBad, v.Problem, v.Records)
		return fmt.Errorf("audit log does not verify")
	}
	fmt.Fprintf(stdout, "audit log ok: %d records, head %s\n", v.Records, v.Head)
	return nil
}
