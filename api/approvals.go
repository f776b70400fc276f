package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
)

// Approval outcomes as the vote endpoint reports them.
const outcomePending = "pending"

type voteRequest struct {
	Decision string `json:"decision"`
	Comment  string `json:"comment"`
	// OnBehalfOf votes for an approver who has delegated to the caller.
	OnBehalfOf string `json:"on_behalf_of"`
	// Item is the process on a meeting's agenda the vote is for.
	Item string `json:"item"`
}

// voteBody answers a vote: the tally after it and the outcome, which is pending
// until the vote decides the approval.
type voteBody struct {
	ID       string       `json:"id"`
	Step     string       `json:"step"`
	Decision string       `json:"decision"`
	For      string       `json:"on_behalf_of,omitempty"`
	Item     string       `json:"item,omitempty"`
	Outcome  string       `json:"outcome"`
	Tally    engine.Tally `json:"tally"`
	State    string       `json:"state"`
	View     engine.View  `json:"process"`
}

// maxComment bounds comments on actions and votes.
const maxComment = 10000

func checkComment(comment string) error {
	if n := utf8.RuneCountInString(comment); n > maxComment {
		return &engine.Error{Code: engine.EINVALID, Message: "comment too long", Details: []engine.Detail{{Field: "comment", Message: fmt.Sprintf("is %d characters long; at most %d allowed", n, maxComment)}}}
	}
	return nil
}

// vote casts the caller's vote in the approval step of a process. The workflow
// decides whether they may (approver, separation of duties, one vote each, not
// after the decision); votes arriving together are applied one at a time, so
// exactly one of them decides.
func (s *Server) vote(c echo.Context) error {
	ctx := c.Request().Context()
	var req voteRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Decision != engine.ActionApprove && req.Decision != engine.ActionReject {
		return &engine.Error{Code: engine.EINVALID, Message: "decision is not valid", Details: []engine.Detail{{Field: "decision", Message: fmt.Sprintf("must be %q or %q, got %q", engine.ActionApprove, engine.ActionReject, req.Decision)}}}
	}
	if err := checkComment(req.Comment); err != nil {
		return err
	}
	id, step := c.Param("id"), c.Param("step")
	v, err := s.store.Process(ctx, id)
	if err != nil {
		return err
	}
	d, err := s.store.Definition(ctx, v.Definition, v.Version)
	if err != nil {
		return err
	}
	if st := d.Compiled.State(step); st == nil || st.Approval == nil {
		return engine.Errorf(engine.ENOTFOUND, "process %s (%s) has no approval step %q", id, v.Definition, step)
	}
	areq := engine.ActionRequest{Action: req.Decision, State: step, Actor: actorOf(c), Comment: req.Comment, RequestID: requestID(c), Item: req.Item}
	if req.OnBehalfOf != "" {
		if areq.OnBehalfOf, err = s.delegator(c, req.OnBehalfOf); err != nil {
			return err
		}
	}
	res, err := s.act(c, id, areq)
	if err != nil {
		// A process that has ended cannot say why itself: the record can.
		if ended := s.ended(ctx, id); !ended || engine.ErrorCode(err) != engine.ECONFLICT {
			return err
		}
		if e, ok, derr := s.decision(ctx, id, step); derr == nil && ok {
			return &engine.Error{Code: engine.ECONFLICT, Message: fmt.Sprintf("the approval in %q was decided (%v) at %s; no more votes count",
				step, e.Data["outcome"], e.At.UTC().Format(time.RFC3339)), Allowed: []string{}}
		}
		return err
	}
	// The tally as this vote left it is in the vote's own event: the view may
	// already show later votes, or the next state.
	body := voteBody{ID: id, Step: step, Decision: req.Decision, For: req.OnBehalfOf, Item: req.Item, Outcome: outcomePending, State: res.View.State, View: res.View}
	if a := res.View.Approval; a != nil && res.View.State == step && req.Item == "" {
		body.Tally = a.Tally
	}
	events, err := s.store.Events(ctx, id)
	if err != nil {
		return err
	}
	actor := actorOf(c).ID
	for _, e := range events {
		if e.Type == engine.EventAction && e.Actor == actor && e.Action == req.Decision && e.From == step && e.Data["tally"] != nil &&
			(req.OnBehalfOf == "" || e.Data["on_behalf_of"] == req.OnBehalfOf) && (req.Item == "" || e.Data["item"] == req.Item) {
			body.Tally = tallyOf(e.Data["tally"])
		}
	}
	if body.Tally.Outcome != "" {
		body.Outcome = body.Tally.Outcome
	}
	return c.JSON(http.StatusOK, body)
}

// ended reports whether the stored process has ended.
func (s *Server) ended(ctx context.Context, id string) bool {
	v, err := s.store.Process(ctx, id)
	return err == nil && v.EndedAt != nil
}

// decision returns the last decision of the approval in step, from the stored
// events.
func (s *Server) decision(ctx context.Context, id, step string) (engine.Event, bool, error) {
	events, err := s.store.Events(ctx, id)
	if err != nil {
		return engine.Event{}, false, err
	}
	var last engine.Event
	found := false
	for _, e := range events {
		if e.Type == engine.EventApprovalDecided && e.From == step {
			last, found = e, true
		}
	}
	return last, found, nil
}

// hasPart reports whether who started the agenda item or is excluded from it.
func hasPart(it engine.ItemView, who string) bool {
	return who == it.StartedBy || slices.Contains(it.Excluded, who)
}

// tallyOf reads a tally back from an event's data (a JSON object).
func tallyOf(v any) engine.Tally {
	var t engine.Tally
	if b, err := json.Marshal(v); err == nil {
		_ = json.Unmarshal(b, &t)
	}
	return t
}

// inboxItem is one approval waiting for the caller's vote.
type inboxItem struct {
	ID         string         `json:"id"`
	Definition string         `json:"definition"`
	Title      any            `json:"title,omitempty"`
	Step       string         `json:"step"`
	StartedBy  string         `json:"started_by"`
	StartedAt  time.Time      `json:"started_at"`
	Due        *time.Time     `json:"due,omitempty"`
	Tally      engine.Tally   `json:"tally"`
	Votes      []engine.Vote  `json:"votes"`
	Input      map[string]any `json:"input"`
	// OnBehalfOf is set when the caller may vote here only for an approver
	// who delegated to them.
	OnBehalfOf string `json:"on_behalf_of,omitempty"`
	// Item is the change on a meeting's agenda to vote on, with its tally
	// (Tally is then the item's).
	Item *engine.ItemView `json:"item,omitempty"`
}

// approvals lists the approvals where the caller may vote and has not: their
// inbox.
func (s *Server) approvals(c echo.Context) error {
	ctx := c.Request().Context()
	if status := c.QueryParam("status"); status != "" && status != outcomePending {
		return &engine.Error{Code: engine.EINVALID, Message: "status is not valid", Details: []engine.Detail{{Field: "status", Message: fmt.Sprintf("only %q is supported, got %q", outcomePending, status)}}}
	}
	views, err := s.store.OpenApprovals(ctx)
	if err != nil {
		return err
	}
	actor := actorOf(c)
	// The caller votes for themselves, and for whoever delegated to them now.
	from, err := s.delegators(ctx, actor.ID)
	if err != nil {
		return err
	}
	voters := append([]engine.Actor{actor}, from...)
	defs := map[string]*engine.Definition{}
	items := []inboxItem{}
	for _, v := range views {
		key := fmt.Sprintf("%s@%d", v.Definition, v.Version)
		def, ok := defs[key]
		if !ok {
			d, err := s.store.Definition(ctx, v.Definition, v.Version)
			if err != nil {
				return err
			}
			def = &d.Compiled
			defs[key] = def
		}
		st := def.State(v.State)
		// Whoever convened a meeting votes at it: there, separation of duties is
		// per item.
		convenor := st != nil && st.Approval != nil && st.Approval.Agenda != "" && v.StartedBy == actor.ID
		if st == nil || st.Approval == nil || v.Approval == nil || st.Approval.Board != "" || (v.StartedBy == actor.ID && !convenor) ||
			slices.Contains(v.Approval.Excluded, actor.ID) {
			continue
		}
		a := st.Approval
		if a.NeedsResolving() && v.Approval.Electorate == nil {
			continue // not open to votes until its approvers are resolved
		}
		for i, voter := range voters {
			item := inboxItem{ID: v.ID, Definition: v.Definition, Title: v.Input["title"], Step: v.State, StartedBy: v.StartedBy,
				StartedAt: v.StartedAt, Due: v.Approval.Due, Tally: v.Approval.Tally, Votes: v.Approval.Votes, Input: v.Input}
			if i > 0 {
				item.OnBehalfOf = voter.ID
			}
			if a.Agenda == "" {
				if a.MayVote(voter, v.Approval.Electorate, v.ID, v.StartedBy, v.Approval.Votes) == nil {
					items = append(items, item)
				}
				continue
			}
			// A meeting: one entry per change on its agenda still open to them.
			for _, it := range v.Approval.Items {
				if it.Tally.Outcome != "" || hasPart(it, voter.ID) || hasPart(it, actor.ID) ||
					a.MayVote(voter, v.Approval.Electorate, it.ID, "", engine.VotesOn(v.Approval.Votes, it.ID)) != nil {
					continue
				}
				entry := item
				entry.Item, entry.Tally = &it, it.Tally
				items = append(items, entry)
			}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"approvals": items, "total": len(items)})
}
