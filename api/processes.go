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
	f, err := processFilter(c)
	if err != nil {
		return err
	}
	out, err := s.svc.Processes(c.Request().Context(), caller(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// processFilter reads the list's query parameters.
func processFilter(c echo.Context) (store.ProcessFilter, error) {
	limit, err := intParam(c, "limit", 50, 1, 500)
	if err != nil {
		return store.ProcessFilter{}, err
	}
	offset, err := intParam(c, "offset", 0, 0, 1<<30)
	if err != nil {
		return store.ProcessFilter{}, err
	}
	q := c.QueryParam
	f := store.ProcessFilter{Definition: q("definition"), State: q("state"), Priority: q("priority"), Assignee: q("assignee"),
		AssignmentGroup: q("assignment_group"), StartedBy: q("started_by"), CI: q("ci"), Text: q("q"), Limit: limit, Offset: offset}
	if f.Assignee == "me" {
		f.Assignee = actorOf(c).ID
	}
	if len([]rune(f.Text)) > 200 {
		return f, badParam("q", "must be at most 200 characters")
	}
	if f.Breached, err = boolParam(c, "breached"); err != nil {
		return f, err
	}
	for name, dst := range map[string]*bool{"open": &f.Open, "unassigned": &f.Unassigned, "my_groups": &f.MyGroups} {
		v, err := boolParam(c, name)
		if err != nil {
			return f, err
		}
		*dst = v != nil && *v
	}
	for name, dst := range map[string]**time.Time{"started_from": &f.StartedFrom, "started_before": &f.StartedBefore} {
		if raw := q(name); raw != "" {
			t, err := time.Parse(time.RFC3339Nano, raw)
			if err != nil {
				return f, badParam(name, "must be an RFC 3339 time such as 2026-11-23T09:30:00Z")
			}
			*dst = &t
		}
	}
	switch q("sort") {
	case "", "newest":
	case "due":
		f.ByDue = true
	default:
		return f, badParam("sort", "must be newest or due")
	}
	return f, nil
}

// boolParam reads an optional true/false query parameter.
func boolParam(c echo.Context, name string) (*bool, error) {
	switch v := c.QueryParam(name); v {
	case "":
		return nil, nil
	case "true", "false":
		b := v == "true"
		return &b, nil
	}
	return nil, badParam(name, "must be true or false")
}

// badParam is the error of a query parameter that does not parse.
func badParam(name, problem string) error {
	return &engine.Error{Code: engine.EBADREQUEST, Message: "bad query parameter", Details: []engine.Detail{{Field: name, Message: problem}}}
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

type commentRequest struct {
	Comment string `json:"comment"`
}

// addComment adds a work note to a running process that the caller sees:
// 201 with the process, its timeline holding the note.
func (s *Server) addComment(c echo.Context) error {
	var req commentRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := s.svc.AddComment(c.Request().Context(), caller(c), service.CommentRequest{Process: c.Param("id"),
		Comment: req.Comment, IdempotencyKey: c.Request().Header.Get(headerIdempotencyKey)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}
