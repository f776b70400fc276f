package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/reports"
)

// reportForm is a report's period as the person typed it: a day
// (2026-11-03), a month (2026-11), a quarter (2026-Q4) or an RFC 3339 time;
// to empty means the end of from's period. Errors are what the service found
// wrong with from and to.
type reportForm struct {
	From, To string
	Errors   map[string]string
}

// reportTexts are the message ids of each report's title and description:
// the reports package names them in English, the console in the reader's
// language.
var reportTexts = map[string][2]string{
	"fault-summary":      {"report.fault_summary", "report.fault_summary_about"},
	"sla-attainment":     {"report.sla_attainment", "report.sla_attainment_about"},
	"resolution-rates":   {"report.resolution_rates", "report.resolution_rates_about"},
	"response-times":     {"report.response_times", "report.response_times_about"},
	"daily-log":          {"report.daily_log", "report.daily_log_about"},
	"report-punctuality": {"report.report_punctuality", "report.report_punctuality_about"},
	"changes":            {"report.changes", "report.changes_about"},
	"staff-scores":       {"report.staff_scores", "report.staff_scores_about"},
}

// localised is the list of reports in the reader's language; a report the
// texts do not know keeps the reports package's English.
func localised(l *locale, list []reports.Info) []reports.Info {
	out := make([]reports.Info, len(list))
	for i, info := range list {
		out[i] = info
		if ids, ok := reportTexts[info.Name]; ok {
			out[i].Title, out[i].Description = l.text(ids[0]), l.text(ids[1])
		}
	}
	return out
}

// reportsPage lists the reports with the period form, for their readers.
func (c *Console) reportsPage(ec echo.Context) error {
	list, err := c.svc.Reports(c.caller(ec))
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "reports", map[string]any{"Reports": localised(c.localeOf(ec), list), "Form": c.reportForm(ec)})
}

// reportForm reads the period, this month by default.
func (c *Console) reportForm(ec echo.Context) reportForm {
	f := reportForm{From: ec.QueryParam("from"), To: ec.QueryParam("to")}
	if f.From == "" {
		f.From = time.Now().UTC().Format("2006-01")
	}
	return f
}

// reportData is what a report's page shows: the report, a chart of each of
// its tables that has one, and the query that exports it.
type reportData struct {
	Info   reports.Info
	Report *reports.Report
	// Start and End are the period's ends in the report's time zone, the
	// one its days and months are counted in.
	Start, End string
	Charts     map[string]chart
	Form       reportForm
	Query      string
}

// reportPage computes one report over the form's period. A period the
// service refuses is shown beside the form, with its status (422).
func (c *Console) reportPage(ec echo.Context) error {
	name, form := ec.Param("name"), c.reportForm(ec)
	list, err := c.svc.Reports(c.caller(ec))
	if err != nil {
		return err
	}
	data := reportData{Form: form, Query: url.Values{"from": {form.From}, "to": {form.To}}.Encode()}
	for _, i := range localised(c.localeOf(ec), list) {
		if i.Name == name {
			data.Info = i
		}
	}
	r, err := c.svc.Report(ec.Request().Context(), c.caller(ec), name, form.From, form.To)
	if err != nil {
		status := statusOf(engine.ErrorCode(err))
		if status != http.StatusUnprocessableEntity {
			return err
		}
		if data.Form.Errors = fieldErrors(err); len(data.Form.Errors) == 0 {
			data.Form.Errors = map[string]string{"from": errorText(err)}
		}
		return c.render(ec, status, "report", data)
	}
	data.Report, data.Charts = r, map[string]chart{}
	zone := time.UTC
	if loc, err := time.LoadLocation(r.TimeZone); err == nil {
		zone = loc
	}
	data.Start, data.End = r.From.In(zone).Format("2006-01-02 15:04"), r.To.In(zone).Format("2006-01-02 15:04")
	for _, t := range r.Tables {
		if ch, ok := chartOf(t); ok {
			data.Charts[t.Name] = ch
		}
	}
	return c.render(ec, http.StatusOK, "report", data)
}

// reportExport is the report as CSV, as the API gives it.
func (c *Console) reportExport(ec echo.Context) error {
	form := c.reportForm(ec)
	r, err := c.svc.Report(ec.Request().Context(), c.caller(ec), ec.Param("name"), form.From, form.To)
	if err != nil {
		return err
	}
	ec.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	ec.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s.csv"`, r.Name, r.From.Format("2006-01-02")))
	ec.Response().WriteHeader(http.StatusOK)
	return r.WriteCSV(ec.Response())
}

// chart is a table drawn as horizontal bars, server-side in SVG: one bar a
// row, labelled by the row's text cells, as long as its value of Column
// over Max.
type chart struct {
	Column string
	Max    float64
	Bars   []bar
	Height int
}

type bar struct {
	Label, Value string
	Y, Width     int
}

// Chart geometry, in SVG user units: the bars are chartWidth long at Max.
const (
	chartWidth   = 320
	chartRowStep = 22
	// chartLabelRunes keeps a bar's label left of its bar.
	chartLabelRunes = 36
)

// chartOf draws the column that says most at a glance: the first
// percentage ("…_pct", out of 100), else the first count of a day-by-day
// table. Tables with neither, or with no rows, get no chart.
func chartOf(t reports.Table) (chart, bool) {
	col := -1
	for i, name := range t.Columns {
		if strings.HasSuffix(name, "_pct") {
			col = i
			break
		}
	}
	maxValue := 100.0
	if col < 0 && len(t.Columns) > 1 && t.Columns[0] == "day" {
		col, maxValue = 1, 0
		for _, row := range t.Rows {
			if v, ok := number(row[col]); ok && v > maxValue {
				maxValue = v
			}
		}
	}
	if col < 0 || len(t.Rows) == 0 || maxValue <= 0 {
		return chart{}, false
	}
	ch := chart{Column: t.Columns[col], Max: maxValue}
	for i, row := range t.Rows {
		var label []string
		for j, cell := range row {
			if s, ok := cell.(string); ok && j != col && s != "" {
				label = append(label, s)
			}
		}
		b := bar{Label: strings.Join(label, " · "), Value: reports.Cell(row[col]), Y: i * chartRowStep}
		if r := []rune(b.Label); len(r) > chartLabelRunes {
			b.Label = string(r[:chartLabelRunes-1]) + "…"
		}
		if v, ok := number(row[col]); ok {
			b.Width = int(v / maxValue * chartWidth)
		} else {
			b.Value = "–"
		}
		ch.Bars = append(ch.Bars, b)
	}
	ch.Height = len(ch.Bars) * chartRowStep
	return ch, true
}

// number is a cell's value as a number, and false for text and empty cells.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}
