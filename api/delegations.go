package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/service"
	"github.com/itilflow/itilflow/store"
)

// maxDelegation bounds a delegation, so a forgotten one does not hand a vote
// away for good.
const maxDelegation = 90 * 24 * time.Hour

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
	now := time.Now().UTC()
	from := actorOf(c).ID
	starts := now
	if req.StartsAt != nil {
		starts = *req.StartsAt
	}
	var details []engine.Detail
	switch {
	case req.To == "":
		details = append(details, engine.Detail{Field: "to", Message: "is required: the user who votes for you"})
	case req.To == from:
		details = append(details, engine.Detail{Field: "to", Message: "cannot be yourself"})
	}
	switch {
	case req.EndsAt == nil:
		details = append(details, engine.Detail{Field: "ends_at", Message: "is required (RFC 3339): a delegation always ends"})
	case !req.EndsAt.After(starts) || !req.EndsAt.After(now):
		details = append(details, engine.Detail{Field: "ends_at", Message: "must be after starts_at and in the future"})
	case req.EndsAt.Sub(starts) > maxDelegation:
		details = append(details, engine.Detail{Field: "ends_at", Message: fmt.Sprintf("a delegation lasts at most %d days", int(maxDelegation.Hours()/24))})
	}
	reason, err := service.Comment("reason", req.Reason)
	if err != nil {
		return err
	}
	if len(details) > 0 {
		return &engine.Error{Code: engine.EINVALID, Message: "delegation is not valid", Details: details}
	}
	d, err := s.store.AddDelegation(c.Request().Context(), store.Delegation{From: from, To: req.To, StartsAt: starts, EndsAt: *req.EndsAt,
		Reason: reason, CreatedBy: from}, requestID(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}

// listDelegations shows the delegations the caller has given and received.
func (s *Server) listDelegations(c echo.Context) error {
	given, received, err := s.store.Delegations(c.Request().Context(), actorOf(c).ID, time.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"given": given, "received": received})
}

// revokeDelegation ends a delegation now, keeping it for the record. Only the
// delegator or an admin may: the delegate may not hand the votes back (they may
// simply not use them), and nobody else may take them away.
func (s *Server) revokeDelegation(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return engine.Errorf(engine.ENOTFOUND, "no delegation %q: ids are whole numbers", c.Param("id"))
	}
	d, err := s.store.DelegationByID(ctx, id)
	if err != nil {
		return err
	}
	actor := actorOf(c)
	if d.From != actor.ID && !isAdmin(c) {
		return engine.Errorf(engine.EFORBIDDEN, "delegation %d is %s's: only they or a user with the role %s may revoke it", id, d.From, roleAdmin)
	}
	d, err = s.store.RevokeDelegation(ctx, id, actor.ID, requestID(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}
