// Package console is itilflow's web console: pages for the people who use it
// — service-desk agents, approvers and CAB members, auditors, process owners —
// rendered on the server from the same operations as the JSON API (package
// service), so a page can never show or do what the API would refuse. Forms
// work without JavaScript; a little script only refreshes a page when its
// process changes, and checks a definition in the editor as it is typed.
// Every asset is embedded in the binary.
package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/service"
	"github.com/itilflow/itilflow/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// Config is what the console needs besides its dependencies.
type Config struct {
	// Secure marks cookies Secure: the console is served over TLS (directly or
	// behind a proxy that terminates it).
	Secure bool
	// SessionLifetime is how long a sign-in lasts at most; IdleTimeout how
	// long it lasts unused.
	SessionLifetime, IdleTimeout time.Duration
	// VerifyJWT, when set, lets people sign in with a JWT of the site's
	// identity provider as well as with an itilflow token.
	VerifyJWT func(token string) (engine.Actor, time.Time, error)
	// OIDC, when set, lets people sign in through the site's identity
	// provider with OpenID Connect.
	OIDC *OIDCConfig
}

// Console serves the pages. It is safe for concurrent use.
type Console struct {
	svc      *service.Service
	store    *store.Store
	cfg      Config
	sessions *scs.SessionManager
	texts    *texts
	pages    map[string]*template.Template
	log      *slog.Logger
	echo     *echo.Echo
	labels   labelCache
	oidc     *oidcClient // nil without OpenID Connect
}

// New returns the console with its routes.
func New(svc *service.Service, st *store.Store, cfg Config, log *slog.Logger) (*Console, error) {
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = 12 * time.Hour
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 2 * time.Hour
	}
	txt, err := loadTexts()
	if err != nil {
		return nil, err
	}
	sm := scs.New()
	sm.Store = st.Sessions()
	sm.Lifetime, sm.IdleTimeout = cfg.SessionLifetime, cfg.IdleTimeout
	sm.Cookie.Name = "itilflow_session"
	sm.Cookie.HttpOnly, sm.Cookie.SameSite, sm.Cookie.Secure = true, http.SameSiteLaxMode, cfg.Secure
	c := &Console{svc: svc, store: st, cfg: cfg, sessions: sm, texts: txt, log: log, echo: echo.New(),
		labels: labelCache{versions: map[string][]engine.Labels{}}}
	if cfg.OIDC != nil {
		if c.oidc, err = newOIDCClient(*cfg.OIDC); err != nil {
			return nil, err
		}
	}
	if c.pages, err = parsePages(txt); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

// KeepTidy removes expired sessions every hour until ctx ends.
func (c *Console) KeepTidy(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := c.store.Sessions().DeleteExpired(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("console: removing expired sessions", "error", err)
		} else if n > 0 {
			c.log.Debug("console: removed expired sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ServeHTTP makes the console an http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.echo.ServeHTTP(w, r) }

func (c *Console) routes() {
	e := c.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = c.handleError
	e.Use(middleware.RequestID())
	e.Use(middleware.Recover())
	e.Use(middleware.BodyLimit("1M"))
	e.Use(gateRequest)
	e.Use(echo.WrapMiddleware(c.sessions.LoadAndSave))
	// Every form carries the token of its session's CSRF cookie (double
	// submit): a page of another site cannot post as the signed-in person.
	e.Use(middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup: "form:_csrf", CookieName: "itilflow_csrf", CookiePath: "/",
		CookieHTTPOnly: true, CookieSameSite: http.SameSiteStrictMode, CookieSecure: c.cfg.Secure,
	}))
	e.Use(c.language)
	assets, _ := fs.Sub(assetFiles, "assets")
	e.GET("/assets/*", echo.WrapHandler(http.StripPrefix("/assets/", assetHandler(assets))))
	e.GET("/signin", c.signinPage)
	e.POST("/signin", c.signin)
	if c.oidc != nil {
		e.GET("/oidc/login", c.oidcLogin)
		e.GET("/oidc/callback", c.oidcCallback)
	}
	e.POST("/language", c.setLanguage)
	in := e.Group("", c.signedIn)
	in.GET("/", func(ec echo.Context) error { return ec.Redirect(http.StatusSeeOther, "/queue") })
	in.POST("/signout", c.signout)
	in.GET("/queue", c.queuePage)
	in.GET("/processes/:id", c.processPage)
	in.GET("/processes/:id/seq", c.processSeq)
	in.POST("/processes/:id/actions/:action", c.takeAction)
	in.POST("/processes/:id/comments", c.addNote)
	in.POST("/processes/:id/approvals/:step", c.vote)
	in.POST("/processes/:id/replay", c.replay)
	in.GET("/processes/:id/history.json", c.exportHistory)
	in.GET("/delegations", c.delegationsPage)
	in.POST("/delegations", c.delegate)
	in.POST("/delegations/:id/revoke", c.revokeDelegation)
	in.GET("/audit", c.auditPage)
	in.GET("/audit/export.csv", c.auditExport)
	in.GET("/reports", c.reportsPage)
	in.GET("/reports/:name", c.reportPage)
	in.GET("/reports/:name/export.csv", c.reportExport)
	in.GET("/start", c.startList)
	in.GET("/start/:definition", c.startPage)
	in.POST("/start/:definition", c.start)
	in.GET("/approvals", c.approvalsPage)
	in.GET("/cis/:id", c.ciPage)
	owner := in.Group("/definitions", c.definitionCheckers)
	owner.GET("", c.definitionsPage)
	owner.GET("/new", c.newPage)
	owner.POST("/new", c.editorPost)
	owner.GET("/:name", c.definitionPage)
	owner.GET("/:name/graph.svg", c.diagram)
	owner.GET("/:name/edit", c.editPage)
	owner.POST("/:name/edit", c.editorPost)
	owner.POST("/:name/retire", c.retire)
	owner.POST("/:name/reinstate", c.reinstate)
}

// assetHandler serves the embedded assets, cached for a day: they change
// only with the binary.
func assetHandler(assets fs.FS) http.Handler {
	files := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// handleError renders an error page: 404 for what does not exist or may not be
// seen, the error's message otherwise, never an internal detail.
func (c *Console) handleError(err error, ec echo.Context) {
	if ec.Response().Committed {
		return
	}
	status, message := http.StatusInternalServerError, ""
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status, message = he.Code, fmt.Sprint(he.Message)
	case engine.ErrorCode(err) != "":
		e := &engine.Error{}
		errors.As(err, &e)
		status, message = statusOf(e.Code), e.Message
		for _, d := range e.Details {
			message += "; " + d.Field + ": " + d.Message
		}
	}
	if status >= 500 {
		c.log.Error("console: internal error", "error", err, "path", ec.Request().URL.Path)
		message = ""
	}
	if status == http.StatusServiceUnavailable {
		ec.Response().Header().Set("Retry-After", "5")
	}
	if err := c.render(ec, status, "error", map[string]any{"Status": status, "Message": message}); err != nil {
		c.log.Error("console: rendering an error page", "error", err)
	}
}

// statusOf is the HTTP status of an error code, as the API answers it.
func statusOf(code string) int {
	switch code {
	case engine.EBADREQUEST:
		return http.StatusBadRequest
	case engine.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case engine.EFORBIDDEN:
		return http.StatusForbidden
	case engine.ENOTFOUND:
		return http.StatusNotFound
	case engine.ECONFLICT:
		return http.StatusConflict
	case engine.EINVALID:
		return http.StatusUnprocessableEntity
	case engine.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
