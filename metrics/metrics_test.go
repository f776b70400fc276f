package metrics_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/metrics"
	"github.com/itilflow/itilflow/pgcluster/pgtest"
	"github.com/itilflow/itilflow/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, pgtest.NewDatabase(t), store.WithAuditKey([]byte("the metrics tests' audit key: 32 bytes or more")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// Version 1 of incident, whose priorities are labels.
	def, err := engine.Parse([]byte(incidentDefinition))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PublishDefinition(ctx, def, []byte(incidentDefinition), "pat", "req-1"); err != nil {
		t.Fatal(err)
	}
	return s
}

const incidentDefinition = `name: incident
input:
  title: {type: string}
  priority: {type: enum, values: [P1, P2, P3, P4], default: P3}
initial: new
states:
  new: {actions: {resolve: {to: resolved}}}
  resolved: {final: true}
`

// value is the value of the series name{labels} in reg (a histogram's
// count), and whether reg has it.
func value(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue series
				}
			}
			if len(got) != len(labels) {
				continue
			}
			return number(m), true
		}
	}
	return 0, false
}

func number(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

func mustValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	v, ok := value(t, reg, name, labels)
	if !ok {
		t.Fatalf("no series %s%v", name, labels)
	}
	return v
}

func view(id, def, state, priority string, seq int64, slas ...engine.SLAView) engine.View {
	if slas == nil {
		slas = []engine.SLAView{}
	}
	return engine.View{ID: id, Definition: def, Version: 1, State: state, Priority: priority, Input: map[string]any{},
		StartedAt: t0, StartedBy: "rita", Seq: seq, SLAs: slas}
}

func event(seq int64, typ string) engine.Event {
	return engine.Event{Seq: seq, At: t0.Add(time.Duration(seq) * time.Minute), Type: typ, Actor: "system"}
}

func TestGaugesAreReadFromPostgreSQLAtScrape(t *testing.T) {
	st, ctx := openStore(t), context.Background()
	now := t0.Add(3 * time.Hour)
	due := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	project := func(v engine.View) {
		t.Helper()
		if err := st.Project(ctx, v, []engine.Event{{Seq: 1, At: t0, Type: engine.EventStarted, Actor: "rita", To: v.State}}); err != nil {
			t.Fatal(err)
		}
	}
	running := func(name string, d time.Duration, breached bool) engine.SLAView {
		return engine.SLAView{Name: name, Status: engine.ClockRunning, Target: engine.Duration(d), Due: due(d), Breached: breached, StartedAt: t0}
	}
	// Two new incidents, one whose response fell due an hour ago (now-2h)
	// without a breach projected: the projection lags.
	project(view("incident-000001", "incident", "new", "P1", 1, running("response", time.Hour, false)))
	project(view("incident-000002", "incident", "new", "P2", 1, running("response", 8*time.Hour, false)))
	// Breached, and projected so: not a lag.
	project(view("incident-000003", "incident", "in_progress", "P1", 1, running("resolution", 2*time.Hour, true)))
	// Waiting on a vote.
	cab := view("change-normal-000004", "change-normal", "authorising", "", 1)
	cab.Approval = &engine.ApprovalView{Votes: []engine.Vote{}}
	project(cab)
	// Ended: not open, and its overdue clock is no lag.
	ended := view("incident-000005", "incident", "closed", "P3", 1, running("response", time.Hour, false))
	ended.EndedAt = due(time.Hour)
	project(ended)

	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg, metrics.Options{Store: st, Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	t.Run("OpenProcessesByDefinitionAndState", func(t *testing.T) {
		for _, c := range []struct {
			def, state string
			want       float64
		}{{"incident", "new", 2}, {"incident", "in_progress", 1}, {"change-normal", "authorising", 1}} {
			if got := mustValue(t, reg, "itilflow_open_processes", map[string]string{"definition": c.def, "state": c.state}); got != c.want {
				t.Errorf("open %s/%s = %v, want %v", c.def, c.state, got, c.want)
			}
		}
		if _, ok := value(t, reg, "itilflow_open_processes", map[string]string{"definition": "incident", "state": "closed"}); ok {
			t.Error("an ended process counts as open")
		}
	})
	t.Run("ApprovalsPending", func(t *testing.T) {
		if got := mustValue(t, reg, "itilflow_approvals_pending", map[string]string{"definition": "change-normal", "state": "authorising"}); got != 1 {
			t.Errorf("approvals pending = %v, want 1", got)
		}
		if _, ok := value(t, reg, "itilflow_approvals_pending", map[string]string{"definition": "incident", "state": "new"}); ok {
			t.Error("a process without a vote counts as waiting on one")
		}
	})
	t.Run("ProjectionOverdueIsTheOldestUnprojectedBreach", func(t *testing.T) {
		if got := mustValue(t, reg, "itilflow_projection_overdue_slas", nil); got != 1 {
			t.Errorf("overdue clocks = %v, want 1", got)
		}
		if got := mustValue(t, reg, "itilflow_projection_overdue_seconds", nil); got != 2*3600 {
			t.Errorf("overdue for %vs, want 7200", got)
		}
		if got := mustValue(t, reg, "itilflow_store_up", nil); got != 1 {
			t.Errorf("store up = %v", got)
		}
	})
	t.Run("AStoreThatDoesNotAnswerLeavesTheGaugesOut", func(t *testing.T) {
		down := openStore(t)
		down.Close()
		reg := prometheus.NewRegistry()
		if _, err := metrics.New(reg, metrics.Options{Store: down, StoreTimeout: time.Second}); err != nil {
			t.Fatal(err)
		}
		if got := mustValue(t, reg, "itilflow_store_up", nil); got != 0 {
			t.Errorf("store up = %v, want 0", got)
		}
		if _, ok := value(t, reg, "itilflow_projection_overdue_seconds", nil); ok {
			t.Error("a gauge of a store that did not answer is served")
		}
		// The rest is still served.
		if _, ok := value(t, reg, "go_goroutines", nil); !ok {
			t.Error("the Go runtime's metrics are gone too")
		}
	})
}

func TestSLAEventsAreCountedOnceEachAsTheyAreStored(t *testing.T) {
	st, ctx := openStore(t), context.Background()
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.ObserveProjections(m)

	stopped := func(name string, elapsed time.Duration, breached bool) engine.SLAView {
		at := t0.Add(elapsed)
		return engine.SLAView{Name: name, Status: engine.ClockStopped, Target: engine.Duration(time.Hour), Elapsed: engine.Duration(elapsed),
			Breached: breached, StartedAt: t0, StoppedAt: &at}
	}
	warn, breach := event(2, engine.EventSLAWarning), event(3, engine.EventSLABreached)
	warn.SLA, breach.SLA = "response", "response"
	stop := event(4, engine.EventSLAStopped)
	stop.SLA = "response"
	v := view("incident-000001", "incident", "in_progress", "P1", 4, stopped("response", 90*time.Minute, true))
	batch := []engine.Event{event(1, engine.EventStarted), warn, breach, stop}
	// The activity retried (its first attempt committed but did not answer),
	// then an older projection arrived late: nothing is counted twice.
	for _, evs := range [][]engine.Event{batch, batch, batch[:2]} {
		if err := st.Project(ctx, v, evs); err != nil {
			t.Fatal(err)
		}
	}
	labels := map[string]string{"definition": "incident", "sla": "response", "priority": "P1"}
	if got := mustValue(t, reg, "itilflow_sla_warnings_total", labels); got != 1 {
		t.Errorf("warnings = %v, want 1", got)
	}
	if got := mustValue(t, reg, "itilflow_sla_breaches_total", labels); got != 1 {
		t.Errorf("breaches = %v, want 1", got)
	}
	if got := mustValue(t, reg, "itilflow_time_to_first_response_seconds", map[string]string{"definition": "incident", "priority": "P1"}); got != 1 {
		t.Errorf("first responses observed = %v, want 1", got)
	}
	families, _ := reg.Gather()
	for _, f := range families {
		if f.GetName() == "itilflow_time_to_first_response_seconds" {
			if sum := f.GetMetric()[0].GetHistogram().GetSampleSum(); sum != 5400 {
				t.Errorf("time to first response = %vs, want the clock's 5400s", sum)
			}
		}
	}

	t.Run("AFreeTextPriorityIsNoLabel", func(t *testing.T) {
		// A process of a definition whose priority is free text, or of a
		// version the store does not hold.
		b := event(2, engine.EventSLABreached)
		b.SLA = "response"
		if err := st.Project(ctx, view("incident-000009", "notes", "new", "call Bob on 555-0101", 2), []engine.Event{event(1, engine.EventStarted), b}); err != nil {
			t.Fatal(err)
		}
		if got := mustValue(t, reg, "itilflow_sla_breaches_total", map[string]string{"definition": "notes", "sla": "response", "priority": store.PriorityOther}); got != 1 {
			t.Errorf("breaches of the free-text priority = %v, want 1 under %q", got, store.PriorityOther)
		}
		for _, f := range must(reg.Gather()) {
			if strings.Contains(f.String(), "555-0101") {
				t.Errorf("%s shows the free-text priority", f.GetName())
			}
		}
	})

	t.Run("ResolutionAndApprovalDecisions", func(t *testing.T) {
		res := event(5, engine.EventSLAStopped)
		res.SLA, res.Data = "resolution", map[string]any{"met": true, "elapsed": "2h30m", "reason": "entered resolved"}
		// The view is later than the event (the clock ran on after a reopen):
		// the event's own elapsed time is what is observed.
		v := view("incident-000001", "incident", "resolved", "P1", 5, stopped("response", 90*time.Minute, true), stopped("resolution", 3*time.Hour, false))
		if err := st.Project(ctx, v, []engine.Event{res}); err != nil {
			t.Fatal(err)
		}
		// A cancelled incident's clock stops with the process: not resolved.
		cancelled := event(2, engine.EventSLAStopped)
		cancelled.SLA, cancelled.Data = "resolution", map[string]any{"met": true, "elapsed": "10m", "reason": "process cancelled"}
		iv := view("incident-000003", "incident", "cancelled", "P1", 2, stopped("resolution", 10*time.Minute, false))
		if err := st.Project(ctx, iv, []engine.Event{event(1, engine.EventStarted), cancelled}); err != nil {
			t.Fatal(err)
		}
		if got := mustValue(t, reg, "itilflow_time_to_resolution_seconds", map[string]string{"definition": "incident", "priority": "P1"}); got != 1 {
			t.Errorf("resolutions observed = %v, want 1", got)
		}
		for _, f := range must(reg.Gather()) {
			if f.GetName() == "itilflow_time_to_resolution_seconds" {
				if sum := f.GetMetric()[0].GetHistogram().GetSampleSum(); sum != 9000 {
					t.Errorf("time to resolution = %vs, want the event's 9000s", sum)
				}
			}
		}
		// A change enters authorising at minute 2 and is approved at minute 62.
		enter := event(2, engine.EventAction)
		enter.From, enter.To = "assessing", "authorising"
		decided := event(62, engine.EventApprovalDecided)
		decided.From, decided.To, decided.Data = "authorising", "scheduling", map[string]any{"outcome": "approved"}
		cv := view("change-normal-000002", "change-normal", "scheduling", "", 62)
		if err := st.Project(ctx, cv, []engine.Event{event(1, engine.EventStarted), enter, decided}); err != nil {
			t.Fatal(err)
		}
		if err := st.Project(ctx, cv, []engine.Event{decided}); err != nil {
			t.Fatal(err)
		}
		labels := map[string]string{"definition": "change-normal", "state": "authorising", "outcome": "approved"}
		if got := mustValue(t, reg, "itilflow_approval_decision_seconds", labels); got != 1 {
			t.Errorf("decisions observed = %v, want 1", got)
		}
		for _, f := range must(reg.Gather()) {
			if f.GetName() == "itilflow_approval_decision_seconds" {
				if sum := f.GetMetric()[0].GetHistogram().GetSampleSum(); sum != 3600 {
					t.Errorf("decision took %vs, want 3600", sum)
				}
			}
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestAPIRequestsAreCountedByRouteTemplate(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.Pre(m.Middleware)
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().Header.Get("Authorization") == "" {
				return echo.NewHTTPError(http.StatusUnauthorized, "no token")
			}
			return next(c)
		}
	})
	e.GET("/api/v1/processes/:id", func(c echo.Context) error {
		if c.Param("id") == "gone" {
			return echo.NewHTTPError(http.StatusNotFound, "no process")
		}
		return c.String(http.StatusOK, "ok")
	})
	for _, r := range []struct{ path, token string }{
		{"/api/v1/processes/incident-000001", "t"}, {"/api/v1/processes/incident-000002", "t"},
		{"/api/v1/processes/gone", "t"}, {"/api/v1/processes/incident-000001", ""}, {"/nowhere", "t"},
	} {
		req := httptest.NewRequest(http.MethodGet, r.path, nil)
		if r.token != "" {
			req.Header.Set("Authorization", "Bearer "+r.token)
		}
		e.ServeHTTP(httptest.NewRecorder(), req)
	}
	weird := httptest.NewRequest("BREW", "/api/v1/processes/incident-000001", nil)
	weird.Header.Set("Authorization", "Bearer t")
	e.ServeHTTP(httptest.NewRecorder(), weird)
	if got := mustValue(t, reg, "itilflow_http_requests_total", map[string]string{"method": "other", "route": "/api/v1/processes/:id", "status": "405"}); got != 1 {
		t.Errorf("a request of an unknown method = %v, want 1 under method other", got)
	}
	route := "/api/v1/processes/:id"
	for status, want := range map[string]float64{"200": 2, "404": 1, "401": 1} {
		if got := mustValue(t, reg, "itilflow_http_requests_total", map[string]string{"method": "GET", "route": route, "status": status}); got != want {
			t.Errorf("%s %s = %v, want %v", route, status, got, want)
		}
	}
	if got := mustValue(t, reg, "itilflow_http_request_duration_seconds", map[string]string{"method": "GET", "route": route}); got != 4 {
		t.Errorf("latencies observed = %v, want 4", got)
	}
	var routes []string
	for _, f := range must(reg.Gather()) {
		if f.GetName() != "itilflow_http_requests_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "route" {
					routes = append(routes, l.GetValue())
				}
			}
		}
	}
	sort.Strings(routes)
	for _, r := range routes {
		if strings.Contains(r, "incident-") || r == "/nowhere" {
			t.Errorf("a raw path became a route label: %q (all: %v)", r, routes)
		}
	}
}

func TestProjectionsNotYetStoredAreTheLag(t *testing.T) {
	now := t0
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	m.ProjectionAttempt("incident-000001", t0, 3)
	m.ProjectionDone("incident-000001", t0, errors.New("database down"), true)
	now = t0.Add(40 * time.Second)
	m.ProjectionAttempt("incident-000002", t0.Add(30*time.Second), 2)
	if got := mustValue(t, reg, "itilflow_projection_pending_events", nil); got != 5 {
		t.Errorf("pending events = %v, want 5", got)
	}
	if got := mustValue(t, reg, "itilflow_projection_pending_seconds", nil); got != 40 {
		t.Errorf("oldest pending = %vs, want 40", got)
	}
	// The retry stores it: only the other is pending.
	now = t0.Add(time.Minute)
	m.ProjectionAttempt("incident-000001", t0, 3)
	m.ProjectionDone("incident-000001", t0, nil, false)
	if got := mustValue(t, reg, "itilflow_projection_pending_seconds", nil); got != 30 {
		t.Errorf("oldest pending = %vs, want 30", got)
	}
	if got := mustValue(t, reg, "itilflow_projection_failures_total", nil); got != 1 {
		t.Errorf("failures = %v, want 1", got)
	}
	if got := mustValue(t, reg, "itilflow_projection_delay_seconds", nil); got != 1 {
		t.Errorf("delays observed = %v, want 1", got)
	}
	// One that stopped being retried (its workflow was terminated) is
	// forgotten.
	now = now.Add(10 * time.Minute)
	if got := mustValue(t, reg, "itilflow_projection_pending_events", nil); got != 0 {
		t.Errorf("pending events = %v, want 0", got)
	}
}

func TestTheSDKsMetricsGoToTheRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg, metrics.Options{}); err != nil {
		t.Fatal(err)
	}
	h, closer := metrics.TemporalHandler(reg, func(err error) { t.Errorf("register: %v", err) })
	h.WithTags(map[string]string{"task_queue": "itilflow"}).Counter("temporal_request").Inc(2)
	h.Timer("temporal_request_latency").Record(20 * time.Millisecond)
	if err := closer.Close(); err != nil { // flushes
		t.Fatal(err)
	}
	if got := mustValue(t, reg, "temporal_request_total", map[string]string{"task_queue": "itilflow"}); got != 2 {
		t.Errorf("temporal_request_total = %v, want 2", got)
	}
	if _, ok := value(t, reg, "temporal_request_latency_seconds", nil); !ok {
		t.Error("no temporal_request_latency_seconds histogram")
	}
}

// BenchmarkScrapeAt100000Processes measures a scrape's queries over 100,000
// processes (a fifth of them open, one in ten of those in a vote), each with
// two clocks: go test ./metrics -run '^$' -bench Scrape -benchtime 20x
func BenchmarkScrapeAt100000Processes(b *testing.B) {
	ctx, url := context.Background(), pgtest.NewDatabase(b)
	st, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("postgres", url)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`INSERT INTO processes (id, definition, version, state, priority, started_at, started_by, ended_at, seq, view)
		 SELECT 'p-' || i, (ARRAY['incident','problem','change-normal','service-request'])[1 + i % 4], 1,
		        CASE WHEN i % 5 = 0 THEN (ARRAY['new','in_progress','authorising'])[1 + i % 3] ELSE 'closed' END,
		        'P' || (1 + i % 4), now() - interval '1 minute' * i, 'rita',
		        CASE WHEN i % 5 = 0 THEN NULL ELSE now() END, 5,
		        CASE WHEN i % 50 = 0 THEN '{"approval":{"votes":[]}}'::jsonb ELSE '{}'::jsonb END
		 FROM generate_series(1, 100000) i`,
		`INSERT INTO process_slas (process_id, name, status, target_s, elapsed_s, due, breached, started_at)
		 SELECT id, n, CASE WHEN ended_at IS NULL THEN 'running' ELSE 'stopped' END, 3600, 0,
		        started_at + interval '1 hour', ended_at IS NULL AND random() < 0.5, started_at
		 FROM processes, unnest(ARRAY['response','resolution']) n`,
		`ANALYZE`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg, metrics.Options{Store: st}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		families, err := reg.Gather()
		if err != nil || len(families) == 0 {
			b.Fatal(err)
		}
	}
}
