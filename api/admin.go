package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

// roleAdmin may manage users, their tokens and groups, and revoke anyone's
// delegation.
const roleAdmin = "admin"

// Bounds on what an administrator types.
const (
	maxName  = 200
	maxLabel = 100
)

// auditContext is the request's context, carrying its request id into the
// audit records of identity changes.
func auditContext(c echo.Context) context.Context {
	return store.WithRequestID(c.Request().Context(), requestID(c))
}

// checkName returns the problem with a required display name, or nil.
func checkName(name string) *engine.Detail {
	switch n := utf8.RuneCountInString(name); {
	case strings.TrimSpace(name) == "":
		return &engine.Detail{Field: "name", Message: "is required"}
	case n > maxName:
		return &engine.Detail{Field: "name", Message: fmt.Sprintf("is %d characters long; at most %d allowed", n, maxName)}
	}
	return nil
}

// listUsers returns every user with their roles, groups and the labels of their
// live tokens.
func (s *Server) listUsers(c echo.Context) error {
	if err := requireRole(c, roleAdmin); err != nil {
		return err
	}
	users, err := s.store.Users(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": users})
}

type userRequest struct {
	Name  string    `json:"name"`
	Roles *[]string `json:"roles"`
	// Email, Channel and Language say where and how notifications reach the
	// user; like name and roles they are replaced, so leaving one out clears it.
	Email    string `json:"email"`
	Channel  string `json:"channel"`
	Language string `json:"language"`
	// ReminderDigest sends the user's reminders in one e-mail a day.
	ReminderDigest bool `json:"reminder_digest"`
}

// putUser creates a user or replaces their name and roles.
func (s *Server) putUser(c echo.Context) error {
	if err := requireRole(c, roleAdmin); err != nil {
		return err
	}
	var req userRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var details []engine.Detail
	if d := checkName(req.Name); d != nil {
		details = append(details, *d)
	}
	if req.Roles == nil {
		// Roles are replaced: leaving them out must not strip them silently.
		details = append(details, engine.Detail{Field: "roles", Message: "is required; [] for none"})
	}
	if len(details) > 0 {
		return &engine.Error{Code: engine.EINVALID, Message: "user is not valid", Details: details}
	}
	ctx := auditContext(c)
	id := c.Param("id")
	if err := s.store.SaveUser(ctx, store.User{ID: id, Name: req.Name, Roles: *req.Roles,
		Email: strings.TrimSpace(req.Email), Channel: req.Channel, Language: req.Language, Digest: req.ReminderDigest}, actorOf(c).ID); err != nil {
		return err
	}
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

type tokenRequest struct {
	Label string `json:"label"`
}

// issuedToken is the only time a token is shown.
type issuedToken struct {
	User  string `json:"user"`
	Label string `json:"label"`
	Token string `json:"token"`
}

// issueToken makes a new token for a user and shows it once.
func (s *Server) issueToken(c echo.Context) error {
	if err := requireRole(c, roleAdmin); err != nil {
		return err
	}
	var req tokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	switch n := utf8.RuneCountInString(req.Label); {
	case strings.TrimSpace(req.Label) == "":
		return &engine.Error{Code: engine.EINVALID, Message: "token is not valid", Details: []engine.Detail{{Field: "label",
			Message: "is required: it says where the token is used, and revokes it alone"}}}
	case n > maxLabel:
		return &engine.Error{Code: engine.EINVALID, Message: "token is not valid", Details: []engine.Detail{{Field: "label",
			Message: fmt.Sprintf("is %d characters long; at most %d allowed", n, maxLabel)}}}
	}
	id := c.Param("id")
	token, err := s.store.IssueToken(auditContext(c), id, req.Label, actorOf(c).ID)
	if err != nil {
		return err
	}
	// A secret: no cache may keep it.
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusCreated, issuedToken{User: id, Label: req.Label, Token: token})
}

// revokeTokens revokes a user's tokens with a label, or all of them when no
// label is given.
func (s *Server) revokeTokens(c echo.Context) error {
	if err := requireRole(c, roleAdmin); err != nil {
		return err
	}
	label, labelled := c.QueryParams()["label"]
	if labelled && (len(label) != 1 || label[0] == "") {
		// An empty label would revoke every token: that must be asked for by
		// leaving the label out, not by an empty variable in a script.
		return &engine.Error{Code: engine.EBADREQUEST, Message: "bad query parameter", Details: []engine.Detail{{Field: "label",
			Message: "give one label that is not empty; leave it out to revoke every token of the user"}}}
	}
	ctx := auditContext(c)
	id := c.Param("id")
	if _, err := s.store.UserByID(ctx, id); err != nil {
		return err
	}
	which := ""
	if labelled {
		which = label[0]
	}
	n, err := s.store.RevokeTokens(ctx, id, which, actorOf(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"revoked": n})
}

// listGroups returns every group with its members.
func (s *Server) listGroups(c echo.Context) error {
	if err := requireRole(c, roleAdmin); err != nil {
		return err
	}
	groups, err := s.store.Groups(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": groups})
}

type groupRequest struct {
	Name    string    `json:"name"`
	Members *[]string `json:"members"`
}

// putGroup creates a group or replaces its name and members.
func (s *Server) putGroup(c echo.Context) error {
	if err := requireRole(c, roleAdmin); err != nil {
		return err
	}
	var req groupRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var details []engine.Detail
	if d := checkName(req.Name); d != nil {
		details = append(details, *d)
	}
	if req.Members == nil {
		details = append(details, engine.Detail{Field: "members", Message: "is required; [] for none"})
	}
	if len(details) > 0 {
		return &engine.Error{Code: engine.EINVALID, Message: "group is not valid", Details: details}
	}
	ctx := auditContext(c)
	id := c.Param("id")
	if err := s.store.SaveGroup(ctx, store.Group{ID: id, Name: req.Name, Members: *req.Members}, actorOf(c).ID); err != nil {
		return err
	}
	g, err := s.store.GroupByID(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, g)
}
