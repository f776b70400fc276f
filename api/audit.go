package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/service"
	"github.com/itilflow/itilflow/store"
)

// UseAuditCheckpoints makes audit verification check the chain against the
// latest checkpoint of src (the service does the checking).
func (s *Server) UseAuditCheckpoints(src service.CheckpointSource) { s.svc.UseAuditCheckpoints(src) }

// verifyAudit checks the audit chain, the latest checkpoint when the server
// keeps them, and the events rows, and reports the first problem of each.
func (s *Server) verifyAudit(c echo.Context) error {
	v, err := s.svc.VerifyAudit(c.Request().Context(), caller(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// listAudit returns the audit records of a period as JSON or, with format=csv,
// as a CSV file for spreadsheets.
func (s *Server) listAudit(c echo.Context) error {
	limit, err := intParam(c, "limit", 1000, 1, 100000)
	if err != nil {
		return err
	}
	f := store.AuditFilter{Actor: c.QueryParam("actor"), Action: c.QueryParam("action"), Limit: limit}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if v := c.QueryParam(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return &engine.Error{Code: engine.EBADREQUEST, Message: "bad query parameter",
					Details: []engine.Detail{{Field: name, Message: "must be an RFC 3339 time such as 2026-11-01T00:00:00Z"}}}
			}
			*dst = t
		}
	}
	records, err := s.svc.AuditLog(c.Request().Context(), caller(c), f)
	if err != nil {
		return err
	}
	switch c.QueryParam("format") {
	case "", "json":
		return c.JSON(http.StatusOK, map[string]any{"items": records})
	case "csv":
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="itilflow-audit.csv"`)
		c.Response().WriteHeader(http.StatusOK)
		return service.WriteAuditCSV(c.Response(), records)
	}
	return &engine.Error{Code: engine.EBADREQUEST, Message: "bad query parameter", Details: []engine.Detail{{Field: "format", Message: "must be json or csv"}}}
}
