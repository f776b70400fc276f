package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
)

var statusOf = map[string]int{
	engine.EBADREQUEST:   http.StatusBadRequest,
	engine.EUNAUTHORIZED: http.StatusUnauthorized,
	engine.EFORBIDDEN:    http.StatusForbidden,
	engine.ENOTFOUND:     http.StatusNotFound,
	engine.ECONFLICT:     http.StatusConflict,
	engine.EINVALID:      http.StatusUnprocessableEntity,
	engine.EUNAVAILABLE:  http.StatusServiceUnavailable,
	engine.EINTERNAL:     http.StatusInternalServerError,
}

type errorBody struct {
	Error     *engine.Error `json:"error"`
	RequestID string        `json:"request_id,omitempty"`
}

// handleError is the one place that turns errors into responses. Internal errors
// are logged with the request id and answered without their details.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e, status := classify(err)
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	switch {
	case status == http.StatusServiceUnavailable:
		s.log.Warn("dependency unavailable", "error", err, "request_id", rid)
		c.Response().Header().Set("Retry-After", "5")
	case status >= 500:
		s.log.Error("internal error", "error", err, "request_id", rid, "path", c.Request().URL.Path)
		e = &engine.Error{Code: engine.EINTERNAL, Message: "internal error; quote the request id when reporting it"}
	}
	out := *e
	out.Op, out.Err = "", nil
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(status)
	} else {
		err = c.JSON(status, errorBody{Error: &out, RequestID: rid})
	}
	if err != nil {
		s.log.Error("writing error response", "error", err)
	}
}

// classify returns the error to show and its HTTP status. Echo's own errors
// (unknown route, wrong method, body too large) keep their status.
func classify(err error) (*engine.Error, int) {
	var e *engine.Error
	if errors.As(err, &e) {
		if st, ok := statusOf[e.Code]; ok {
			return e, st
		}
		return e, http.StatusInternalServerError
	}
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Code < 500 {
		code := engine.EBADREQUEST
		switch he.Code {
		case http.StatusNotFound:
			code = engine.ENOTFOUND
		case http.StatusUnauthorized:
			code = engine.EUNAUTHORIZED
		case http.StatusForbidden:
			code = engine.EFORBIDDEN
		}
		msg, _ := he.Message.(string)
		if msg == "" {
			msg = http.StatusText(he.Code)
		}
		return &engine.Error{Code: code, Message: msg}, he.Code
	}
	return &engine.Error{Code: engine.EINTERNAL, Message: err.Error(), Err: err}, http.StatusInternalServerError
}
