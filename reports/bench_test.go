package reports_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/itilflow/itilflow/reports"
	"github.com/itilflow/itilflow/store"
)

// BenchmarkReports times every report over a month, a quarter and a year of
// a projection holding REPORTS_BENCH_PROCESSES processes (default 100,000):
// the fixture month played through the engine and the real projection, then
// copied in SQL, each copy shifted 73 minutes after the one before, so the
// copies spread over a year with the fixture's mix of states and clocks.
// With REPORTS_PLANS=FILE, the plans (EXPLAIN ANALYZE, by auto_explain) of
// the statements slower than 100 ms go to FILE.
//
//	go test ./reports -run '^$' -bench Reports -benchtime 3x
func BenchmarkReports(b *testing.B) {
	ctx := context.Background()
	n := 100000
	if v := os.Getenv("REPORTS_BENCH_PROCESSES"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	st, dbURL := openStoreURL(b)
	defs, _ := shipped(b)
	templates := fixtureMonth(b, st, defs)
	began := time.Now()
	copies := (n + len(templates) - 1) / len(templates)
	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	shift := "73 minutes"
	for _, q := range []string{
		`INSERT INTO processes (id, definition, version, state, priority, breached, started_at, started_by, ended_at, next_wake, seq, view,
			participants, approval_opened, lean, next_due, assignee, assignment_group, ci, search, search_text)
		SELECT p.id || '-c' || g, p.definition, p.version, p.state, p.priority, p.breached, p.started_at + g * $2::interval, p.started_by,
			p.ended_at + g * $2::interval, p.next_wake + g * $2::interval, p.seq, p.view, p.participants, p.approval_opened, p.lean,
			p.next_due + g * $2::interval, p.assignee, p.assignment_group, p.ci, p.search, p.search_text
		FROM processes p CROSS JOIN generate_series(1, $3) g WHERE p.id = ANY($1)`,
		`INSERT INTO process_slas (process_id, name, status, target_s, elapsed_s, due, breached, breached_at, started_at, stopped_at)
		SELECT s.process_id || '-c' || g, s.name, s.status, s.target_s, s.elapsed_s, s.due + g * $2::interval, s.breached,
			s.breached_at + g * $2::interval, s.started_at + g * $2::interval, s.stopped_at + g * $2::interval
		FROM process_slas s CROSS JOIN generate_series(1, $3) g WHERE s.process_id = ANY($1)`,
		`INSERT INTO events (process_id, seq, at, type, actor, action, from_state, to_state, sla, comment, data)
		SELECT e.process_id || '-c' || g, e.seq, e.at + g * $2::interval, e.type, e.actor, e.action, e.from_state, e.to_state, e.sla, e.comment, e.data
		FROM events e CROSS JOIN generate_series(1, $3) g WHERE e.process_id = ANY($1)`,
		`ANALYZE`,
	} {
		args := []any{pq.StringArray(templates), shift, copies - 1}
		if q == `ANALYZE` {
			args = nil
		}
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("seeding: %v", err)
		}
	}
	var count, events int
	db.GetContext(ctx, &count, `SELECT count(*) FROM processes`)
	db.GetContext(ctx, &events, `SELECT count(*) FROM events`)
	b.Logf("seeded %d processes, %d events in %v", count, events, time.Since(began).Round(time.Second))

	// Plans of the slow statements, from the server's log: connections
	// opened from now on load auto_explain.
	plans := os.Getenv("REPORTS_PLANS")
	if plans != "" {
		var name string
		db.GetContext(ctx, &name, `SELECT current_database()`)
		for _, q := range []string{
			`ALTER DATABASE ` + name + ` SET session_preload_libraries = 'auto_explain'`,
			`ALTER DATABASE ` + name + ` SET auto_explain.log_min_duration = '100ms'`,
			`ALTER DATABASE ` + name + ` SET auto_explain.log_analyze = on`,
			`ALTER DATABASE ` + name + ` SET auto_explain.log_buffers = on`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	}
	st2, err := store.Open(ctx, dbURL, store.WithAuditKey(testKey))
	if err != nil {
		b.Fatal(err)
	}
	defer st2.Close()
	rs := reports.New(shippedConfig(b), st2, func() time.Time { return time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC) })
	periods := []struct{ name, from, to string }{
		{"Month", "2027-05", ""},
		{"Quarter", "2027-Q2", ""},
		{"Year", "2026-11", "2027-10"},
	}
	for _, info := range reports.List() {
		for _, pd := range periods {
			b.Run(info.Name+"/"+pd.name, func(b *testing.B) {
				p, err := rs.Config().ParsePeriod(pd.from, pd.to)
				if err != nil {
					b.Fatal(err)
				}
				var slowest time.Duration
				for range b.N {
					start := time.Now()
					if _, err := rs.Run(ctx, info.Name, p); err != nil {
						b.Fatal(err)
					}
					slowest = max(slowest, time.Since(start))
				}
				b.ReportMetric(float64(slowest.Microseconds())/1000, "max-ms")
			})
		}
	}
	if plans != "" {
		if err := copyPlans(dbURL, plans); err != nil {
			b.Fatal(err)
		}
	}
}

// copyPlans copies the auto_explain entries of the test cluster's log (the
// pgtest cluster listening on dbURL's port) to file.
func copyPlans(dbURL, file string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return err
	}
	logs, _ := filepath.Glob(filepath.Join(os.TempDir(), "itilflow-pgtest-*", "pg", "postgres.log"))
	for _, l := range logs {
		src, err := os.ReadFile(l)
		if err != nil || !strings.Contains(string(src), "port "+u.Port()) {
			continue
		}
		var out strings.Builder
		keep := false
		for _, line := range strings.Split(string(src), "\n") {
			switch {
			case strings.Contains(line, "duration:") && strings.Contains(line, "plan:"):
				keep = true
			case strings.Contains(line, " LOG: ") || strings.Contains(line, " ERROR: ") || strings.Contains(line, " STATEMENT: "):
				keep = false
			}
			if keep {
				out.WriteString(line + "\n")
			}
		}
		return os.WriteFile(file, []byte(out.String()), 0o644)
	}
	return fmt.Errorf("no server log of the cluster on port %s under %s", u.Port(), os.TempDir())
}
