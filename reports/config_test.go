package reports_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/reports"
	"github.com/itilflow/itilflow/reports/reportstest"
)

// shipped compiles the shipped definitions and calendars, as dev publishes them.
func shipped(t testing.TB) (map[string]*engine.Definition, engine.Calendars) {
	return reportstest.Shipped(t, "../definitions")
}

func shippedConfig(t testing.TB) *reports.Config { return reportstest.Config(t, "../definitions") }

func TestShippedConfigParses(t *testing.T) {
	c := shippedConfig(t)
	if c.Location.String() != "Asia/Shanghai" || len(c.Incidents) != 2 || c.Staff.Weights.Satisfaction != 30 || c.Staff.Weights.Recovery != 30 {
		t.Fatalf("shipped config read as %+v", c)
	}
	if len(c.Punctuality) != 1 || c.Punctuality[0].Within.Hours() != 72 {
		t.Fatalf("punctuality read as %+v", c.Punctuality)
	}
}

func TestConfigProblemsAtLineAndColumn(t *testing.T) {
	defs, cals := shipped(t)
	src := `timezone: Mars/Olympus
calendar: 6x9
incidents:
  - definition: incident
    category: colour
    response: reply
    resolution: resolution
    resolved: [shut]
  - definition: nothing
    resolution: x
    resolved: [closed]
    extra: 1
staff_scores:
  weights: {satisfaction: 30, workload: 20, problem_handling: 20, recovery: -1}
  recovery: {definition: incident, action: fly, sla: resolution}
  problem_handling: {definition: problem, action: known_error_found, sla: diagnosis}
  satisfaction: {definition: incident, field: satisfaction, scale: 5}
withdrawn: [gone]
`
	_, err := reports.Parse([]byte(src), defs, cals)
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != engine.EINVALID {
		t.Fatalf("want EINVALID, got %v", err)
	}
	want := []string{
		"1:11: timezone: unknown time zone \"Mars/Olympus\"",
		"2:11: calendar: unknown calendar \"6x9\"",
		"5:15: incidents[0].category: incident has no field \"colour\"",
		"6:15: incidents[0].response: incident has no SLA \"reply\"",
		"8:15: incidents[0].resolved: incident has no state \"shut\"",
		"9:17: incidents[1].definition: no definition named \"nothing\"",
		"12:5: incidents[1].extra: unknown key",
		"14:77: staff_scores.weights.recovery: must be a number, 0 or more",
		"15:44: staff_scores.recovery.action: incident has no action \"fly\"",
		"18:12: withdrawn: no definition has a state \"gone\"",
	}
	var got []string
	for _, d := range e.Details {
		got = append(got, d.String())
	}
	all := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("missing problem %q in:\n%s", w, all)
		}
	}
}

func TestPeriods(t *testing.T) {
	c := shippedConfig(t)
	cst := time.FixedZone("CST", 8*3600)
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, cst) }
	for _, tc := range []struct {
		from, to string
		start    time.Time
		end      time.Time
	}{
		{"2026-11-03", "", d(2026, 11, 3), d(2026, 11, 4)},
		{"2026-11", "", d(2026, 11, 1), d(2026, 12, 1)},
		{"2026-Q4", "", d(2026, 10, 1), d(2027, 1, 1)},
		{"2026-11-01", "2026-11-15", d(2026, 11, 1), d(2026, 11, 16)},
		{"2026-01", "2026-Q2", d(2026, 1, 1), d(2026, 7, 1)},
		{"2026-11-01T08:00:00Z", "2026-11-01T09:30:00Z", d(2026, 11, 1).Add(16 * time.Hour), d(2026, 11, 1).Add(17*time.Hour + 30*time.Minute)},
	} {
		p, err := c.ParsePeriod(tc.from, tc.to)
		if err != nil || !p.From.Equal(tc.start) || !p.To.Equal(tc.end) {
			t.Errorf("%s..%s: %v %v, want %v %v", tc.from, tc.to, p, err, tc.start, tc.end)
		}
	}
	for _, tc := range []struct{ from, to, field string }{
		{"", "", "from"},
		{"yesterday", "", "from"},
		{"2026-13", "", "from"},
		{"2026-Q5", "", "from"},
		{"2026-11", "soon", "to"},
		{"2026-11", "2026-10", "to"},
		{"2026-11-01T08:00:00Z", "", "to"},
		{"2020-01", "2026-01", "to"},
	} {
		_, err := c.ParsePeriod(tc.from, tc.to)
		var e *engine.Error
		if !errors.As(err, &e) || e.Code != engine.EINVALID || len(e.Details) != 1 || e.Details[0].Field != tc.field {
			t.Errorf("%q..%q: %v, want EINVALID naming %s", tc.from, tc.to, err, tc.field)
		}
	}
}

func TestCSVKeepsTextFromBeingAFormula(t *testing.T) {
	r := &reports.Report{Tables: []reports.Table{{Name: "means", Columns: []string{"group", "n", "rate"},
		Rows: [][]any{{"=HYPERLINK(\"http://x\")", -1, nil}, {"ops", 2, 50.5}}}}}
	var b strings.Builder
	if err := r.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	want := "# means\ngroup,n,rate\n\"'=HYPERLINK(\"\"http://x\"\")\",-1,\nops,2,50.5\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}
