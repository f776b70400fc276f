package api

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

// The audit log is for auditors, and admins who answer for the system.
var auditReaders = []string{store.RoleAuditor, store.RoleAdmin}

// CheckpointSource gives the latest checkpoint of the audit chain kept outside
// the database, and false while there is none.
type CheckpointSource interface {
	Latest() (store.AuditCheckpoint, bool, error)
}

// UseAuditCheckpoints makes audit verification check the chain against the
// latest checkpoint of src.
func (s *Server) UseAuditCheckpoints(src CheckpointSource) { s.checkpoints = src }

// verifyAudit checks the audit chain, the latest checkpoint when the server
// keeps them, and the events rows, and reports the first problem of each.
func (s *Server) verifyAudit(c echo.Context) error {
	if err := requireRole(c, auditReaders...); err != nil {
		return err
	}
	var checkpoints []store.AuditCheckpoint
	if s.checkpoints != nil {
		cp, ok, err := s.checkpoints.Latest()
		if err != nil {
			return err
		}
		if ok {
			checkpoints = append(checkpoints, cp)
		}
	}
	v, err := s.store.VerifyAudit(c.Request().Context(), checkpoints...)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// listAudit returns the audit records of a period as JSON or, with format=csv,
// as a CSV file for spreadsheets.
func (s *Server) listAudit(c echo.Context) error {
	if err := requireRole(c, auditReaders...); err != nil {
		return err
	}
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
	records, err := s.store.Audit(c.Request().Context(), f)
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
		w := csv.NewWriter(c.Response())
		w.Write([]string{"seq", "at", "actor", "action", "request_id", "target", "payload_digest", "prev_hash", "hash", "link", "key_id", "source"})
		for _, r := range records {
			w.Write([]string{strconv.FormatInt(r.Seq, 10), r.At.Format(time.RFC3339Nano), r.Actor, r.Action, r.RequestID, r.Target, r.PayloadDigest,
				r.PrevHash, r.Hash, r.Link, r.KeyID, r.Source})
		}
		w.Flush()
		return w.Error()
	}
	return &engine.Error{Code: engine.EBADREQUEST, Message: "bad query parameter", Details: []engine.Detail{{Field: "format", Message: "must be json or csv"}}}
}
