package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/service"
	"github.com/itilflow/itilflow/store"
)

type definitionBody struct {
	store.Definition
	Compiled *engine.Definition `json:"definition,omitempty"`
}

func (s *Server) listDefinitions(c echo.Context) error {
	defs, err := s.svc.Catalog(c.Request().Context())
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
	version, err := service.ParseVersion("version", c.QueryParam("version"))
	if err != nil {
		return err
	}
	d, err := s.svc.Definition(c.Request().Context(), c.Param("name"), version)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, definitionBody{Definition: d, Compiled: &d.Compiled})
}

// readDefinition reads the YAML body of a definition; one over
// service.MaxDefinitionBytes is 413, before the service sees it.
func readDefinition(c echo.Context) ([]byte, error) {
	return readLimited(c, service.MaxDefinitionBytes, "definition")
}

// validateDefinition checks a definition without publishing it; problems come
// back as 422 with line:column. A caller who may not check is refused before
// their body is read.
func (s *Server) validateDefinition(c echo.Context) error {
	if err := service.MayCheckDefinitions(caller(c)); err != nil {
		return err
	}
	src, err := readDefinition(c)
	if err != nil {
		return err
	}
	def, err := s.svc.CheckDefinition(c.Request().Context(), caller(c), service.Draft{Source: src})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"valid": true, "name": def.Name, "definition": def})
}

// putDefinition publishes a new version of the definition the URL names
// (201), or answers the latest when the text is unchanged (200).
func (s *Server) putDefinition(c echo.Context) error {
	if err := service.MayPublishDefinitions(caller(c)); err != nil {
		return err
	}
	src, err := readDefinition(c)
	if err != nil {
		return err
	}
	d, created, err := s.svc.PublishDefinition(c.Request().Context(), caller(c), service.Draft{Source: src, Name: c.Param("name")})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, map[string]any{"name": d.Name, "version": d.Version, "hash": d.Hash, "created": created, "published_at": d.PublishedAt})
}

func (s *Server) listVersions(c echo.Context) error {
	versions, err := s.svc.DefinitionVersions(c.Request().Context(), c.Param("name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": versions})
}

// graph draws a version of the definition as Mermaid (default), Graphviz DOT
// or SVG.
func (s *Server) graph(c echo.Context) error {
	version, err := service.ParseVersion("version", c.QueryParam("version"))
	if err != nil {
		return err
	}
	format := c.QueryParam("format")
	text, err := s.svc.DrawDefinition(c.Request().Context(), c.Param("name"), version, format)
	if err != nil {
		return err
	}
	contentType := echo.MIMETextPlainCharsetUTF8
	switch format {
	case service.GraphDOT:
		contentType = "text/vnd.graphviz; charset=utf-8"
	case service.GraphSVG:
		// Opened on its own, an SVG is a document: nothing in it may run.
		contentType = "image/svg+xml"
		c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	}
	return c.Blob(http.StatusOK, contentType, []byte(text))
}

// diff shows what changed between two versions, as a unified diff of their
// text.
func (s *Server) diff(c echo.Context) error {
	from, err := service.ParseVersion("from", c.QueryParam("from"))
	if err != nil {
		return err
	}
	to, err := service.ParseVersion("to", c.QueryParam("to"))
	if err != nil {
		return err
	}
	text, err := s.svc.DiffDefinition(c.Request().Context(), c.Param("name"), from, to)
	if err != nil {
		return err
	}
	return c.String(http.StatusOK, text)
}

// schema serves the JSON Schema of process definitions.
func (s *Server) schema(c echo.Context) error {
	return c.JSON(http.StatusOK, engine.Schema())
}
