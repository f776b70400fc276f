package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
)

// getHistory streams the process's workflow history in the JSON form of
// `temporal workflow show --output json`.
func (s *Server) getHistory(c echo.Context) error {
	id := c.Param("id")
	started, err := s.svc.History(c.Request().Context(), caller(c), id, c.QueryParam("run"), c.Response(), func() {
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
	return err
}

// replayProcess replays the process's history against the running code.
func (s *Server) replayProcess(c echo.Context) error {
	out, err := s.svc.Replay(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// getTimeline returns the history as a person reads it, with the definition's
// name, version and content hash.
func (s *Server) getTimeline(c echo.Context) error {
	out, err := s.svc.Timeline(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
