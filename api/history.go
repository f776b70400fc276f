package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	sdklog "go.temporal.io/sdk/log"

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
