package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/itilflow/itilflow/checkpoint"
	"github.com/itilflow/itilflow/store"
)

const auditUsage = "usage: itilflow audit verify [--audit-key-file FILE] [--audit-checkpoint-file FILE]   (reads DATABASE_URL)"

// checkpointFileName is the checkpoint file `dev` keeps in its data directory,
// where `audit verify` also looks for one.
const checkpointFileName = "audit-checkpoints.jsonl"

// runAudit implements `itilflow audit verify`: it checks the audit chain in
// DATABASE_URL, against the latest checkpoint of the checkpoint file, and the
// process events' records against the events table, and names the first
// problem of each. Without a key or a checkpoint file it checks what it can and
// says what it could not.
func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New(auditUsage)
	}
	f := newFlags("audit verify", getenv, stderr)
	keyFile := f.auditKeyFile()
	cpFile := f.string("audit-checkpoint-file", "", "the checkpoint file to check the chain against (default $ITILFLOW_DATA_DIR/"+checkpointFileName+", if it exists)")
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
	checkpoints, note, err := latestCheckpoint(*cpFile, getenv)
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
	if !v.OK {
		return errors.New("audit log does not verify")
	}
	return nil
}

// latestCheckpoint reads the latest checkpoint of file, or of the data
// directory's checkpoint file when none is given; without one it says why.
func latestCheckpoint(file string, getenv func(string) string) ([]store.AuditCheckpoint, string, error) {
	if file == "" {
		file = filepath.Join(envOr(getenv, "ITILFLOW_DATA_DIR", ".itilflow"), checkpointFileName)
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
