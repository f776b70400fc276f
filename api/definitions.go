package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/pmezard/go-difflib/difflib"

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

// requestedDefinition is the definition of the URL, at ?version= or the latest.
func (s *Server) requestedDefinition(c echo.Context) (store.Definition, error) {
	version, err := versionParam(c, "version")
	if err != nil {
		return store.Definition{}, err
	}
	return s.store.Definition(c.Request().Context(), c.Param("name"), version)
}

func (s *Server) getDefinition(c echo.Context) error {
	d, err := s.requestedDefinition(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, definitionBody{Definition: d, Compiled: &d.Compiled})
}

// readDefinition parses the YAML body; problems come back as 422 with
// line:column. A body over maxDefinitionBytes is 413; compiling runs in a slot
// of s.heavy, within its budget.
func (s *Server) readDefinition(c echo.Context) (*engine.Definition, []byte, error) {
	src, err := readLimited(c, maxDefinitionBytes, "definition")
	if err != nil {
		return nil, nil, err
	}
	published, err := s.store.Definitions(c.Request().Context())
	if err != nil {
		return nil, nil, err
	}
	// Start steps may name any published process (or this one).
	names := make([]string, 0, len(published))
	for _, d := range published {
		names = append(names, d.Name)
	}
	def, err := bounded(c.Request().Context(), s.heavy, "definition too complex to check", func() (*engine.Definition, error) {
		if err := checkYAMLExpansion(src); err != nil {
			return nil, err
		}
		return engine.Compile(src, engine.Env{Calendars: s.calendars, Processes: names})
	})
	return def, src, err
}

// validateDefinition checks a definition without publishing it. It is for the
// people who write definitions: checking is the API's most expensive request.
func (s *Server) validateDefinition(c echo.Context) error {
	if err := requireRole(c, roleProcessOwner, roleAdmin); err != nil {
		return err
	}
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

// versionParam reads an optional version query parameter (0 = latest).
func versionParam(c echo.Context, name string) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, &engine.Error{Code: engine.EBADREQUEST, Message: "bad query parameter", Details: []engine.Detail{{Field: name, Message: "must be a version number from 1"}}}
	}
	return n, nil
}

func (s *Server) listVersions(c echo.Context) error {
	versions, err := s.store.DefinitionVersions(c.Request().Context(), c.Param("name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": versions})
}

// graph draws a version of the definition as Mermaid (default) or Graphviz DOT,
// in a slot of s.heavy.
func (s *Server) graph(c echo.Context) error {
	d, err := s.requestedDefinition(c)
	if err != nil {
		return err
	}
	draw, contentType := engine.Mermaid, echo.MIMETextPlainCharsetUTF8
	switch c.QueryParam("format") {
	case "", "mermaid":
	case "dot":
		draw, contentType = engine.DOT, "text/vnd.graphviz; charset=utf-8"
	default:
		return &engine.Error{Code: engine.EBADREQUEST, Message: "bad query parameter", Details: []engine.Detail{{Field: "format", Message: "must be mermaid or dot"}}}
	}
	text, err := bounded(c.Request().Context(), s.heavy, "definition too complex to draw", func() (string, error) {
		return draw(&d.Compiled), nil
	})
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, contentType, []byte(text))
}

// diff shows what changed between two versions, as a unified diff of their
// text, computed in a slot of s.heavy.
func (s *Server) diff(c echo.Context) error {
	from, err := versionParam(c, "from")
	if err != nil {
		return err
	}
	to, err := versionParam(c, "to")
	if err != nil {
		return err
	}
	if from == 0 {
		return &engine.Error{Code: engine.EBADREQUEST, Message: "missing query parameter", Details: []engine.Detail{{Field: "from", Message: "is required"}}}
	}
	ctx, name := c.Request().Context(), c.Param("name")
	a, err := s.store.Definition(ctx, name, from)
	if err != nil {
		return err
	}
	b, err := s.store.Definition(ctx, name, to)
	if err != nil {
		return err
	}
	text, err := bounded(ctx, s.heavy, "versions too different to compare", func() (string, error) {
		return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(a.Source), B: difflib.SplitLines(b.Source),
			FromFile: fmt.Sprintf("%s v%d", name, a.Version), ToFile: fmt.Sprintf("%s v%d", name, b.Version), Context: 3,
		})
	})
	if err != nil {
		return err
	}
	return c.String(http.StatusOK, text)
}

// schema serves the JSON Schema of process definitions.
func (s *Server) schema(c echo.Context) error {
	return c.JSON(http.StatusOK, engine.Schema())
}
