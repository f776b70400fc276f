package console

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/service"
	"github.com/itilflow/itilflow/store"
)

// auditPageSize is how many records the audit page shows, newest first; the
// export holds up to auditExportLimit.
const (
	auditPageSize    = 100
	auditExportLimit = 100000
)

// auditForm is the audit page's filter as the person typed it.
type auditForm struct {
	From, To, Actor, Action string
	// Errors are the fields that do not parse, with why.
	Errors map[string]string
}

// filter reads the form into a store filter: from and to are days (UTC), to
// included.
func (c *Console) auditFilter(ec echo.Context) (auditForm, store.AuditFilter) {
	form := auditForm{From: ec.QueryParam("from"), To: ec.QueryParam("to"), Actor: ec.QueryParam("actor"),
		Action: ec.QueryParam("action"), Errors: map[string]string{}}
	f := store.AuditFilter{Actor: form.Actor, Action: form.Action}
	for name, v := range map[string]string{"from": form.From, "to": form.To} {
		if v == "" {
			continue
		}
		day, err := time.ParseInLocation(time.DateOnly, v, time.UTC)
		if err != nil {
			form.Errors[name] = c.localeOf(ec).text("audit.bad_day")
			continue
		}
		if name == "from" {
			f.From = day
		} else {
			f.To = day.AddDate(0, 0, 1)
		}
	}
	return form, f
}

// auditPage shows whether the audit chain holds, and the latest records
// the filter selects, with a link to export them all.
func (c *Console) auditPage(ec echo.Context) error {
	ctx := ec.Request().Context()
	form, f := c.auditFilter(ec)
	verification, err := c.svc.VerifyAudit(ctx, c.caller(ec))
	if err != nil {
		return err
	}
	status, records := http.StatusOK, []store.AuditRecord{}
	if len(form.Errors) > 0 {
		status = http.StatusBadRequest
	} else {
		f.Limit, f.Newest = auditPageSize, true
		if records, err = c.svc.AuditLog(ctx, c.caller(ec), f); err != nil {
			return err
		}
	}
	return c.render(ec, status, "audit", map[string]any{"Form": form, "Verification": verification, "Records": records,
		"ExportQuery": ec.QueryString()})
}

// auditExport downloads the records the filter selects, in chain order, as
// CSV.
func (c *Console) auditExport(ec echo.Context) error {
	form, f := c.auditFilter(ec)
	if len(form.Errors) > 0 {
		return echo.NewHTTPError(http.StatusBadRequest, c.localeOf(ec).text("audit.bad_day"))
	}
	f.Limit = auditExportLimit
	records, err := c.svc.AuditLog(ec.Request().Context(), c.caller(ec), f)
	if err != nil {
		return err
	}
	h := ec.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="itilflow-audit.csv"`)
	ec.Response().WriteHeader(http.StatusOK)
	return service.WriteAuditCSV(ec.Response(), records)
}
