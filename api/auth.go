package api

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/service"
	"github.com/itilflow/itilflow/store"
)

const actorKey = "itilflow.actor"

// authenticate resolves the bearer token to a user and stores the actor (user id
// and roles) for the handlers; the workflow, not the API, decides what the actor
// may do.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// The scheme is case-insensitive (RFC 9110, section 11.1).
		scheme, token, _ := strings.Cut(strings.TrimSpace(c.Request().Header.Get(echo.HeaderAuthorization)), " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="itilflow"`)
			return engine.Errorf(engine.EUNAUTHORIZED, "missing bearer token: send Authorization: Bearer <token>")
		}
		var actor engine.Actor
		var err error
		if s.jwt != nil && strings.Count(token, ".") == 2 {
			// A JWT: the identity provider vouches for the user and roles.
			actor, err = s.jwt.Verify(token)
		} else {
			var u store.User
			u, err = s.store.UserByToken(c.Request().Context(), token)
			actor = engine.Actor{ID: u.ID, Roles: []string(u.Roles)}
		}
		if err == nil && store.Reserved(actor.ID) {
			// The system acts without role checks; no caller may be it, or
			// look like it in the audit log.
			err = engine.Errorf(engine.EUNAUTHORIZED, "the user id %q is reserved for the process engine", actor.ID)
		}
		if err != nil {
			if engine.ErrorCode(err) == engine.EUNAUTHORIZED {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="itilflow", error="invalid_token"`)
			}
			return err
		}
		c.Set(actorKey, actor)
		return next(c)
	}
}

func actorOf(c echo.Context) engine.Actor {
	a, _ := c.Get(actorKey).(engine.Actor)
	return a
}

// requireRole refuses callers that hold none of roles, naming them.
func requireRole(c echo.Context, roles ...string) error {
	return service.RequireRole(caller(c), roles...)
}

// caller is who makes the request, as the service layer takes it.
func caller(c echo.Context) service.Caller {
	return service.Caller{Actor: actorOf(c), RequestID: requestID(c)}
}

// requestID is the id the RequestID middleware gave this request; it goes into
// the audit log with every change the request makes.
func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
