package store

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// AuditVerification is the result of checking the audit log.
type AuditVerification struct {
	// OK is true when no check found a problem; what could not be checked is in
	// Unchecked.
	OK bool `json:"ok"`
	// Records is how many records verified before the first bad one (all of
	// them when the chain is intact), Keyed how many of those are linked with
	// HMAC, and Head the hash of the last good record.
	Records int64  `json:"records"`
	Keyed   int64  `json:"keyed"`
	Head    string `json:"head,omitempty"`
	// FirstBad is the seq of the first record that breaks the chain, and Problem
	// says how.
	FirstBad int64  `json:"first_bad_seq,omitempty"`
	Problem  string `json:"problem,omitempty"`
	// KeyIDs are the ids of the keys the check was given.
	KeyIDs []string `json:"key_ids"`
	// Checkpoint is the check of the first checkpoint given that fails, else of
	// the last one given; nil when none was.
	Checkpoint *CheckpointCheck `json:"checkpoint,omitempty"`
	// Events is the check of the process events' records against the events
	// table.
	Events EventsCheck `json:"events"`
	// Unchecked says what could not be checked, and why.
	Unchecked []string `json:"unchecked,omitempty"`
}

// CheckpointCheck is a checkpoint and whether the chain still agrees with it.
type CheckpointCheck struct {
	AuditCheckpoint
	OK      bool   `json:"ok"`
	Problem string `json:"problem,omitempty"`
}

// EventsCheck compares the audit records of process events with the events
// rows they were made from.
type EventsCheck struct {
	// Checked is how many audit records were compared, Bad how many records and
	// rows disagree.
	Checked int64 `json:"checked"`
	Bad     int64 `json:"bad"`
	// The first disagreement: the process and event seq, the audit record (0 for
	// an events row that has none) and what differs.
	ProcessID string `json:"first_bad_process,omitempty"`
	Seq       int64  `json:"first_bad_event_seq,omitempty"`
	Record    int64  `json:"first_bad_record,omitempty"`
	Problem   string `json:"problem,omitempty"`
}

func (c *EventsCheck) bad(processID string, seq, record int64, problem string) {
	if c.Bad == 0 {
		c.ProcessID, c.Seq, c.Record, c.Problem = processID, seq, record, problem
	}
	c.Bad++
}

// VerifyAudit checks the audit log three ways and reports the first problem
// each finds:
//
//   - the chain, recomputed in order: SHA-256 links for the records written
//     before the chain was keyed, HMAC links under the store's keys after, and
//     never an unkeyed record after a keyed one;
//   - each checkpoint given (those kept outside the database; the latest is
//     the one that matters): its signature, and that the chain still holds its
//     record with its hash, which catches records removed from the end and a
//     chain rewritten up to it;
//   - every record of a process event against the events row it was made from,
//     and every person's start or action in the events table against its
//     record, which catches an edited actor, comment or payload.
//
// What it cannot check (keyed records without a key, the end of the chain
// without a checkpoint) is listed in Unchecked.
func (s *Store) VerifyAudit(ctx context.Context, checkpoints ...AuditCheckpoint) (AuditVerification, error) {
	const op = "store.VerifyAudit"
	out := AuditVerification{KeyIDs: s.AuditKeyIDs()}
	if err := s.verifyChain(ctx, &out); err != nil {
		return out, fail(op, err)
	}
	if len(checkpoints) == 0 {
		out.Unchecked = append(out.Unchecked, "the end of the chain: no checkpoint was given, so records removed from the end, "+
			"or a chain rewritten by someone holding the key, go unnoticed")
	}
	for _, cp := range checkpoints {
		if err := s.verifyCheckpoint(ctx, cp, &out); err != nil {
			return out, fail(op, err)
		}
		if !out.Checkpoint.OK {
			break
		}
	}
	if err := s.verifyEvents(ctx, &out.Events); err != nil {
		return out, fail(op, err)
	}
	out.OK = out.FirstBad == 0 && (out.Checkpoint == nil || out.Checkpoint.OK) && out.Events.Bad == 0
	return out, nil
}

func (s *Store) verifyChain(ctx context.Context, out *AuditVerification) error {
	rows, err := s.db.QueryxContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	c := chainCheck{keys: s.auditKeys, next: 1}
	for rows.Next() {
		var r AuditRecord
		if err := rows.StructScan(&r); err != nil {
			return err
		}
		if seq, problem := c.check(r); problem != "" {
			out.FirstBad, out.Problem = seq, problem
			break
		}
		out.Records++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	out.Head, out.Keyed = c.prev, c.keyed
	if c.unchecked > 0 {
		out.Unchecked = append(out.Unchecked, fmt.Sprintf("the content of %d record(s) linked with HMAC: no audit key was given, "+
			"so only their order and links were followed", c.unchecked))
	}
	return nil
}

// chainCheck follows the chain record by record.
type chainCheck struct {
	keys []auditKey
	// next is the seq the next record must have, prev the hash it must link to.
	next int64
	prev string
	// firstKeyed is the first record linked with HMAC (0 before it), keyed how
	// many are, and unchecked how many of those could not be checked for want
	// of any key.
	firstKeyed, keyed, unchecked int64
}

// follow takes r as the last good record.
func (c *chainCheck) follow(r AuditRecord) {
	if r.Link == LinkHMAC {
		if c.firstKeyed == 0 {
			c.firstKeyed = r.Seq
		}
		c.keyed++
	}
	c.next, c.prev = r.Seq+1, r.Hash
}

// check returns the seq of the record that breaks the chain if r is not the
// next record, and how; it returns "" and follows r when r is.
func (c *chainCheck) check(r AuditRecord) (int64, string) {
	switch {
	case r.Seq != c.next:
		return c.next, fmt.Sprintf("record %d is missing: it was removed (the next record is %d)", c.next, r.Seq)
	case r.PrevHash != c.prev:
		return r.Seq, fmt.Sprintf("record %d does not follow record %d: it was inserted out of order, or record %d was altered and rehashed", r.Seq, r.Seq-1, r.Seq-1)
	}
	switch r.Link {
	case LinkSHA256:
		if c.firstKeyed != 0 {
			return r.Seq, fmt.Sprintf("record %d is linked with plain SHA-256 after keyed record %d: a keyed chain never goes back, "+
				"so it was rewritten by someone without the key", r.Seq, c.firstKeyed)
		}
		if r.computeHash() != r.Hash {
			return r.Seq, fmt.Sprintf("record %d was altered: its content no longer matches its hash", r.Seq)
		}
	case LinkHMAC:
		key, known := findKey(c.keys, r.KeyID)
		switch {
		case len(c.keys) == 0:
			c.unchecked++
		case !known:
			return r.Seq, fmt.Sprintf("record %d was linked with audit key %s, which is not among the keys given (%s): "+
				"give that key too, or the record was forged", r.Seq, r.KeyID, strings.Join(keyIDs(c.keys), ", "))
		case !hmac.Equal([]byte(r.keyedHash(key)), []byte(r.Hash)):
			return r.Seq, fmt.Sprintf("record %d was altered: its content no longer matches its HMAC (key %s)", r.Seq, r.KeyID)
		}
	default:
		return r.Seq, fmt.Sprintf("record %d has an unknown link %q", r.Seq, r.Link)
	}
	c.follow(r)
	return 0, ""
}

func findKey(keys []auditKey, id string) ([]byte, bool) {
	for _, k := range keys {
		if k.id == id {
			return k.key, true
		}
	}
	return nil, false
}

func keyIDs(keys []auditKey) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.id
	}
	return ids
}

func (s *Store) verifyCheckpoint(ctx context.Context, cp AuditCheckpoint, out *AuditVerification) error {
	res := &CheckpointCheck{AuditCheckpoint: cp, OK: true}
	out.Checkpoint = res
	bad := func(format string, args ...any) {
		res.OK, res.Problem = false, fmt.Sprintf(format, args...)
	}
	at := cp.At.UTC().Format(time.RFC3339)
	key, known := findKey(s.auditKeys, cp.KeyID)
	switch {
	case len(s.auditKeys) == 0:
		out.Unchecked = append(out.Unchecked, fmt.Sprintf("the signature of the checkpoint of %s: no audit key was given", at))
	case !known:
		bad("the checkpoint of %s was signed with audit key %s, which is not among the keys given (%s)", at, cp.KeyID, strings.Join(keyIDs(s.auditKeys), ", "))
		return nil
	case !cp.validWith(key):
		bad("the checkpoint of %s does not match its signature: it was edited, or not written by itilflow", at)
		return nil
	}
	var hash string
	err := s.db.GetContext(ctx, &hash, `SELECT hash FROM audit_log WHERE seq = $1`, cp.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		var last int64
		if err := s.db.GetContext(ctx, &last, `SELECT COALESCE(max(seq), 0) FROM audit_log`); err != nil {
			return err
		}
		switch {
		case last == cp.Seq-1:
			bad("record %d is gone: the checkpoint of %s vouches for it, but the chain ends at record %d, so the last record was removed",
				cp.Seq, at, last)
		case last < cp.Seq:
			bad("record %d is gone: the checkpoint of %s vouches for it, but the chain ends at record %d, so records %d to %d were removed",
				cp.Seq, at, last, last+1, cp.Seq)
		default:
			bad("record %d is gone: the checkpoint of %s vouches for it", cp.Seq, at)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if hash != cp.Hash {
		bad("record %d no longer has the hash the checkpoint of %s vouches for: it, or a record before it, was rewritten", cp.Seq, at)
	}
	return nil
}

// verifyEvents compares, both ways, the audit records of process events with
// the events rows and processes they were made from.
func (s *Store) verifyEvents(ctx context.Context, out *EventsCheck) error {
	rows, err := s.db.QueryxContext(ctx, `SELECT a.seq, a.at, a.actor, a.action, a.payload_digest, a.source,
			e.seq AS event_seq, e.at AS event_at, e.type, e.actor AS event_actor, e.action AS event_action,
			e.from_state, e.to_state, e.comment, e.data, p.definition, p.version, p.view->'input' AS input
		FROM audit_log a
		LEFT JOIN events e ON a.source = 'event:' || e.process_id || '#' || e.seq
		LEFT JOIN processes p ON p.id = e.process_id
		WHERE a.source LIKE 'event:%' ORDER BY a.seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var row struct {
			Seq         int64          `db:"seq"`
			At          time.Time      `db:"at"`
			Actor       string         `db:"actor"`
			Action      string         `db:"action"`
			Digest      string         `db:"payload_digest"`
			Source      string         `db:"source"`
			EventSeq    sql.NullInt64  `db:"event_seq"`
			EventAt     sql.NullTime   `db:"event_at"`
			Type        sql.NullString `db:"type"`
			EventActor  sql.NullString `db:"event_actor"`
			EventAction sql.NullString `db:"event_action"`
			From        sql.NullString `db:"from_state"`
			To          sql.NullString `db:"to_state"`
			Comment     sql.NullString `db:"comment"`
			Data        []byte         `db:"data"`
			Definition  sql.NullString `db:"definition"`
			Version     sql.NullInt64  `db:"version"`
			Input       []byte         `db:"input"`
		}
		if err := rows.StructScan(&row); err != nil {
			return err
		}
		out.Checked++
		id, seq := parseEventSource(row.Source)
		if !row.EventSeq.Valid {
			out.bad(id, seq, row.Seq, "its events row is missing: it was deleted")
			continue
		}
		e := engine.Event{Seq: row.EventSeq.Int64, At: row.EventAt.Time, Type: row.Type.String, Actor: row.EventActor.String,
			Action: row.EventAction.String, From: row.From.String, To: row.To.String, Comment: row.Comment.String}
		v := engine.View{ID: id, Definition: row.Definition.String, Version: int(row.Version.Int64)}
		if err := unmarshalIfAny(row.Data, &e.Data); err != nil {
			return err
		}
		if err := unmarshalIfAny(row.Input, &v.Input); err != nil {
			return err
		}
		want, audited := eventAudit(v, e)
		if !audited {
			out.bad(id, seq, row.Seq, fmt.Sprintf("the events row is now a %s by %q, which is never audited: it was edited", e.Type, e.Actor))
			continue
		}
		var differ []string
		if want.Actor != row.Actor {
			differ = append(differ, fmt.Sprintf("actor is %q in events but %q in audit record %d", want.Actor, row.Actor, row.Seq))
		}
		if want.Action != row.Action {
			differ = append(differ, fmt.Sprintf("action is %q in events but %q in audit record %d", want.Action, row.Action, row.Seq))
		}
		if want.PayloadDigest != row.Digest {
			what := "from, to, data or comment"
			if e.Type == engine.EventStarted {
				what = "definition, version or input"
			}
			differ = append(differ, fmt.Sprintf("its %s no longer match the digest of audit record %d", what, row.Seq))
		}
		// The record keeps the event's time truncated to microseconds, the events
		// row rounded to them: the row's may be one microsecond later.
		if d := want.At.Sub(row.At); d < 0 || d > time.Microsecond {
			differ = append(differ, fmt.Sprintf("time is %s in events but %s in audit record %d",
				want.At.UTC().Format(time.RFC3339Nano), row.At.UTC().Format(time.RFC3339Nano), row.Seq))
		}
		if len(differ) > 0 {
			out.bad(id, seq, row.Seq, strings.Join(differ, "; "))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// A person's start or action with no record was added to the events table
	// behind the projection's back (or made a person's by an edit).
	var missing []struct {
		ProcessID string `db:"process_id"`
		Seq       int64  `db:"seq"`
		Type      string `db:"type"`
		Actor     string `db:"actor"`
	}
	if err := s.db.SelectContext(ctx, &missing, `SELECT e.process_id, e.seq, e.type, e.actor FROM events e
		WHERE e.type IN ($1, $2, $3) AND e.actor <> $4
		AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.source = 'event:' || e.process_id || '#' || e.seq)
		ORDER BY e.process_id, e.seq`, engine.EventStarted, engine.EventAction, engine.EventComment, engine.System.ID); err != nil {
		return err
	}
	for _, m := range missing {
		out.bad(m.ProcessID, m.Seq, 0, fmt.Sprintf("the events row is a %s by %q but the audit log has no record of it: it was inserted or edited", m.Type, m.Actor))
	}
	return nil
}

// parseEventSource splits "event:<process-id>#<seq>".
func parseEventSource(source string) (string, int64) {
	rest := strings.TrimPrefix(source, "event:")
	i := strings.LastIndexByte(rest, '#')
	if i < 0 {
		return rest, 0
	}
	seq, _ := strconv.ParseInt(rest[i+1:], 10, 64)
	return rest[:i], seq
}

func unmarshalIfAny(raw []byte, dst *map[string]any) error {
	if raw == nil || string(raw) == "null" {
		return nil
	}
	return json.Unmarshal(raw, dst)
}
