package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/reports"
)

// UseReports makes the reports of r readable (the service checks who reads).
func (s *Server) UseReports(r *reports.Reports) { s.svc.UseReports(r) }

// listReports names the reports there are.
func (s *Server) listReports(c echo.Context) error {
	list, err := s.svc.Reports(caller(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

// getReport computes one report over from–to as JSON or, with format=csv, as
// a CSV file for spreadsheets.
func (s *Server) getReport(c echo.Context) error {
	format := c.QueryParam("format")
	if format != "" && format != "json" && format != "csv" {
		return &engine.Error{Code: engine.EBADREQUEST, Message: "bad query parameter", Details: []engine.Detail{{Field: "format", Message: "must be json or csv"}}}
	}
	r, err := s.svc.Report(c.Request().Context(), caller(c), c.Param("name"), c.QueryParam("from"), c.QueryParam("to"))
	if err != nil {
		return err
	}
	if format != "csv" {
		return c.JSON(http.StatusOK, r)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	// The name is one of the fixed report names, safe in a header.
	h.Set(echo.HeaderContentDisposition, `attachment; filename="itilflow-`+r.Name+`-`+
		r.From.Format("2006-01-02")+`.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	return r.WriteCSV(c.Response())
}
