package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"
)

type healthBody struct {
	Status   string `json:"status"`
	Temporal string `json:"temporal"`
	Postgres string `json:"postgres"`
}

// health reports whether Temporal and PostgreSQL answer, with 503 if either does
// not, so load balancers route around an instance that cannot serve.
func (s *Server) health(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	out := healthBody{Status: "ok", Temporal: "ok", Postgres: "ok"}
	if _, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		out.Status, out.Temporal = "unavailable", err.Error()
	}
	if err := s.store.Ping(ctx); err != nil {
		out.Status, out.Postgres = "unavailable", err.Error()
	}
	if out.Status != "ok" {
		return c.JSON(http.StatusServiceUnavailable, out)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) me(c echo.Context) error {
	return c.JSON(http.StatusOK, actorOf(c))
}

// notifications lists the notifications addressed to the caller or their
// roles, about processes they may see.
func (s *Server) notifications(c echo.Context) error {
	limit, err := intParam(c, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	out, err := s.svc.Notifications(c.Request().Context(), caller(c), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
