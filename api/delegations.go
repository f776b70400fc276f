package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/service"
)

type delegationRequest struct {
	To       string     `json:"to"`
	StartsAt *time.Time `json:"starts_at"`
	EndsAt   *time.Time `json:"ends_at"`
	Reason   string     `json:"reason"`
}

// addDelegation hands the caller's votes to another user for a period.
func (s *Server) addDelegation(c echo.Context) error {
	var req delegationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	d, err := s.svc.AddDelegation(c.Request().Context(), caller(c), service.DelegationRequest(req), time.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}

// listDelegations shows the delegations the caller has given and received.
func (s *Server) listDelegations(c echo.Context) error {
	given, received, err := s.svc.Delegations(c.Request().Context(), caller(c), time.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"given": given, "received": received})
}

// revokeDelegation ends a delegation now (see service.RevokeDelegation).
func (s *Server) revokeDelegation(c echo.Context) error {
	d, err := s.svc.RevokeDelegation(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}
