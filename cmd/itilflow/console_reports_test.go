package main

import (
	"strings"
	"testing"
	"time"
)

// TestConsoleShowsTheReports reads the month's reports as a service manager
// does: the list, a report with its table and chart, a period refused at its
// field, a print of the report alone, the CSV, the same in Chinese and on a
// phone; a requester is refused.
func TestConsoleShowsTheReports(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	// An incident worked to its end this month: the reports have a row.
	id := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{
		"title": "Mail server down", "priority": "P2", "category": "system"}})["id"].(string)
	c.must(200, "POST", "/api/v1/processes/"+id+"/actions/acknowledge", "dev-tier1", nil)
	c.must(200, "POST", "/api/v1/processes/"+id+"/actions/resolve", "dev-tier1", map[string]any{"input": map[string]any{"resolution": "restarted"}})
	c.must(200, "POST", "/api/v1/processes/"+id+"/actions/waive_knowledge", "dev-service-desk", map[string]any{"input": map[string]any{"knowledge_waiver": "a restart needs no article"}})
	c.must(200, "POST", "/api/v1/processes/"+id+"/actions/close", "dev-service-desk", map[string]any{"input": map[string]any{"satisfaction": "5"}})
	c.waitFor(id, "closed", func(p map[string]any) bool { return p["ended_at"] != nil })
	month := time.Now().UTC().Format("2006-01")

	b := newBrowser(t, cfg.httpAddr, 1280, 900)
	b.signIn("dev-service-manager")
	b.waitText("nav", "Reports")
	b.visit("/reports")
	b.waitText("ul.reports", "Monthly fault summary")
	if got := b.value("#r-from"); got != month {
		t.Fatalf("the period starts at %q, want this month %s", got, month)
	}
	b.shot("reports", false)

	b.visit("/reports/sla-attainment?from=" + month)
	b.waitText("main h1", "SLA attainment")
	b.waitText("table.report", "incident")
	if !b.has("figure.chart svg rect") {
		t.Fatal("the SLA attainment has no chart")
	}
	b.shot("report-sla", true)

	b.visit("/reports/fault-summary?from=" + month)
	b.waitText("table.report", "on time repair rate %")
	b.media("print")
	if b.displayed("header.top") || b.displayed("form.filters") || !b.displayed("table.report") {
		t.Fatal("a printed report shows the navigation or the form, or not the report")
	}
	b.shot("report-fault-summary.print", false)
	b.media("")

	b.expectRefusal("/reports/fault-summary")
	b.visit("/reports/fault-summary?from=2026-13")
	b.waitText("#r-from-error", `"2026-13" is not a day`)
	if b.value("#r-from") != "2026-13" {
		t.Fatal("the refused period is not kept in its field")
	}

	status, body := signInConsole(t, cfg.httpAddr, "dev-service-manager").get("/reports/fault-summary/export.csv?from=" + month)
	if status != 200 || !strings.Contains(body, "# summary") {
		t.Fatalf("the CSV export: %d %q", status, body)
	}

	b.choose("#lang", "zh-Hans")
	b.do("switching language", waitLang("zh-Hans"))
	b.visit("/reports/fault-summary?from=" + month)
	b.waitText("main h1", "月度故障汇总")
	checkTranslated(t, "/reports/fault-summary (zh-Hans)", b.html())
	b.shot("report-fault-summary.zh-Hans", false)
	b.choose("#lang", "en")
	b.do("switching language", waitLang("en"))

	phone := newBrowser(t, cfg.httpAddr, 390, 844)
	phone.signIn("dev-service-manager")
	phone.visit("/reports/response-times?from=" + month)
	phone.waitText("main h1", "Response times")
	if w := phone.width("main"); w > 390 {
		t.Errorf("on a phone the report is %d pixels wide, more than the screen", w)
	}
	phone.shot("report-response-times.phone", false)

	b.signOut()
	b.signIn("dev-requester")
	if b.has("nav a[href='/reports']") {
		t.Fatal("a requester is offered the reports")
	}
	b.expectRefusal("/reports")
	b.visit("/reports")
	b.waitText("main", "needs the role")
}
