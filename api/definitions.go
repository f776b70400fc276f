package api

import (
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

const roleProcessOwner = "process-owner"

type definitionBody struct {
	store.Definition
	Compiled *engine.Definition `json:"definition,omitempty"`
}

func (s *Server) listDefinitions(c echo.Context) error {
	defs, err := s.store.Definitions(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]definitionBody, len(defs))
	for i := range defs {
		out[i] = definitionBody{Definition: defs[i]}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

func (s *Server) getDefinition(c echo.Context) error {
	version := 0
	if v := c.QueryParam("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return &engine.Error{Code: engine.EBADREQUEST, Message: "bad query parameter", Details: []engine.Detail{{Field: "version", Message: "must be a version number from 1"}}}
		}
		version = n
	}
	d, err := s.store.Definition(c.Request().Context(), c.Param("name"), version)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, definitionBody{Definition: d, Compiled: &d.Compiled})
}

// readDefinition parses the YAML body; problems come back as 422 with line:column.
func (s *Server) readDefinition(c echo.Context) (*engine.Definition, []byte, error) {
	src, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, nil, &engine.Error{Code: engine.EBADREQUEST, Message: "cannot read request body", Err: err}
	}
	def, err := engine.ParseWith(src, s.calendars)
	return def, src, err
}

func (s *Server) validateDefinition(c echo.Context) error {
	def, _, err := s.readDefinition(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"valid": true, "name": def.Name, "definition": def})
}

// putDefinition publishes a new version. Running processes keep the version they
// started with; new processes get this one.
func (s *Server) putDefinition(c echo.Context) error {
	if err := requireRole(c, roleProcessOwner); err != nil {
		return err
	}
	def, src, err := s.readDefinition(c)
	if err != nil {
		return err
	}
	if name := c.Param("name"); def.Name != name {
		return &engine.Error{Code: engine.EINVALID, Message: "definition name does not match the URL",
			Details: []engine.Detail{{Field: "name", Message: "is " + strconv.Quote(def.Name) + " but the URL says " + strconv.Quote(name)}}}
	}
	d, created, err := s.store.PublishDefinition(c.Request().Context(), def, src, actorOf(c).ID, requestID(c))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, map[string]any{"name": d.Name, "version": d.Version, "hash": d.Hash, "created": created, "published_at": d.PublishedAt})
}
