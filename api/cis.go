package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

// listCIs returns a page of the configuration item registry.
func (s *Server) listCIs(c echo.Context) error {
	limit, err := intParam(c, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	offset, err := intParam(c, "offset", 0, 0, 1<<30)
	if err != nil {
		return err
	}
	q := c.QueryParam
	out, err := s.svc.CIs(c.Request().Context(), caller(c), store.CIFilter{Parent: q("parent"), Type: q("type"), Service: q("service"), Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// getCI returns an item with the processes naming it that the caller may see.
func (s *Server) getCI(c echo.Context) error {
	out, err := s.svc.CI(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// ciRequest is an item as a client sends it; the id is the path's (PUT) or
// its own (import).
type ciRequest struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Service  string `json:"service"`
	Owner    string `json:"owner"`
	Location string `json:"location"`
	Parent   string `json:"parent"`
}

func (r ciRequest) ci() store.CI {
	return store.CI{ID: r.ID, Name: r.Name, Type: r.Type, Service: r.Service, Owner: r.Owner, Location: r.Location, Parent: r.Parent}
}

// putCI creates an item of the registry or replaces it.
func (s *Server) putCI(c echo.Context) error {
	var req ciRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	id := c.Param("id")
	if req.ID != "" && req.ID != id {
		return &engine.Error{Code: engine.EINVALID, Message: "item is not valid",
			Details: []engine.Detail{{Field: "id", Message: "differs from the path's id; leave it out"}}}
	}
	req.ID = id
	ctx := auditContext(c)
	if _, err := s.svc.SaveCIs(ctx, caller(c), []store.CI{req.ci()}); err != nil {
		return err
	}
	out, err := s.store.CIByID(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

type ciImport struct {
	Items []ciRequest `json:"items"`
}

// importCIs creates or replaces many items, all or none.
func (s *Server) importCIs(c echo.Context) error {
	var req ciImport
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	items := make([]store.CI, len(req.Items))
	for i, r := range req.Items {
		items[i] = r.ci()
	}
	n, err := s.svc.SaveCIs(auditContext(c), caller(c), items)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"items": len(items), "changed": n})
}
