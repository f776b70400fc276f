package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// A board (a CAB) decides the approvals of other processes at its meetings. A
// process's approval names the board (Approval.Board) instead of approvers. A
// meeting — a process of the board's definition — collects the processes
// waiting for it into its agenda (a collect step), its members vote item by
// item (Approval.Agenda), and each item's decision is released to its process
// as soon as it is reached; the process takes it as the outcome of its
// approval (Release).

// AgendaItem is a process on a meeting's agenda: what the members judge and
// who may not vote on it.
type AgendaItem struct {
	ID         string `json:"id"`
	Definition string `json:"definition"`
	// State is the state whose approval the meeting decides.
	State     string `json:"state"`
	Title     string `json:"title,omitempty"`
	StartedBy string `json:"started_by"`
	// Excluded are the people the process's own exclude expressions keep from
	// voting on it (its owner, its implementer).
	Excluded []string `json:"excluded,omitempty"`
}

// CollectRequest asks for the open processes of Process whose approval in
// their current state names Board.
type CollectRequest struct {
	Board   string `json:"board"`
	Process string `json:"process"`
	Into    string `json:"into"`
}

// Release is a meeting's decision on one process, which the process takes as
// the outcome of its approval in State.
type Release struct {
	Meeting string `json:"meeting"`
	Board   string `json:"board"`
	Process string `json:"process"`
	State   string `json:"state"`
	Outcome string `json:"outcome"`
	Tally   Tally  `json:"tally"`
	Votes   []Vote `json:"votes"`
}

// MaxAgenda is the most processes one meeting collects, the oldest first:
// enough for any CAB, and few enough that a meeting's votes, each with its
// comment, fit its history. The others wait for the next meeting.
const MaxAgenda = 250

// Events of boards and their meetings.
const (
	EventCollectRequested = "collect_requested"
	EventAgendaCollected  = "agenda_collected"
	EventDecisionReleased = "decision_released"
	EventReleaseRefused   = "release_refused"
)

func (in *Instance) requestCollect(def *Definition, c *Collect, at time.Time) {
	in.emit(Event{At: at, Type: EventCollectRequested, Actor: System.ID, Data: map[string]any{"process": c.Process}})
	in.Effects = append(in.Effects, Effect{ID: in.Seq, Collect: &CollectRequest{Board: def.Name, Process: c.Process, Into: c.Into}})
}

// CompleteCollect records the agenda a collect step gathered, or why it could
// not. A meeting whose vote is open on this agenda and finds nothing on it has
// nothing to decide: its approval is done.
func (in *Instance) CompleteCollect(def *Definition, id int64, items []AgendaItem, failure string, now time.Time) {
	e, ok := in.effect(id)
	if !ok || e.Collect == nil {
		return
	}
	c := e.Collect
	if failure != "" {
		in.stepFailed(now, "", map[string]any{"collect": c.Process, "error": failure, "effect": id})
		return
	}
	ids := make([]any, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	in.Agenda = items
	// An item collected again is open again: an earlier decision on it (its
	// release refused) does not decide this meeting's vote.
	keep := in.ItemDecisions[:0:0]
	for _, d := range in.ItemDecisions {
		if !contains(anyStrings(ids), d.Item) {
			keep = append(keep, d)
		}
	}
	in.ItemDecisions = keep
	in.setVar(c.Into, ids)
	in.emit(Event{At: now, Type: EventAgendaCollected, Actor: System.ID, Data: map[string]any{"process": c.Process, "into": c.Into, "items": items, "effect": id}})
	if in.Ended() {
		return
	}
	if st := def.State(in.State); st != nil && st.Approval != nil && st.Approval.Agenda == c.Into && len(items) == 0 {
		in.decideAgenda(st.Approval, OutcomeApproved, false, now)
		in.enter(def, st.Approval.Approved, now)
	}
	in.conditions(def, now)
}

// collecting reports whether a collect step into the variable is under way.
func (in *Instance) collecting(into string) bool {
	for _, e := range in.Effects {
		if e.Collect != nil && e.Collect.Into == into {
			return true
		}
	}
	return false
}

// agendaIDs returns the ids on the approval's agenda, in order.
func (in *Instance) agendaIDs(a *Approval) []string {
	list, _ := in.value(a.Agenda).([]any)
	return anyStrings(list)
}

func anyStrings(list []any) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// agendaItem returns the details of item when it is on the approval's agenda.
func (in *Instance) agendaItem(def *Definition, a *Approval, item string) *AgendaItem {
	if !contains(in.agendaIDs(a), item) {
		return nil
	}
	for i := range in.Agenda {
		if in.Agenda[i].ID == item {
			return &in.Agenda[i]
		}
	}
	if def.Level < LevelBoardDutiesRechecked {
		// Voted on as if nobody had a part in it, as it was then.
		return &AgendaItem{ID: item}
	}
	// Without its details nobody knows who has a part in it: not votable.
	return nil
}

func (in *Instance) itemDecision(item string) *Decision {
	for i := range in.ItemDecisions {
		if in.ItemDecisions[i].Item == item {
			return &in.ItemDecisions[i]
		}
	}
	return nil
}

func (in *Instance) itemVotes(item string) []Vote { return VotesOn(in.Votes, item) }

// VotesOn returns the votes on one agenda item.
func VotesOn(votes []Vote, item string) []Vote {
	var out []Vote
	for _, v := range votes {
		if v.Item == item {
			out = append(out, v)
		}
	}
	return out
}

// itemTally counts the votes on one item. With named approvers, the people
// with a part in the item are not in its electorate: they cannot vote on it.
func (in *Instance) itemTally(a *Approval, it *AgendaItem) Tally {
	electorate := in.electorateOf(a)
	if electorate != nil {
		var out []string
		for _, u := range electorate {
			if u != it.StartedBy && !contains(it.Excluded, u) {
				out = append(out, u)
			}
		}
		electorate = out
	}
	return a.tallyAmong(in.itemVotes(it.ID), electorate)
}

// agendaDone reports whether every item on the approval's agenda is decided.
func (in *Instance) agendaDone(a *Approval) bool {
	for _, id := range in.agendaIDs(a) {
		if in.itemDecision(id) == nil {
			return false
		}
	}
	return true
}

// checkItemVote decides whether req may vote on the agenda item it names.
func (in *Instance) checkItemVote(def *Definition, a *Approval, req ActionRequest) error {
	const op = "engine.Check"
	ids := in.agendaIDs(a)
	it := in.agendaItem(def, a, req.Item)
	switch {
	case req.Item == "" || it == nil:
		msg := "not on the agenda"
		if req.Item == "" {
			msg = "required: this vote is on an agenda"
		}
		return &Error{Code: EINVALID, Op: op, Message: fmt.Sprintf("the vote in %q is item by item; name one of the agenda's items (%s)", in.State, itemsText(ids)),
			Details: []Detail{{Field: "item", Message: msg}}}
	case in.itemDecision(req.Item) != nil:
		d := in.itemDecision(req.Item)
		return &Error{Code: ECONFLICT, Op: op, Message: fmt.Sprintf("%s was decided (%s) at %s", req.Item, d.Outcome, d.At.Format(time.RFC3339))}
	}
	for _, who := range []*Actor{&req.Actor, req.OnBehalfOf} {
		if who != nil && (who.ID == it.StartedBy || contains(it.Excluded, who.ID)) {
			return &Error{Code: EFORBIDDEN, Op: op, Message: fmt.Sprintf("separation of duties: %s has a part in %s and cannot vote on it", who.ID, it.ID)}
		}
	}
	voter := req.Actor
	if req.OnBehalfOf != nil {
		voter = *req.OnBehalfOf
	}
	// Who convened the meeting may vote at it; separation of duties is per item.
	return a.MayVote(voter, in.electorateOf(a), it.ID, "", in.itemVotes(req.Item))
}

func itemsText(ids []string) string {
	if len(ids) == 0 {
		return "the agenda is empty"
	}
	return strings.Join(ids, ", ")
}

// decideItem records the decision on one agenda item and asks for its release
// to the item's process.
func (in *Instance) decideItem(def *Definition, it *AgendaItem, t Tally, at time.Time) {
	in.ItemDecisions = append(in.ItemDecisions, Decision{State: in.State, Outcome: t.Outcome, Tally: t, At: at, Item: it.ID})
	in.emit(Event{At: at, Type: EventApprovalDecided, Actor: System.ID, Data: map[string]any{"item": it.ID, "outcome": t.Outcome, "tally": t}})
	in.Effects = append(in.Effects, Effect{ID: in.Seq, Release: &Release{Meeting: in.ID, Board: def.Name, Process: it.ID, State: it.State,
		Outcome: t.Outcome, Tally: t, Votes: in.itemVotes(it.ID)}})
}

// decideAgenda records the end of a vote on an agenda: approved when every
// item is decided, rejected when items are left undecided (deferred to a
// later meeting; nothing is released for them).
func (in *Instance) decideAgenda(a *Approval, outcome string, timeout bool, at time.Time) {
	var decided, deferred []string
	for _, id := range in.agendaIDs(a) {
		if in.itemDecision(id) != nil {
			decided = append(decided, id)
		} else {
			deferred = append(deferred, id)
		}
	}
	in.Decision = &Decision{State: in.State, Outcome: outcome, Timeout: timeout, At: at}
	data := map[string]any{"outcome": outcome, "decided": len(decided)}
	if len(deferred) > 0 {
		data["deferred"] = deferred
	}
	if timeout {
		data["timeout"] = true
	}
	in.emit(Event{At: at, Type: EventApprovalDecided, Actor: System.ID, From: in.State, To: a.target(outcome), Data: data})
}

// CompleteRelease records whether the item's process took the decision.
func (in *Instance) CompleteRelease(id int64, failure string, now time.Time) {
	e, ok := in.effect(id)
	if !ok || e.Release == nil {
		return
	}
	r := e.Release
	if failure != "" {
		in.emit(Event{At: now, Type: EventReleaseRefused, Actor: System.ID, Data: map[string]any{"process": r.Process, "outcome": r.Outcome, "error": failure, "effect": id}})
		return
	}
	in.emit(Event{At: now, Type: EventDecisionReleased, Actor: System.ID, Data: map[string]any{"process": r.Process, "outcome": r.Outcome, "effect": id}})
}

// CheckRelease decides, without changing anything, whether the process takes a
// meeting's decision: it must still wait in the approval the meeting decided,
// and that approval must name the meeting's board. From
// LevelBoardDutiesRechecked, the decision must name a board and count nobody
// with a part in the process.
func (in *Instance) CheckRelease(def *Definition, rel Release) error {
	return in.checkRelease(def, rel, def.Level >= LevelBoardDutiesRechecked)
}

// AdmitRelease decides whether a new release may be delivered: CheckRelease
// with the rules of LevelBoardDutiesRechecked whatever the definition's level.
// The workflow validates releases with it; like Admit, it never runs on
// replay, so old histories replay as recorded while every release from now on
// is held to separation of duties.
func (in *Instance) AdmitRelease(def *Definition, rel Release) error {
	return in.checkRelease(def, rel, true)
}

// checkRelease is CheckRelease, with the rules of LevelBoardDutiesRechecked
// when rechecked is set.
func (in *Instance) checkRelease(def *Definition, rel Release, rechecked bool) error {
	const op = "engine.Release"
	st := def.State(in.State)
	switch {
	case rel.Process != in.ID:
		return &Error{Code: EINVALID, Op: op, Message: fmt.Sprintf("the decision is for %s, not %s", rel.Process, in.ID)}
	case rel.Board == "" && rechecked:
		return &Error{Code: EINVALID, Op: op, Message: "the decision names no board"}
	case in.Ended():
		return &Error{Code: ECONFLICT, Op: op, Message: fmt.Sprintf("process %s has ended in state %q", in.ID, in.State)}
	case rel.State != in.State:
		return &Error{Code: ECONFLICT, Op: op, Message: fmt.Sprintf("process %s is in state %q, no longer in %q where the meeting decided it", in.ID, in.State, rel.State)}
	case st == nil || st.Approval == nil || st.Approval.Board != rel.Board:
		return &Error{Code: EFORBIDDEN, Op: op, Message: fmt.Sprintf("the approval of %s in %q is not decided by %s meetings", in.ID, in.State, rel.Board)}
	case rel.Outcome != OutcomeApproved && rel.Outcome != OutcomeRejected:
		return &Error{Code: EINVALID, Op: op, Message: fmt.Sprintf("outcome %q is not approved or rejected", rel.Outcome)}
	case !rechecked:
		return nil
	}
	// The meeting judged separation of duties on what it collected; the
	// change checks again on what it knows now, and fails closed.
	excluded, err := in.excluded(def, st.Approval, in.EnteredAt)
	if err != nil {
		return &Error{Code: ECONFLICT, Op: op, Message: fmt.Sprintf("separation of duties cannot be checked: %v", err)}
	}
	for _, v := range rel.Votes {
		for _, who := range []string{v.Actor, v.By} {
			if who != "" && (who == in.StartedBy || contains(excluded, who)) {
				return &Error{Code: EFORBIDDEN, Op: op, Message: fmt.Sprintf("separation of duties: %s has a part in %s, so the meeting's decision cannot count their vote", who, in.ID)}
			}
		}
	}
	return nil
}

// Release takes a meeting's decision as the outcome of the current approval:
// the votes cast at the meeting are recorded with it.
func (in *Instance) Release(def *Definition, rel Release, now time.Time) error {
	if err := in.CheckRelease(def, rel); err != nil {
		return err
	}
	a := def.State(in.State).Approval
	to := a.target(rel.Outcome)
	in.Votes = append([]Vote{}, rel.Votes...)
	in.Decision = &Decision{State: in.State, Outcome: rel.Outcome, Tally: rel.Tally, At: now, Board: rel.Meeting}
	in.emit(Event{At: now, Type: EventApprovalDecided, Actor: System.ID, From: in.State, To: to, Data: map[string]any{
		"outcome": rel.Outcome, "tally": rel.Tally, "board": rel.Board, "meeting": rel.Meeting, "votes": rel.Votes}})
	in.enter(def, to, now)
	in.conditions(def, now)
	return nil
}

// recordedRelease rebuilds the release a recorded approval_decided event of a
// board's decision took.
func recordedRelease(in *Instance, e Event) (Release, bool) {
	board, ok := e.Data["board"].(string)
	if !ok {
		return Release{}, false
	}
	rel := Release{Board: board, Process: in.ID, State: in.State}
	rel.Meeting, _ = e.Data["meeting"].(string)
	rel.Outcome, _ = e.Data["outcome"].(string)
	_ = remarshal(e.Data["tally"], &rel.Tally)
	_ = remarshal(e.Data["votes"], &rel.Votes)
	return rel, true
}

// remarshal converts a value decoded from JSON (maps and slices) into out.
func remarshal(v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
