// Package api is itilflow's HTTP API (Echo): definitions, processes and actions
// under /api/v1, and /healthz. It authenticates callers by bearer token, reads from
// the PostgreSQL projection, and changes processes only through Temporal (workflow
// updates), so every change is decided by the workflow and recorded in its history.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.temporal.io/sdk/client"

	"github.com/itilflow/itilflow/service"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/workflowhealth"
)

// Server holds the API's dependencies.
type Server struct {
	svc      *service.Service
	store    *store.Store
	temporal client.Client
	log      *slog.Logger
	echo     *echo.Echo
	// jwt, when set, accepts JWTs from an identity provider (UseJWT).
	jwt *JWTVerifier
	// workflowHealth, when set, is what /healthz reports of workflows whose
	// task keeps failing (UseWorkflowHealth).
	workflowHealth *workflowhealth.Monitor
}

// New returns the API with its routes: the operations on processes and
// definitions through svc, identities, retirements and health through st.
func New(svc *service.Service, st *store.Store, tc client.Client, log *slog.Logger) *Server {
	s := &Server{svc: svc, store: st, temporal: tc, log: log, echo: echo.New()}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.RequestID())
	e.Use(middleware.Recover())
	e.Use(limitHeaders)
	e.Use(middleware.BodyLimit("1M"))
	e.Use(s.logRequests)
	e.Use(gateParams)

	e.GET("/healthz", s.health)
	// The schema is public: editors fetch it without a token.
	e.GET("/api/v1/schema/process.json", s.schema)
	e.GET("/api/v1/openapi.json", openAPIHandler())
	v1 := e.Group("/api/v1", s.authenticate)
	v1.GET("/me", s.me)
	v1.GET("/notifications", s.notifications)
	v1.POST("/notifications/:id/read", s.readNotification)
	v1.GET("/definitions", s.listDefinitions)
	v1.POST("/definitions/validate", s.validateDefinition)
	v1.GET("/definitions/:name", s.getDefinition)
	v1.GET("/definitions/:name/versions", s.listVersions)
	v1.GET("/definitions/:name/graph", s.graph)
	v1.GET("/definitions/:name/diff", s.diff)
	v1.PUT("/definitions/:name", s.putDefinition)
	v1.POST("/definitions/:name/retire", s.retireDefinition)
	v1.POST("/definitions/:name/reinstate", s.reinstateDefinition)
	v1.POST("/definitions/:name/processes", s.startProcess)
	v1.GET("/processes", s.listProcesses)
	// Deprecated: POST /definitions/:name/processes replaces it. Its
	// parameter is the definition's name but is called id, as the GET's: the
	// two share one path template, which the OpenAPI document must name once.
	v1.POST("/processes/:id", s.startProcessDeprecated)
	v1.GET("/processes/:id", s.getProcess)
	v1.POST("/processes/:id/actions/:action", s.takeAction)
	v1.POST("/processes/:id/comments", s.addComment)
	v1.POST("/processes/:id/approvals/:step", s.vote)
	v1.GET("/approvals", s.approvals)
	v1.POST("/delegations", s.addDelegation)
	v1.GET("/delegations", s.listDelegations)
	v1.DELETE("/delegations/:id", s.revokeDelegation)
	v1.GET("/processes/:id/history", s.getHistory)
	v1.GET("/processes/:id/timeline", s.getTimeline)
	v1.POST("/processes/:id/replay", s.replayProcess)
	v1.GET("/audit", s.listAudit)
	v1.GET("/audit/verify", s.verifyAudit)
	v1.GET("/reports", s.listReports)
	v1.GET("/reports/:name", s.getReport)
	v1.GET("/admin/users", s.listUsers)
	v1.PUT("/admin/users/:id", s.putUser)
	v1.POST("/admin/users/:id/tokens", s.issueToken)
	v1.DELETE("/admin/users/:id/tokens", s.revokeTokens)
	v1.GET("/admin/groups", s.listGroups)
	v1.PUT("/admin/groups/:id", s.putGroup)
	v1.GET("/cis", s.listCIs)
	v1.POST("/cis/import", s.importCIs)
	v1.GET("/cis/:id", s.getCI)
	v1.PUT("/cis/:id", s.putCI)
	return s
}

// UseMetrics wraps every request in mw (the metrics package's Middleware) before
// routing and every other middleware, so it sees the requests they refuse
// too, and the route each matched once it returns.
func (s *Server) UseMetrics(mw echo.MiddlewareFunc) { s.echo.Pre(mw) }

// ServeHTTP makes the API an http.Handler (tests use httptest with it).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req := c.Request()
		s.log.Debug("request", "method", req.Method, "path", req.URL.Path, "status", c.Response().Status,
			"duration", time.Since(start), "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		return nil
	}
}
