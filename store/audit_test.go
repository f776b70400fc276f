package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/pgcluster/pgtest"
	"github.com/itilflow/itilflow/store"
)

// seedAudit publishes n versions of a definition, each of which appends one record.
func seedAudit(t *testing.T, s *store.Store, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		src := []byte(fmt.Sprintf("name: tiny\ninitial: a\nstates:\n  a: {actions: {go: {to: b}}}\n  b: {final: true}\n# v%d\n", i))
		def, err := engine.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.PublishDefinition(context.Background(), def, src, "pat", fmt.Sprintf("req-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
}

// openWithURL opens a fresh database with the test key and returns the store,
// a connection as the database's owner (who can do what an attacker with
// database access can) and the database's URL.
func openWithURL(t *testing.T) (*store.Store, *sqlx.DB, string) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	s := reopen(t, url, testKey)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	raw, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return s, raw, url
}

// reopen opens url with the given audit keys, newest first.
func reopen(t *testing.T, url string, keys ...[]byte) *store.Store {
	t.Helper()
	var opts []store.Option
	for _, k := range keys {
		opts = append(opts, store.WithAuditKey(k))
	}
	s, err := store.Open(context.Background(), url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAuditChainRecordsChangesOnce(t *testing.T) {
	s, _, _ := openWithURL(t)
	ctx := context.Background()
	seedAudit(t, s, 2)
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	v := engine.View{ID: "x-000001", Definition: "tiny", Version: 1, State: "b", Input: map[string]any{"title": "t"}, StartedAt: t0, StartedBy: "rita", Seq: 3}
	events := []engine.Event{
		{Seq: 1, At: t0, Type: engine.EventStarted, Actor: "rita", RequestID: "r1"},
		{Seq: 2, At: t0.Add(time.Minute), Type: engine.EventAction, Actor: "sam", Action: "go", From: "a", To: "b", RequestID: "r2"},
		{Seq: 3, At: t0.Add(time.Minute), Type: engine.EventEnded, Actor: "system"},
	}
	for i := 0; i < 2; i++ { // a retried projection appends nothing new
		if err := s.Project(ctx, v, events); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := s.Audit(ctx, store.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Actor+" "+r.Action+" "+r.Target+" "+r.RequestID)
	}
	want := []string{"pat publish_definition definition:tiny@1 req-0", "pat publish_definition definition:tiny@2 req-1",
		"rita start_process process:x-000001 r1", "sam action:go process:x-000001 r2"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	v2, err := s.VerifyAudit(ctx)
	if err != nil || !v2.OK || v2.Records != 4 || v2.Keyed != 4 || v2.Head != recs[3].Hash || v2.Events.Checked != 2 {
		t.Fatalf("verify %+v %v", v2, err)
	}
	if r := recs[2]; r.Link != store.LinkHMAC || r.KeyID != s.AuditKeyIDs()[0] || r.Source != "event:x-000001#1" {
		t.Fatalf("record of the start: %+v", r)
	}
	if actions, _ := s.Audit(ctx, store.AuditFilter{Action: "action", Limit: 10}); len(actions) != 1 {
		t.Fatalf("filter by action family: %v", actions)
	}
}

func TestAuditLogRefusesUpdateAndDelete(t *testing.T) {
	s, raw, _ := openWithURL(t)
	seedAudit(t, s, 1)
	for _, q := range []string{`UPDATE audit_log SET actor = 'mallory'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		if _, err := raw.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: got %v, want refusal", q, err)
		}
	}
}

func TestAuditVerifyNamesTheTamperedRecord(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper []string
		seq    int64
		says   string
	}{
		{"Altered", []string{`UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`}, 3, "altered"},
		{"Removed", []string{`DELETE FROM audit_log WHERE seq = 2`}, 2, "missing"},
		{"HashReplaced", []string{`UPDATE audit_log SET hash = 'forged' WHERE seq = 2`}, 2, "altered"},
		{"InsertedOutOfOrder", []string{`UPDATE audit_log SET seq = seq + 10 WHERE seq >= 3`,
			`INSERT INTO audit_log (seq, at, actor, action, target, payload_digest, prev_hash, hash, link, key_id)
				SELECT 3, at, actor, action, target, payload_digest, 'x', 'y', link, key_id FROM audit_log WHERE seq = 1`}, 3, "does not follow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, raw, _ := openWithURL(t)
			seedAudit(t, s, 5)
			stmts := append([]string{`ALTER TABLE audit_log DISABLE TRIGGER USER`}, tc.tamper...)
			for _, q := range stmts {
				if _, err := raw.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			v, err := s.VerifyAudit(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if v.OK || v.FirstBad != tc.seq || !strings.Contains(v.Problem, tc.says) {
				t.Fatalf("verify = %+v, want record %d %s", v, tc.seq, tc.says)
			}
		})
	}
}

// rechain is what someone with write access to the database and without the
// key does after editing record from: recompute the old, unkeyed SHA-256 chain
// from there (the formula is public), so every link checks out again. With
// downgrade they also mark the records as linked that way.
func rechain(t *testing.T, raw *sqlx.DB, from int64, downgrade bool) {
	t.Helper()
	var recs []struct {
		Seq           int64     `db:"seq"`
		At            time.Time `db:"at"`
		Actor         string    `db:"actor"`
		Action        string    `db:"action"`
		RequestID     string    `db:"request_id"`
		Target        string    `db:"target"`
		PayloadDigest string    `db:"payload_digest"`
		PrevHash      string    `db:"prev_hash"`
		Hash          string    `db:"hash"`
	}
	if err := raw.Select(&recs, `SELECT seq, at, actor, action, request_id, target, payload_digest, prev_hash, hash FROM audit_log ORDER BY seq`); err != nil {
		t.Fatal(err)
	}
	prev := ""
	for _, r := range recs {
		if r.Seq >= from {
			b, _ := json.Marshal([]any{r.Seq, r.At.UTC().Format(time.RFC3339Nano), r.Actor, r.Action, r.RequestID, r.Target, r.PayloadDigest, prev})
			sum := sha256.Sum256(b)
			r.PrevHash, r.Hash = prev, hex.EncodeToString(sum[:])
			set := `prev_hash = $2, hash = $3`
			if downgrade {
				set += `, link = 'sha256'`
			}
			if _, err := raw.Exec(`UPDATE audit_log SET `+set+` WHERE seq = $1`, r.Seq, r.PrevHash, r.Hash); err != nil {
				t.Fatal(err)
			}
		}
		prev = r.Hash
	}
}

// tamper runs statements as the database's owner, with the audit log's and
// events' append-only triggers off.
func tamper(t *testing.T, raw *sqlx.DB, stmts ...string) {
	t.Helper()
	for _, q := range append([]string{`ALTER TABLE audit_log DISABLE TRIGGER USER`, `ALTER TABLE events DISABLE TRIGGER USER`}, stmts...) {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func verify(t *testing.T, s *store.Store, checkpoints ...store.AuditCheckpoint) store.AuditVerification {
	t.Helper()
	v, err := s.VerifyAudit(context.Background(), checkpoints...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sign(t *testing.T, s *store.Store, since *store.AuditCheckpoint) store.AuditCheckpoint {
	t.Helper()
	cp, err := s.SignAuditHead(context.Background(), time.Now(), since)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// TestAuditVerifyCatchesAChainRecomputedWithoutTheKey: someone with database
// access edits a record and recomputes the SHA-256 chain from there. Keyed
// links cannot be recomputed without the key, and going back to SHA-256 links
// after a keyed record is itself a sign of tampering.
func TestAuditVerifyCatchesAChainRecomputedWithoutTheKey(t *testing.T) {
	for _, tc := range []struct {
		name      string
		downgrade bool
		says      string
	}{
		{"KeyedLinksKept", false, "record 3 was altered: its content no longer matches its HMAC"},
		{"DowngradedToSHA256", true, "record 3 is linked with plain SHA-256 after keyed record 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, raw, _ := openWithURL(t)
			seedAudit(t, s, 5)
			tamper(t, raw, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`)
			rechain(t, raw, 3, tc.downgrade)
			if v := verify(t, s); v.OK || v.FirstBad != 3 || !strings.Contains(v.Problem, tc.says) || v.Records != 2 {
				t.Fatalf("verify = %+v, want record 3: %s", v, tc.says)
			}
		})
	}
	t.Run("WholeChainDowngradedIsCaughtByTheCheckpoint", func(t *testing.T) {
		s, raw, _ := openWithURL(t)
		seedAudit(t, s, 5)
		cp := sign(t, s, nil)
		tamper(t, raw, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 1`)
		rechain(t, raw, 1, true)
		// Without a keyed record left, the chain alone looks like an old one...
		if v := verify(t, s); !v.OK || v.Keyed != 0 {
			t.Fatalf("the chain alone: %+v", v)
		}
		// ...but no longer has the head the checkpoint vouches for.
		v := verify(t, s, cp)
		if v.OK || v.Checkpoint == nil || v.Checkpoint.OK || !strings.Contains(v.Checkpoint.Problem, "record 5 no longer has the hash the checkpoint") {
			t.Fatalf("against the checkpoint: %+v", v)
		}
	})
}

// TestAuditVerifyAgainstACheckpoint: a checkpoint kept outside the database
// exposes a removed tail, and a forged checkpoint is refused.
func TestAuditVerifyAgainstACheckpoint(t *testing.T) {
	t.Run("Intact", func(t *testing.T) {
		s, _, _ := openWithURL(t)
		seedAudit(t, s, 3)
		cp := sign(t, s, nil)
		seedAudit(t, s, 4) // the chain goes on after its checkpoint
		v := verify(t, s, cp)
		if !v.OK || v.Checkpoint == nil || !v.Checkpoint.OK || v.Checkpoint.Seq != 3 || len(v.Unchecked) != 0 {
			t.Fatalf("verify = %+v", v)
		}
	})
	t.Run("TailTruncated", func(t *testing.T) {
		s, raw, _ := openWithURL(t)
		seedAudit(t, s, 5)
		cp := sign(t, s, nil)
		tamper(t, raw, `DELETE FROM audit_log WHERE seq >= 4`)
		if v := verify(t, s); !v.OK || v.Records != 3 {
			t.Fatalf("without the checkpoint a truncated chain looks whole: %+v", v)
		}
		v := verify(t, s, cp)
		if v.OK || v.Checkpoint.OK || !strings.Contains(v.Checkpoint.Problem, "record 5 is gone") ||
			!strings.Contains(v.Checkpoint.Problem, "records 4 to 5 were removed") {
			t.Fatalf("verify = %+v", v.Checkpoint)
		}
	})
	t.Run("ForgedCheckpoint", func(t *testing.T) {
		s, _, _ := openWithURL(t)
		seedAudit(t, s, 2)
		cp := sign(t, s, nil)
		cp.Seq = 1
		if v := verify(t, s, cp); v.OK || !strings.Contains(v.Checkpoint.Problem, "does not match its signature") {
			t.Fatalf("verify = %+v", v.Checkpoint)
		}
	})
}

// TestAuditKeysAreNamedAndRotate: records name their key by id; a store given
// another key says the chain was written with another key, and one given the
// new key and the old one verifies records of both.
func TestAuditKeysAreNamedAndRotate(t *testing.T) {
	s, _, url := openWithURL(t)
	seedAudit(t, s, 2)
	oldCP := sign(t, s, nil)
	newKey := []byte("the rotated audit key, 32 bytes or more")
	other := reopen(t, url, newKey)
	if got, was := other.AuditKeyIDs()[0], s.AuditKeyIDs()[0]; got == was || len(got) != 16 {
		t.Fatalf("key ids %s and %s", got, was)
	}
	if v := verify(t, other); v.OK || v.FirstBad != 1 || !strings.Contains(v.Problem, "audit key "+s.AuditKeyIDs()[0]+", which is not among the keys given") {
		t.Fatalf("with another key: %+v", v)
	}
	rotated := reopen(t, url, newKey, testKey)
	seedAudit(t, rotated, 3) // records 3 to 5, under the new key
	recs, err := rotated.Audit(context.Background(), store.AuditFilter{Limit: 10})
	if err != nil || len(recs) != 5 || recs[1].KeyID != s.AuditKeyIDs()[0] || recs[2].KeyID != rotated.AuditKeyIDs()[0] {
		t.Fatalf("records: %+v %v", recs, err)
	}
	if v := verify(t, rotated, oldCP, sign(t, rotated, &oldCP)); !v.OK || v.Keyed != 5 || v.Checkpoint.Seq != 5 {
		t.Fatalf("after rotation: %+v", v)
	}
}

// TestAuditWithoutAKey: a store without a key refuses to append and says why;
// verifying says what it could not check.
func TestAuditWithoutAKey(t *testing.T) {
	s, _, url := openWithURL(t)
	seedAudit(t, s, 2)
	cp := sign(t, s, nil)
	keyless := reopen(t, url)
	src := []byte("name: tiny\ninitial: a\nstates:\n  a: {actions: {go: {to: b}}}\n  b: {final: true}\n# keyless\n")
	def, _ := engine.Parse(src)
	_, _, err := keyless.PublishDefinition(context.Background(), def, src, "pat", "r")
	if engine.ErrorCode(err) != engine.EINTERNAL || !strings.Contains(err.Error(), "no audit key") {
		t.Fatalf("publish without a key: %v", err)
	}
	v := verify(t, keyless, cp)
	if !v.OK || len(v.Unchecked) != 2 || !strings.Contains(v.Unchecked[0], "2 record(s) linked with HMAC") ||
		!strings.Contains(v.Unchecked[1], "signature of the checkpoint") {
		t.Fatalf("verify without a key: %+v", v)
	}
	if _, err := store.Open(context.Background(), url, store.WithAuditKey([]byte("short"))); engine.ErrorCode(err) != engine.EINVALID {
		t.Fatalf("short key: %v", err)
	}
}

// TestAuditMigrationKeepsOldRecordsVerifiable: records written before the chain
// was keyed stay verifiable by their SHA-256 links, and keyed records follow.
func TestAuditMigrationKeepsOldRecordsVerifiable(t *testing.T) {
	s, raw, _ := openWithURL(t)
	ctx := context.Background()
	// The database as it was before 011, with two records linked the old way.
	for _, q := range []string{`ALTER TABLE audit_log DROP COLUMN link, DROP COLUMN key_id`, `DROP TABLE audit_checkpoints`,
		`DELETE FROM schema_migrations WHERE version = 11`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for i := int64(1); i <= 2; i++ {
		if _, err := raw.Exec(`INSERT INTO audit_log (seq, at, actor, action, target, payload_digest, prev_hash, hash, source)
			VALUES ($1, now(), 'pat', 'publish_definition', $2, 'sha256:x', '', '', $2)`, i, fmt.Sprintf("definition:old@%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	tamper(t, raw)
	rechain(t, raw, 1, false)
	if _, err := raw.Exec(`ALTER TABLE audit_log ENABLE TRIGGER USER`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seedAudit(t, s, 2)
	v := verify(t, s)
	if !v.OK || v.Records != 4 || v.Keyed != 2 {
		t.Fatalf("verify = %+v", v)
	}
	recs, _ := s.Audit(ctx, store.AuditFilter{Limit: 10})
	if recs[0].Link != store.LinkSHA256 || recs[0].KeyID != "" || recs[2].Link != store.LinkHMAC {
		t.Fatalf("records %+v", recs)
	}
}

// TestSignAuditHeadRefusesARewrittenChain: the checkpointer's key never vouches
// for a chain that no longer holds the last checkpoint, or does not verify.
func TestSignAuditHeadRefusesARewrittenChain(t *testing.T) {
	s, raw, _ := openWithURL(t)
	ctx := context.Background()
	if cp, err := s.SignAuditHead(ctx, time.Now(), nil); err != nil || cp.Seq != 0 {
		t.Fatalf("empty chain: %+v %v", cp, err)
	}
	seedAudit(t, s, 3)
	first := sign(t, s, nil)
	seedAudit(t, s, 5) // records 4 to 8
	next := sign(t, s, &first)
	if next.Seq != 8 || next.KeyID != s.AuditKeyIDs()[0] || next.Kind != store.CheckpointKind {
		t.Fatalf("next checkpoint %+v", next)
	}
	tamper(t, raw, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 4`)
	if _, err := s.SignAuditHead(ctx, time.Now(), &first); engine.ErrorCode(err) != engine.ECONFLICT || !strings.Contains(err.Error(), "record 4 was altered") {
		t.Fatalf("after an edit: %v", err)
	}
	tamper(t, raw, `DELETE FROM audit_log WHERE seq >= 3`)
	if _, err := s.SignAuditHead(ctx, time.Now(), &first); engine.ErrorCode(err) != engine.ECONFLICT || !strings.Contains(err.Error(), "record 3, which the last checkpoint vouched for, is gone") {
		t.Fatalf("after truncation: %v", err)
	}
}

// TestAuditCheckpointOutbox: checkpoints wait in the outbox in seq order, once
// per record, until delivered.
func TestAuditCheckpointOutbox(t *testing.T) {
	s, _, _ := openWithURL(t)
	ctx := context.Background()
	seedAudit(t, s, 1)
	one := sign(t, s, nil)
	seedAudit(t, s, 2)
	two := sign(t, s, &one)
	for _, cp := range []store.AuditCheckpoint{two, one, two} {
		if err := s.QueueAuditCheckpoint(ctx, cp); err != nil {
			t.Fatal(err)
		}
	}
	pending, err := s.PendingAuditCheckpoints(ctx, 10)
	if err != nil || len(pending) != 2 || pending[0] != one || pending[1] != two {
		t.Fatalf("pending %+v %v, want %+v %+v", pending, err, one, two)
	}
	if err := s.MarkAuditCheckpointsDelivered(ctx, []int64{one.Seq}); err != nil {
		t.Fatal(err)
	}
	if pending, _ := s.PendingAuditCheckpoints(ctx, 10); len(pending) != 1 || pending[0].Seq != two.Seq {
		t.Fatalf("after delivery %+v", pending)
	}
}

// TestAuditVerifyComparesEventsRows: the events table is the projection an
// auditor reads; an events row edited behind the projection's back no longer
// matches the audit record made from it, and a person's action inserted
// without one has none.
func TestAuditVerifyComparesEventsRows(t *testing.T) {
	project := func(t *testing.T, s *store.Store) {
		t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
		v := engine.View{ID: "x-000001", Definition: "tiny", Version: 1, State: "b", Input: map[string]any{"title": "t", "n": 2.5},
			StartedAt: t0, StartedBy: "rita", Seq: 3}
		events := []engine.Event{
			{Seq: 1, At: t0.Add(123456789), Type: engine.EventStarted, Actor: "rita", To: "a"},
			{Seq: 2, At: t0.Add(time.Minute), Type: engine.EventAction, Actor: "sam", Action: "go", From: "a", To: "b",
				Comment: "done", Data: map[string]any{"resolution": "rebooted", "parts": []any{"psu", 2.0}, "nested": map[string]any{"z": 1.0, "a": true}}},
			{Seq: 3, At: t0.Add(time.Minute), Type: engine.EventEnded, Actor: "system"},
		}
		if err := s.Project(context.Background(), v, events); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("Intact", func(t *testing.T) {
		s, _, _ := openWithURL(t)
		project(t, s)
		if v := verify(t, s); !v.OK || v.Events.Checked != 2 {
			t.Fatalf("verify = %+v", v)
		}
	})
	for _, tc := range []struct {
		name   string
		tamper string
		seq    int64
		says   []string
	}{
		{"EditedActorAndComment", `UPDATE events SET actor = 'mallory', comment = 'nothing to see' WHERE process_id = 'x-000001' AND seq = 2`, 2,
			[]string{`actor is "mallory" in events but "sam" in audit record 2`, "its from, to, data or comment no longer match the digest of audit record 2"}},
		{"EditedData", `UPDATE events SET data = data || '{"resolution": "replaced"}' WHERE process_id = 'x-000001' AND seq = 2`, 2,
			[]string{"its from, to, data or comment no longer match"}},
		{"EditedTime", `UPDATE events SET at = at - interval '1 hour' WHERE process_id = 'x-000001' AND seq = 2`, 2,
			[]string{"time is 2026-11-23T08:01:00Z in events but 2026-11-23T09:01:00Z"}},
		{"EditedInput", `UPDATE processes SET view = jsonb_set(view, '{input,title}', '"other"') WHERE id = 'x-000001'`, 1,
			[]string{"its definition, version or input no longer match the digest of audit record 1"}},
		{"MadeTheSystems", `UPDATE events SET actor = 'system' WHERE process_id = 'x-000001' AND seq = 2`, 2,
			[]string{`the events row is now a action by "system", which is never audited`}},
		{"Deleted", `DELETE FROM events WHERE process_id = 'x-000001' AND seq = 2`, 2, []string{"its events row is missing"}},
		{"ActionInserted", `INSERT INTO events (process_id, seq, at, type, actor, action) VALUES ('x-000001', 4, now(), 'action', 'mallory', 'go')`, 4,
			[]string{`the events row is a action by "mallory" but the audit log has no record of it`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, raw, _ := openWithURL(t)
			project(t, s)
			tamper(t, raw, tc.tamper)
			v := verify(t, s)
			e := v.Events
			if v.OK || v.FirstBad != 0 || e.Bad != 1 || e.ProcessID != "x-000001" || e.Seq != tc.seq {
				t.Fatalf("verify = %+v", v)
			}
			for _, says := range tc.says {
				if !strings.Contains(e.Problem, says) {
					t.Errorf("problem %q does not say %q", e.Problem, says)
				}
			}
		})
	}
}
