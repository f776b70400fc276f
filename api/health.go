package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/workflowhealth"
)

type healthBody struct {
	// Status is ok; degraded when workflows keep failing (HTTP 200); or
	// unavailable when a dependency does not answer (HTTP 503).
	Status   string `json:"status"`
	Temporal string `json:"temporal"`
	Postgres string `json:"postgres"`
	// Workflows is what this instance's worker knows of workflows whose task
	// keeps failing; absent when the API runs without a worker.
	Workflows *workflowhealth.Report `json:"workflows,omitempty"`
}

// healthFailingLimit bounds the failing workflows /healthz lists; it counts
// them all.
const healthFailingLimit = 20

// UseWorkflowHealth has /healthz report the workflows whose task keeps failing
// on the worker mon watches.
func (s *Server) UseWorkflowHealth(mon *workflowhealth.Monitor) { s.workflowHealth = mon }

// healthCheckTimeout bounds each dependency's check; both run at once, so
// /healthz answers within it (load balancers commonly give a check 2s).
const healthCheckTimeout = 1500 * time.Millisecond

// health reports whether Temporal and PostgreSQL answer, with 503 if either does
// not, so load balancers route around an instance that cannot serve. Each check
// has its own deadline, so a hung dependency cannot delay the other's answer.
//
// Workflows whose task keeps failing (a panic, code that no longer replays its
// history) make the status degraded but the answer 200: the instance serves
// every other process, and the same code fails the same workflow on every
// replica, so a load balancer that pulled the instance would pull them all
// and turn one stuck process into an outage. Monitoring alerts on the status;
// `itilflow doctor` tells what to do.
func (s *Server) health(c echo.Context) error {
	ctx := c.Request().Context()
	out := healthBody{Status: "ok", Temporal: "ok", Postgres: "ok"}
	if s.workflowHealth != nil {
		r := s.workflowHealth.Report(healthFailingLimit)
		out.Workflows = &r
		if r.FailingTotal > 0 {
			out.Status = "degraded"
		}
	}
	check := func(f func(context.Context) error) <-chan error {
		done := make(chan error, 1)
		go func() {
			// Echo's Recover does not reach this goroutine.
			defer func() {
				if r := recover(); r != nil {
					done <- fmt.Errorf("the check failed: %v", r)
				}
			}()
			cctx, cancel := context.WithTimeout(ctx, healthCheckTimeout)
			defer cancel()
			done <- f(cctx)
		}()
		return done
	}
	temporal := check(func(ctx context.Context) error {
		_, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	})
	postgres := check(s.store.Ping)
	if err := <-temporal; err != nil {
		out.Status, out.Temporal = "unavailable", err.Error()
	}
	if err := <-postgres; err != nil {
		out.Status, out.Postgres = "unavailable", err.Error()
	}
	if out.Status == "unavailable" {
		return c.JSON(http.StatusServiceUnavailable, out)
	}
	return c.JSON(http.StatusOK, out)
}

// me says who the caller is: roles, groups and delegations.
func (s *Server) me(c echo.Context) error {
	out, err := s.svc.Me(c.Request().Context(), caller(c), time.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// notifications lists the notifications addressed to the caller or their
// roles, about processes they may see; ?unread=true only those not read.
func (s *Server) notifications(c echo.Context) error {
	limit, err := intParam(c, "limit", 50, 1, 500)
	if err != nil {
		return err
	}
	unread, err := boolParam(c, "unread")
	if err != nil {
		return err
	}
	out, err := s.svc.Notifications(c.Request().Context(), caller(c), unread != nil && *unread, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// readNotification marks a notification read for the caller. Only its
// addressee may: anyone else is told it does not exist (404), as the
// service's visibility rule says.
func (s *Server) readNotification(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return engine.Errorf(engine.ENOTFOUND, "no notification %q", c.Param("id"))
	}
	n, err := s.svc.MarkNotificationRead(c.Request().Context(), caller(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, n)
}
