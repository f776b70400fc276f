package api

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/service"
	"github.com/itilflow/itilflow/store"
)

type startRequest struct {
	Input map[string]any `json:"input"`
}

type actionRequest struct {
	Input   map[string]any `json:"input"`
	Comment string         `json:"comment"`
}

// headerIdempotencyKey makes retries of a start or an action safe.
const headerIdempotencyKey = "Idempotency-Key"

// startProcess starts an instance of the latest version of a definition. With
// an Idempotency-Key, a retry returns the process the first request started
// (and says so in Idempotent-Replayed).
func (s *Server) startProcess(c echo.Context) error {
	return s.start(c, c.Param("name"))
}

// deprecatedSince is when POST /api/v1/processes/{definition} was deprecated,
// as RFC 9745's Deprecation header gives it: "@" and the Unix time.
const deprecatedSince = "@1795910400" // 2026-11-29T00:00:00Z

// startProcessDeprecated is the first path for starting a process, kept for a
// release so that integrations move at their pace; its answers say it is
// deprecated and link to its successor.
func (s *Server) startProcessDeprecated(c echo.Context) error {
	name := c.Param("id")
	h := c.Response().Header()
	h.Set("Deprecation", deprecatedSince)
	h.Set("Link", fmt.Sprintf(`</api/v1/definitions/%s/processes>; rel="successor-version"`, url.PathEscape(name)))
	return s.start(c, name)
}

func (s *Server) start(c echo.Context, definition string) error {
	var req startRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, replay, err := s.svc.Start(c.Request().Context(), caller(c), service.StartRequest{Definition: definition,
		Input: plainJSON(req.Input), IdempotencyKey: c.Request().Header.Get(headerIdempotencyKey)})
	if err != nil {
		return err
	}
	if replay {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/processes/"+p.ID)
	return c.JSON(http.StatusCreated, p)
}

func (s *Server) getProcess(c echo.Context) error {
	ctx := c.Request().Context()
	if asOf := c.QueryParam("as_of"); asOf != "" {
		t, err := time.Parse(time.RFC3339Nano, asOf)
		if err != nil {
			return &engine.Error{Code: engine.EBADREQUEST, Message: "bad query parameter",
				Details: []engine.Detail{{Field: "as_of", Message: "must be an RFC 3339 time such as 2026-11-23T09:30:00Z"}}}
		}
		out, err := s.svc.ProcessAsOf(ctx, caller(c), c.Param("id"), t, time.Now())
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, out)
	}
	p, err := s.svc.Process(ctx, caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) listProcesses(c echo.Context) error {
	limit, err := intParam(c, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	offset, err := intParam(c, "offset", 0, 0, 1<<30)
	if err != nil {
		return err
	}
	f := store.ProcessFilter{Definition: c.QueryParam("definition"), State: c.QueryParam("state"), Limit: limit, Offset: offset}
	switch b := c.QueryParam("breached"); b {
	case "":
	case "true", "false":
		v := b == "true"
		f.Breached = &v
	default:
		return &engine.Error{Code: engine.EBADREQUEST, Message: "bad query parameter", Details: []engine.Detail{{Field: "breached", Message: "must be true or false"}}}
	}
	out, err := s.svc.Processes(c.Request().Context(), caller(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// takeAction takes an action of a process; the workflow decides whether the
// caller may.
func (s *Server) takeAction(c echo.Context) error {
	var req actionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := s.svc.Act(c.Request().Context(), caller(c), service.ActionRequest{Process: c.Param("id"), Action: c.Param("action"),
		Input: plainJSON(req.Input), Comment: req.Comment, IdempotencyKey: c.Request().Header.Get(headerIdempotencyKey)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}
