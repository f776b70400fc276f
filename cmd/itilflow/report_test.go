package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// TestReportCommand: `itilflow report` computes a report on DATABASE_URL
// from the reports.yaml beside the definitions, in the three formats, and
// names the flag of a bad period.
func TestReportCommand(t *testing.T) {
	ctx := context.Background()
	url, vars := migratedDatabase(t, nil)
	st := shippedStore(t, url)
	// One P1 system fault on Nov 3 (Shanghai), resolved after 45 minutes.
	d, err := st.Definition(ctx, "incident", 0)
	if err != nil {
		t.Fatal(err)
	}
	def := &d.Compiled
	t0 := time.Date(2026, 11, 3, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	in, err := engine.Start(def, "incident-000001", d.Version, map[string]any{"title": "down", "priority": "P1", "category": "system"}, engine.Actor{ID: "rita"}, "", t0)
	if err != nil {
		t.Fatal(err)
	}
	tom := engine.Actor{ID: "tom.tier1", Roles: []string{"tier1"}}
	for _, a := range []engine.ActionRequest{{Action: "acknowledge", Actor: tom}, {Action: "resolve", Actor: tom, Input: map[string]any{"resolution": "fixed", "knowledge": "knowledge-000001"}}} {
		t0 = t0.Add(15 * time.Minute)
		if err := in.Apply(def, a, t0); err != nil {
			t.Fatal(err)
		}
	}
	t0 = t0.Add(15 * time.Minute)
	if err := in.Apply(def, engine.ActionRequest{Action: "close", Actor: engine.Actor{ID: "sam", Roles: []string{"service-desk"}}}, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.Project(ctx, in.View(def, t0), in.Pending); err != nil {
		t.Fatal(err)
	}

	report := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"report"}, append(args, "--definitions", "../../definitions")...), vars, &out, io.Discard)
		return out.String(), err
	}
	t.Run("Table", func(t *testing.T) {
		out, err := report("fault-summary", "--from", "2026-11")
		want := "user_reports  major_faults  system_faults  device_faults  repaired  total_duration_min  average_duration_min  on_time_repair_rate_pct\n" +
			"1             1             1              0              1         30                  30                    100\n"
		if err != nil || !strings.Contains(out, "Monthly fault summary, 2026-11-01 00:00 up to 2026-12-01 00:00 (Asia/Shanghai)") || !strings.Contains(out, want) {
			t.Fatalf("%v\n%s", err, out)
		}
	})
	t.Run("CSV", func(t *testing.T) {
		out, err := report("resolution-rates", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv")
		if err != nil || !strings.Contains(out, "incident,incident,1,1,100\n") {
			t.Fatalf("%v\n%s", err, out)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		out, err := report("--from", "2026-Q4", "--format", "json", "sla-attainment")
		var r struct {
			Tables []struct {
				Name string
				Rows [][]any
			}
		}
		// Both weighted indicators with a clock (P1 response, P1
		// resolution) were met: 100 %.
		if err != nil || json.Unmarshal([]byte(out), &r) != nil || len(r.Tables) != 3 || r.Tables[2].Rows[0][0] != 100.0 {
			t.Fatalf("%v\n%s", err, out)
		}
	})
	t.Run("BadPeriodNamesTheField", func(t *testing.T) {
		if _, err := report("changes", "--from", "2026-13"); err == nil || !strings.Contains(err.Error(), "from") {
			t.Fatalf("bad --from: %v", err)
		}
		if _, err := report("nothing", "--from", "2026-11"); err == nil || !strings.Contains(err.Error(), "no report named") {
			t.Fatalf("unknown report: %v", err)
		}
	})
}

// TestValidateChecksReportsAgainstTheDefinitionsBeside: `itilflow validate
// reports.yaml` names a clock the definitions beside it do not have at
// line:column, as dev would refuse to start with it.
func TestValidateChecksReportsAgainstTheDefinitionsBeside(t *testing.T) {
	dir := t.TempDir()
	files, _ := filepath.Glob("../../definitions/*.yaml")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "reports.yaml" {
			b = bytes.Replace(b, []byte("resolution: restoration"), []byte("resolution: restore"), 1)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"validate", "--calendars", filepath.Join(dir, "calendars.yaml"), filepath.Join(dir, "reports.yaml")}, env(nil), &out, &errOut)
	if err == nil || !strings.Contains(errOut.String(), "reports.yaml:33:17: incidents[1].resolution: major-incident has no SLA \"restore\"") {
		t.Fatalf("%v\n%s%s", err, out.String(), errOut.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"validate", "--calendars", "../../definitions/calendars.yaml", "../../definitions/reports.yaml"}, env(nil), &out, io.Discard); err != nil || !strings.Contains(out.String(), "ok (reports)") {
		t.Fatalf("shipped: %v %s", err, out.String())
	}
}
