package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/service"
	"github.com/itilflow/itilflow/store"
)

// A sign-in keeps, in the server-side session, what proves who signed in: the
// digest of their itilflow token (it authenticates nobody, and is checked
// again at every request, so revoking the token signs them out and a change
// of roles applies at once), or the identity a JWT vouched for, until it
// expires.
const (
	sessionDigest  = "token_digest"
	sessionJWTUser = "jwt_user"
	sessionJWTRole = "jwt_roles"
	// sessionJWTExp is in Unix seconds: scs encodes values with gob, which
	// knows no time.Time in an interface unless it is registered globally.
	sessionJWTExp = "jwt_expiry"
	whoKey        = "itilflow.who"
)

// who is the signed-in person.
type who struct {
	engine.Actor
	Name string
}

// Auditor reports whether they read the audit log (the menu offers it).
func (w *who) Auditor() bool { return service.ReadsAudit(service.Caller{Actor: w.Actor}) }

// ChecksDefinitions reports whether they may read, check and (process
// owners) publish definitions here (the menu offers the pages).
func (w *who) ChecksDefinitions() bool {
	return service.MayCheckDefinitions(service.Caller{Actor: w.Actor}) == nil
}

// ReadsReports reports whether they read the reports (the menu offers them).
func (w *who) ReadsReports() bool { return service.ReadsReports(service.Caller{Actor: w.Actor}) }

func (c *Console) whoOf(ec echo.Context) *who {
	w, _ := ec.Get(whoKey).(*who)
	return w
}

// caller is the signed-in person as the service takes them, with the
// request's id for the audit log.
func (c *Console) caller(ec echo.Context) service.Caller {
	return service.Caller{Actor: c.whoOf(ec).Actor, RequestID: ec.Response().Header().Get(echo.HeaderXRequestID)}
}

// signedIn lets a request through when its session names someone who may
// still sign in, and sends anyone else to the sign-in page.
func (c *Console) signedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		ctx := ec.Request().Context()
		var w *who
		switch {
		case c.sessions.Exists(ctx, sessionDigest):
			u, err := c.store.UserByTokenDigest(ctx, c.sessions.GetString(ctx, sessionDigest))
			if engine.ErrorCode(err) == engine.EUNAUTHORIZED {
				break // the token was revoked
			}
			if err != nil {
				return err
			}
			w = &who{Actor: engine.Actor{ID: u.ID, Roles: []string(u.Roles)}, Name: u.Name}
		case c.sessions.Exists(ctx, sessionJWTUser):
			if exp := time.Unix(c.sessions.GetInt64(ctx, sessionJWTExp), 0); time.Now().Before(exp) {
				w = &who{Actor: engine.Actor{ID: c.sessions.GetString(ctx, sessionJWTUser),
					Roles: strings.Fields(c.sessions.GetString(ctx, sessionJWTRole))}}
				w.Name = w.ID
			}
		}
		if w == nil {
			c.sessions.Destroy(ctx)
			return ec.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(ec.Request().URL.RequestURI()))
		}
		ec.Set(whoKey, w)
		return next(ec)
	}
}

func (c *Console) signinPage(ec echo.Context) error {
	return c.render(ec, http.StatusOK, "signin", map[string]any{"Next": safeNext(ec.QueryParam("next")), "OIDC": c.oidcName()})
}

// signin checks a token — an itilflow token, or a JWT when the site accepts
// them — and starts a session for the person it names.
func (c *Console) signin(ec echo.Context) error {
	ctx := ec.Request().Context()
	token := strings.TrimSpace(ec.FormValue("token"))
	next := safeNext(ec.FormValue("next"))
	refuse := func() error {
		return c.render(ec, http.StatusUnauthorized, "signin", map[string]any{"Next": next, "Failed": true, "OIDC": c.oidcName()})
	}
	if token == "" {
		return refuse()
	}
	// A new session: whatever a visitor held before signing in is not theirs.
	if err := c.sessions.RenewToken(ctx); err != nil {
		return err
	}
	if c.cfg.VerifyJWT != nil && strings.Count(token, ".") == 2 {
		actor, exp, err := c.cfg.VerifyJWT(token)
		if err != nil || actor.ID == engine.System.ID {
			return refuse()
		}
		c.sessions.Put(ctx, sessionJWTUser, actor.ID)
		c.sessions.Put(ctx, sessionJWTRole, strings.Join(actor.Roles, " "))
		c.sessions.Put(ctx, sessionJWTExp, exp.Unix())
		return ec.Redirect(http.StatusSeeOther, next)
	}
	u, err := c.store.UserByToken(ctx, token)
	switch {
	case engine.ErrorCode(err) == engine.EUNAUTHORIZED, err == nil && u.ID == engine.System.ID:
		return refuse()
	case err != nil:
		return err
	}
	c.sessions.Put(ctx, sessionDigest, store.TokenDigest(token))
	return ec.Redirect(http.StatusSeeOther, next)
}

func (c *Console) signout(ec echo.Context) error {
	if err := c.sessions.Destroy(ec.Request().Context()); err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, "/signin")
}

// oidcName is the name of the identity provider the sign-in page offers, or
// "" when there is none.
func (c *Console) oidcName() string {
	if c.oidc == nil {
		return ""
	}
	return c.oidc.cfg.Name
}

// safeNext is where to go after signing in: a path of this site only.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/queue"
	}
	return next
}
