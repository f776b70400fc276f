package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/itilflow/itilflow/store"
)

const auditUsage = "usage: itilflow audit verify [--audit-key-file FILE]   (reads DATABASE_URL)"

// runAudit implements `itilflow audit verify`: it checks the audit chain in
// DATABASE_URL and the process events' records against the events table, and
// names the first problem of each. Without a key it checks what it can and says
// what it could not.
func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New(auditUsage)
	}
	f := newFlags("audit verify", getenv, stderr)
	keyFile := f.auditKeyFile()
	if err := f.parse(args[1:]); err != nil {
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
	v, err := st.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	printVerification(stdout, v)
	if !v.OK {
		return errors.New("audit log does not verify")
	}
	return nil
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
	if e := v.Events; e.Bad > 0 {
		fmt.Fprintf(w, "events BROKEN at %s event %d: %s (%d problem(s) in all)\n", e.ProcessID, e.Seq, e.Problem, e.Bad)
	} else {
		fmt.Fprintf(w, "events ok: %d audit records of process events match their events rows\n", e.Checked)
	}
	for _, u := range v.Unchecked {
		fmt.Fprintf(w, "NOT CHECKED: %s\n", u)
	}
}
