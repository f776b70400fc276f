package api

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/service"
)

type voteRequest struct {
	Decision string `json:"decision"`
	Comment  string `json:"comment"`
	// OnBehalfOf votes for an approver who has delegated to the caller.
	OnBehalfOf string `json:"on_behalf_of"`
	// Item is the process on a meeting's agenda the vote is for.
	Item string `json:"item"`
}

// vote casts the caller's vote in the approval step of a process.
func (s *Server) vote(c echo.Context) error {
	var req voteRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	out, err := s.svc.Vote(c.Request().Context(), caller(c), service.VoteRequest{Process: c.Param("id"), Step: c.Param("step"),
		Decision: req.Decision, Comment: req.Comment, OnBehalfOf: req.OnBehalfOf, Item: req.Item,
		IdempotencyKey: c.Request().Header.Get(headerIdempotencyKey)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// approvals lists the approvals where the caller may vote and has not: their
// inbox.
func (s *Server) approvals(c echo.Context) error {
	if status := c.QueryParam("status"); status != "" && status != "pending" {
		return &engine.Error{Code: engine.EINVALID, Message: "status is not valid", Details: []engine.Detail{{Field: "status", Message: fmt.Sprintf("only %q is supported, got %q", "pending", status)}}}
	}
	out, err := s.svc.Inbox(c.Request().Context(), caller(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
