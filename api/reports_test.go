package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/itilflow/itilflow/reports"
	"github.com/itilflow/itilflow/reports/reportstest"
	"github.com/itilflow/itilflow/service"
)

// TestReportsAreReadByManagersOnly: who may read, what a bad period names,
// and the two formats.
func TestReportsAreReadByManagersOnly(t *testing.T) {
	a := newAdminTest(t)
	t.Run("UnconfiguredIsUnavailable", func(t *testing.T) {
		a.with(t).refused(503, "reports.yaml", "GET", "/api/v1/reports/fault-summary?from=2026-11", "sid.service", nil)
	})
	t.Run("BrokenConfigTakesOnlyTheReportsDown", func(t *testing.T) {
		log := slog.New(slog.DiscardHandler)
		svc := service.New(a.store, nil, nil, log)
		svc.ReportsUnavailable(`reports are unavailable: reports.yaml:33:17: incidents[1].resolution: major-incident has no SLA "restore"`)
		b := a.with(t)
		b.s = New(svc, a.store, nil, log)
		b.refused(503, "restore", "GET", "/api/v1/reports/fault-summary?from=2026-11", "sid.service", nil)
		b.must(200, "GET", "/api/v1/definitions", "sid.service", nil)
	})
	a.s.UseReports(reports.New(reportstest.Config(t, "../definitions"), a.store, time.Now))
	t.Run("RequesterIsForbidden", func(t *testing.T) {
		a.with(t).refused(403, "service-manager", "GET", "/api/v1/reports", "rita.requester", nil)
		a.with(t).refused(403, "service-manager", "GET", "/api/v1/reports/fault-summary?from=2026-11", "rita.requester", nil)
	})
	t.Run("List", func(t *testing.T) {
		items := a.with(t).must(200, "GET", "/api/v1/reports", "sid.service", nil)["items"].([]any)
		if len(items) != 8 || items[0].(map[string]any)["name"] != "fault-summary" {
			t.Fatalf("list: %v", items)
		}
	})
	t.Run("BadPeriodNamesTheField", func(t *testing.T) {
		a := a.with(t)
		a.refused(422, "from", "GET", "/api/v1/reports/fault-summary", "sid.service", nil)
		a.refused(422, "from", "GET", "/api/v1/reports/fault-summary?from=yesterday", "sid.service", nil)
		a.refused(422, "to", "GET", "/api/v1/reports/fault-summary?from=2026-11&to=2026-10", "sid.service", nil)
		a.refused(400, "format", "GET", "/api/v1/reports/fault-summary?from=2026-11&format=xml", "sid.service", nil)
		a.refused(404, "no report", "GET", "/api/v1/reports/nothing?from=2026-11", "sid.service", nil)
	})
	t.Run("JSONAndCSV", func(t *testing.T) {
		r := a.with(t).must(200, "GET", "/api/v1/reports/fault-summary?from=2026-Q4", "carl.change", nil)
		if r["from"] != "2026-10-01T00:00:00+08:00" || r["to"] != "2027-01-01T00:00:00+08:00" || r["timezone"] != "Asia/Shanghai" {
			t.Fatalf("quarter: %v", r)
		}
		req := httptest.NewRequest("GET", "/api/v1/reports/fault-summary?from=2026-11&format=csv", nil)
		req.Header.Set("Authorization", "Bearer ada.admin")
		rec := httptest.NewRecorder()
		a.s.ServeHTTP(rec, req)
		want := "# summary\nuser_reports,major_faults,system_faults,device_faults,repaired,total_duration_min,average_duration_min,on_time_repair_rate_pct\n0,0,0,0,0,0,,\n"
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" || rec.Body.String() != want {
			t.Fatalf("csv: %d %v %q", rec.Code, rec.Header(), rec.Body)
		}
	})
}
