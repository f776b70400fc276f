package api

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	sdklog "go.temporal.io/sdk/log"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/history"
	"github.com/itilflow/itilflow/workflows"
)

// Roles that may read and replay workflow histories: the record of who did what.
var historyReaders = []string{"auditor", "process-owner"}

// getHistory streams the process's workflow history in the JSON form of
// `temporal workflow show --output json`.
func (s *Server) getHistory(c echo.Context) error {
	if err := requireRole(c, historyReaders...); err != nil {
		return err
	}
	id := c.Param("id")
	started := false
	err := history.WriteJSON(c.Request().Context(), s.temporal, id, c.Response(), func() {
		started = true
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+id+`.history.json"`)
		c.Response().WriteHeader(http.StatusOK)
	})
	if err != nil && started {
		// The status is sent; all that is left is to cut the response short so the
		// client sees an incomplete document rather than a valid truncated one.
		s.log.Error("history stream broken", "id", id, "error", err)
		return errors.Join(err, http.ErrAbortHandler)
	}
	if err != nil {
		return temporalError("api.getHistory", err)
	}
	return nil
}

type replayBody struct {
	ID            string `json:"id"`
	Events        int    `json:"events"`
	Deterministic bool   `json:"deterministic"`
	// Divergence names the first place where the current code decides differently
	// from the history.
	Divergence string `json:"divergence,omitempty"`
}

// replayProcess replays the process's history against the running code.
func (s *Server) replayProcess(c echo.Context) error {
	if err := requireRole(c, historyReaders...); err != nil {
		return err
	}
	id := c.Param("id")
	h, err := history.Fetch(c.Request().Context(), s.temporal, id)
	if err != nil {
		return temporalError("api.replayProcess", err)
	}
	out := replayBody{ID: id, Events: len(h.GetEvents()), Deterministic: true}
	if err := workflows.Replay(sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)), h); err != nil {
		out.Deterministic, out.Divergence = false, err.Error()
	}
	return c.JSON(http.StatusOK, out)
}

// record reads a process's history from Temporal and decodes it.
func (s *Server) record(c echo.Context, op string) (history.Record, error) {
	h, err := history.Fetch(c.Request().Context(), s.temporal, c.Param("id"))
	if err != nil {
		return history.Record{}, temporalError(op, err)
	}
	return history.Decode(h)
}

// getTimeline returns the history as a person reads it, with the definition's
// name, version and content hash.
func (s *Server) getTimeline(c echo.Context) error {
	if err := requireRole(c, historyReaders...); err != nil {
		return err
	}
	rec, err := s.record(c, "api.getTimeline")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rec.Timeline())
}

// getProcessAsOf reconstructs the process at an instant from its history.
func (s *Server) getProcessAsOf(c echo.Context, asOf string) error {
	t, err := time.Parse(time.RFC3339Nano, asOf)
	if err != nil {
		return &engine.Error{Code: engine.EBADREQUEST, Message: "bad query parameter",
			Details: []engine.Detail{{Field: "as_of", Message: "must be an RFC 3339 time such as 2026-11-23T09:30:00Z"}}}
	}
	rec, err := s.record(c, "api.getProcessAsOf")
	if err != nil {
		return err
	}
	v, err := rec.AsOf(t)
	if err != nil {
		return err
	}
	var events []engine.Event
	for _, e := range rec.Events {
		if !e.At.After(t) {
			events = append(events, e)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"as_of": t, "process": processBody{View: v, Actions: []string{}, Events: events}})
}
