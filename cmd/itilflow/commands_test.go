package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/pgcluster/pgtest"
	"github.com/itilflow/itilflow/store"
)

func TestMain(m *testing.M) {
	if os.Getenv(asCommand) != "" {
		main() // exits non-zero on failure
		os.Exit(0)
	}
	os.Exit(pgtest.Main(m))
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// testAuditKey is the audit key, in hex, of the tests that give one.
const testAuditKey = "6974696c666c6f7720746573747327206175646974206b65793a203332206279746573"

// migratedDatabase is a new database with itilflow's schema, and the
// environment of a command run on it (DATABASE_URL, the test audit key and
// extra).
func migratedDatabase(t *testing.T, extra map[string]string) (string, func(string) string) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	vars := map[string]string{"DATABASE_URL": url, "ITILFLOW_AUDIT_KEY": testAuditKey}
	maps.Copy(vars, extra)
	getenv := env(vars)
	if err := run(context.Background(), []string{"migrate"}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	return url, getenv
}

// shippedStore opens the store at url with the shipped definitions
// published, as dev publishes them; the test closes it.
func shippedStore(t *testing.T, url string) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url, store.WithAuditKey(testAuditKeyBytes()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	calendars, err := loadCalendars("../../definitions/" + calendarsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := publishDefinitions(ctx, st, "../../definitions", calendars, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	return st
}

func testAuditKeyBytes() []byte {
	k, _ := hex.DecodeString(testAuditKey)
	return k
}

func TestServeFailsClearlyWhenDependenciesAreUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"NoDatabaseURL", map[string]string{}, "DATABASE_URL is not set"},
		{"AuditKeyMissing", map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x"}, "no audit key: serve links the audit log with HMAC-SHA-256 under a secret key. Make one with `openssl rand -hex 32"},
		{"AuditKeyShort", map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x", "ITILFLOW_AUDIT_KEY": "0011223344"}, "ITILFLOW_AUDIT_KEY: the audit key has 5 bytes; use at least 32"},
		{"AuditKeyFileMissing", map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x", "ITILFLOW_AUDIT_KEY_FILE": "/nonexistent/audit.key"}, "audit key file: open /nonexistent/audit.key"},
		{"DatabaseDown", map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", "ITILFLOW_AUDIT_KEY": testAuditKey}, "PostgreSQL at DATABASE_URL is unreachable"},
		{"TemporalDown", map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "TEMPORAL_ADDRESS": "127.0.0.1:1", "ITILFLOW_AUDIT_KEY": testAuditKey}, "Temporal at 127.0.0.1:1 (TEMPORAL_ADDRESS) is unreachable"},
		{"JWTSecretMissing", map[string]string{"ITILFLOW_JWT_HS256_SECRET_FILE": "/nonexistent/secret"}, "jwt-hs256-secret-file"},
		{"JWTSecretShort", map[string]string{"ITILFLOW_JWT_HS256_SECRET_FILE": shortSecret(t)}, "use at least 32"},
		{"JWTLifetimeZero", map[string]string{"ITILFLOW_JWT_HS256_SECRET_FILE": longSecret(t), "ITILFLOW_JWT_MAX_LIFETIME": "0s"}, "jwt-max-lifetime must be positive"},
		{"JWTLifetimeNotADuration", map[string]string{"ITILFLOW_JWT_MAX_LIFETIME": "a day"}, "ITILFLOW_JWT_MAX_LIFETIME"},
		{"DBTimeoutZero", map[string]string{"ITILFLOW_DB_TIMEOUT": "0s"}, "db-timeout must be positive"},
		{"RoleUnknown", map[string]string{"ITILFLOW_ROLE": "both"}, `--role "both" (ITILFLOW_ROLE): want api, worker or all`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(ctx, []string{"serve", "--http-addr", "127.0.0.1:0"}, env(tc.env), &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func longSecret(t *testing.T) string {
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte(strings.Repeat("k", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func shortSecret(t *testing.T) string {
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte("too-short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestValidatePrintsProblemsLikeACompiler(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: bad\ninitial: new\nstates:\n  new:\n    actions:\n      go: {to: gone}\n"), 0o644)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"validate", "--calendars", "../../definitions/calendars.yaml", "../../definitions/incident.yaml", "../../definitions/calendars.yaml", bad}, env(nil), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "1 of 3") {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(stdout.String(), "incident.yaml: ok") {
		t.Fatalf("stdout %q", stdout.String())
	}
	if want := bad + `:6:16: states.new.actions.go.to: unknown state "gone"`; !strings.Contains(stderr.String(), want) {
		t.Fatalf("stderr %q, want %q", stderr.String(), want)
	}
}

// TestValidateFindsWhatAFileRefersTo validates shipped definitions from
// another directory (this test's): the calendars beside a file are its
// calendars, --definitions names the processes it starts, and flags may
// follow the files.
func TestValidateFindsWhatAFileRefersTo(t *testing.T) {
	validate := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"validate"}, args...), env(nil), &out, &out)
		return out.String(), err
	}
	// Beside its calendars and the definitions it starts: ok, flag last.
	if out, err := validate("../../definitions/change-normal.yaml", "--definitions", "../../definitions"); err != nil {
		t.Fatalf("change-normal.yaml in its directory: %v\n%s", err, out)
	}
	// A copy alone: every problem at its line, and what to give.
	dir := t.TempDir()
	src, err := os.ReadFile("../../definitions/change-normal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(dir, "change-normal.yaml")
	os.WriteFile(copied, src, 0o644)
	out, err := validate(copied)
	if err == nil {
		t.Fatal("a copy without its calendars validated")
	}
	for _, want := range []string{
		copied + `:28:11: calendar: calendar "5x8" is not defined (defined: 24x7)`,
		copied + `:84:24: states.authorising.approval.break_glass.do[1].start.process: unknown process "change-pir" (no other process is known)`,
		copied + ": note: no calendars.yaml beside the file",
		copied + ": note: no other definition beside the file: give --definitions DIR",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("validate of a lone copy does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "did you mean") {
		t.Errorf("a did-you-mean for a lone copy:\n%s", out)
	}
	// Its own calendars beside it are read, and --definitions finds the rest.
	cals, _ := os.ReadFile("../../definitions/calendars.yaml")
	os.WriteFile(filepath.Join(dir, "calendars.yaml"), cals, 0o644)
	if out, err := validate(copied, "--definitions", "../../definitions"); err != nil {
		t.Fatalf("the copy with its calendars and --definitions: %v\n%s", err, out)
	}
	// After "--" a flag-like name is a file.
	if out, err := validate("--", "--definitions"); err == nil || !strings.Contains(out+err.Error(), "--definitions") {
		t.Fatalf("validate -- --definitions: %v %s", err, out)
	}
}

func TestUnknownCommandAndBadEnvAreErrors(t *testing.T) {
	if err := run(context.Background(), []string{"bogus"}, env(nil), &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Fatal("unknown command accepted")
	}
	err := run(context.Background(), []string{"dev"}, env(map[string]string{"ITILFLOW_TEMPORAL_PORT": "seven"}), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "ITILFLOW_TEMPORAL_PORT") {
		t.Fatalf("got %v", err)
	}
}

func TestReplayCommandReportsPerHistory(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/histories/*.json")
	broken := filepath.Join(t.TempDir(), "broken.json")
	os.WriteFile(broken, []byte(`{"events": [`), 0o644)
	var stdout bytes.Buffer
	err := run(context.Background(), append([]string{"replay"}, append(files, broken)...), env(nil), &stdout, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("1 of %d", len(files)+1)) {
		t.Fatalf("got %v", err)
	}
	out := stdout.String()
	if strings.Count(out, ": deterministic (") != len(files) || !strings.Contains(out, "broken.json: NOT deterministic") {
		t.Fatalf("output:\n%s", out)
	}
}

// TestAuditVerifyCommandNamesEditedRow is the auditor's check: someone with
// database access drops the trigger and edits one record; `itilflow audit verify`
// must say which.
func TestAuditVerifyCommandNamesEditedRow(t *testing.T) {
	ctx := context.Background()
	url, vars := migratedDatabase(t, nil)
	st := shippedStore(t, url)
	src := strings.Replace(quickDefinition, "title: Quick check", "title: Quick", 1)
	def, _ := engine.Parse([]byte(quickDefinition))
	st.PublishDefinition(ctx, def, []byte(quickDefinition), "pat", "r1")
	def2, _ := engine.Parse([]byte(src))
	st.PublishDefinition(ctx, def2, []byte(src), "pat", "r2")

	shipped, err := definitionFiles("../../definitions")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	want := fmt.Sprintf("audit log ok: %d records", len(shipped)+2) // each shipped definition, and quick twice
	if err := run(ctx, []string{"audit", "verify"}, vars, &out, io.Discard); err != nil || !strings.Contains(out.String(), want) {
		t.Fatalf("clean log: %v %s", err, out.String())
	}
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`DROP TRIGGER audit_log_append_only ON audit_log`, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	err = run(ctx, []string{"audit", "verify"}, vars, &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "BROKEN at record 2: record 2 was altered") {
		t.Fatalf("edited log: %v %s", err, out.String())
	}
}

func TestGraphCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"graph", "--format", "dot", "--calendars", "../../definitions/calendars.yaml", "../../definitions/incident.yaml"}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), `digraph "incident" {`) {
		t.Fatalf("output %q", out.String())
	}
	if err := run(context.Background(), []string{"graph", "--format", "png", "../../definitions/incident.yaml"}, env(nil), io.Discard, io.Discard); err == nil {
		t.Fatal("png accepted")
	}
}

func TestTestCommandRunsScenarios(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"test", "-v", "--calendars", "../../definitions/calendars.yaml", "../../definitions/incident.test.yaml"}, env(nil), &out, io.Discard)
	if err != nil || !strings.Contains(out.String(), "--- PASS: Refused actions change nothing") || !strings.Contains(out.String(), " passed, 0 failed") {
		t.Fatalf("%v\n%s", err, out.String())
	}
}
