package service

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// InboxItem is one approval waiting for the caller's vote.
type InboxItem struct {
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

// Inbox is what waits for a caller's vote.
type Inbox struct {
	Approvals []InboxItem `json:"approvals"`
	Total     int         `json:"total"`
}

// Inbox lists the approvals, among the processes the caller may see, where
// the caller may vote — for themselves or for whoever delegated to them now —
// and has not.
func (s *Service) Inbox(ctx context.Context, caller Caller) (Inbox, error) {
	views, err := s.store.OpenApprovalsFor(ctx, caller.viewer())
	if err != nil {
		return Inbox{}, err
	}
	from, err := s.delegators(ctx, caller.ID)
	if err != nil {
		return Inbox{}, err
	}
	voters := append([]engine.Actor{caller.Actor}, from...)
	defs := map[string]*engine.Definition{}
	items := []InboxItem{}
	for _, v := range views {
		key := fmt.Sprintf("%s@%d", v.Definition, v.Version)
		def, ok := defs[key]
		if !ok {
			d, err := s.store.Definition(ctx, v.Definition, v.Version)
			if err != nil {
				return Inbox{}, err
			}
			def = &d.Compiled
			defs[key] = def
		}
		items = append(items, inboxItems(def, v, caller.Actor, voters)...)
	}
	return Inbox{Approvals: items, Total: len(items)}, nil
}

// inboxItems are the entries of one process in the inbox of actor, who votes
// as each of voters (themselves first, then their delegators).
func inboxItems(def *engine.Definition, v engine.View, actor engine.Actor, voters []engine.Actor) []InboxItem {
	st := def.State(v.State)
	if st == nil || st.Approval == nil || v.Approval == nil || st.Approval.Board != "" {
		return nil
	}
	a := st.Approval
	// Whoever convened a meeting votes at it: there, separation of duties is
	// per item.
	convenor := a.Agenda != "" && v.StartedBy == actor.ID
	if (v.StartedBy == actor.ID && !convenor) || slices.Contains(v.Approval.Excluded, actor.ID) {
		return nil
	}
	if a.NeedsResolving() && v.Approval.Electorate == nil {
		return nil // not open to votes until its approvers are resolved
	}
	var out []InboxItem
	for i, voter := range voters {
		item := InboxItem{ID: v.ID, Definition: v.Definition, Title: v.Input["title"], Step: v.State, StartedBy: v.StartedBy,
			StartedAt: v.StartedAt, Due: v.Approval.Due, Tally: v.Approval.Tally, Votes: v.Approval.Votes, Input: v.Input}
		if i > 0 {
			item.OnBehalfOf = voter.ID
		}
		if a.Agenda == "" {
			if a.MayVote(voter, v.Approval.Electorate, v.ID, v.StartedBy, v.Approval.Votes) == nil && engine.CastBy(v.Approval.Votes, actor.ID, "") == nil {
				out = append(out, item)
			}
			continue
		}
		// A meeting: one entry per change on its agenda still open to them.
		for _, it := range v.Approval.Items {
			if it.Tally.Outcome != "" || hasPart(it, voter.ID) || hasPart(it, actor.ID) || engine.CastBy(v.Approval.Votes, actor.ID, it.ID) != nil ||
				a.MayVote(voter, v.Approval.Electorate, it.ID, "", engine.VotesOn(v.Approval.Votes, it.ID)) != nil {
				continue
			}
			entry := item
			entry.Item, entry.Tally = &it, it.Tally
			out = append(out, entry)
		}
	}
	return out
}

// hasPart reports whether who started the agenda item or is excluded from it.
func hasPart(it engine.ItemView, who string) bool {
	return who == it.StartedBy || slices.Contains(it.Excluded, who)
}
