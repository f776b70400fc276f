package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/service"
)

type retireRequest struct {
	Reason string `json:"reason"`
}

// retireDefinition stops new processes of a definition, every version of it;
// running processes go on, and publishing a new version does not reinstate it.
// The store checks the reason (required, not blank) and records the change in
// the audit log. The role is checked before the body is read.
func (s *Server) retireDefinition(c echo.Context) error {
	if err := service.MayCheckDefinitions(caller(c)); err != nil {
		return err
	}
	var req retireRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := s.svc.RetireDefinition(c.Request().Context(), caller(c), c.Param("name"), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// reinstateDefinition lets a retired definition start processes again, of its
// latest version.
func (s *Server) reinstateDefinition(c echo.Context) error {
	r, err := s.svc.ReinstateDefinition(c.Request().Context(), caller(c), c.Param("name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}
