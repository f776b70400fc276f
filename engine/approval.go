package engine

import (
	"fmt"
	"strings"
	"time"
)

// Approval outcomes.
const (
	OutcomeApproved = "approved"
	OutcomeRejected = "rejected"
	// OutcomeBypassed is a break-glass: the vote was skipped, with a reason.
	OutcomeBypassed = "bypassed"
)

// Vote is one approver's decision in the current state's approval.
type Vote struct {
	Actor    string    `json:"actor"`
	Decision string    `json:"decision"` // approve or reject
	Comment  string    `json:"comment,omitempty"`
	At       time.Time `json:"at"`
	// By is the delegate who cast the vote for Actor, if it was not Actor.
	By string `json:"by,omitempty"`
	// Item is the agenda item the vote is for, in an approval with an agenda.
	Item string `json:"item,omitempty"`
}

// Tally counts the votes of an approval. Electorate is the number of approvers
// when they are named (zero when they are roles); Needed is how many approvals
// decide it.
type Tally struct {
	Approve    int    `json:"approve"`
	Reject     int    `json:"reject"`
	Electorate int    `json:"electorate,omitempty"`
	Needed     int    `json:"needed"`
	Outcome    string `json:"outcome,omitempty"`
	// Missing lists the mandatory approvers who have not approved.
	Missing []string `json:"missing,omitempty"`
}

// electorate returns the named approvers, or nil when roles vote (how many
// people hold a role is not known to the process).
func (a *Approval) electorate() []string {
	if len(a.Roles) > 0 {
		return nil
	}
	return a.named()
}

// named returns the users and mandatory approvers, once each (not the users
// given by expressions).
func (a *Approval) named() []string {
	var out []string
	for _, u := range append(append([]string{}, a.Users...), a.Mandatory...) {
		if _, expr := isExpr(u); !expr && !contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// needed returns how many approvals decide the approval among n approvers.
func (a *Approval) needed(n int) int {
	switch a.Quorum {
	case QuorumAll:
		return n
	case QuorumMajority:
		return n/2 + 1
	case QuorumCount:
		return a.Count
	case QuorumPercent:
		return (a.Percent*n + 99) / 100
	}
	return 1
}

// tally counts votes and decides: a mandatory approver's rejection is a veto;
// approval needs Needed approvals and every mandatory approver; with any or all,
// one rejection rejects; otherwise the approval is rejected once the approvals
// can no longer reach Needed (or, when roles vote, on Needed rejections).
func (a *Approval) tally(votes []Vote) Tally {
	return a.tallyAmong(votes, a.electorate())
}

// tallyAmong is tally with the given electorate: an agenda item's leaves out
// the people with a part in it.
func (a *Approval) tallyAmong(votes []Vote, electorate []string) Tally {
	// However few the approvers, a decision takes at least one approval.
	t := Tally{Electorate: len(electorate), Needed: max(1, a.needed(len(electorate)))}
	veto := false
	for _, v := range votes {
		if v.Decision == ActionApprove {
			t.Approve++
			continue
		}
		t.Reject++
		veto = veto || contains(a.Mandatory, v.Actor)
	}
	for _, m := range a.Mandatory {
		if electorate != nil && !contains(electorate, m) {
			continue // kept from this vote by separation of duties
		}
		if !votedYes(votes, m) {
			t.Missing = append(t.Missing, m)
		}
	}
	switch {
	case veto:
		t.Outcome = OutcomeRejected
	case t.Approve >= t.Needed && len(t.Missing) == 0:
		t.Outcome = OutcomeApproved
	case t.Reject > 0 && (a.Quorum == QuorumAny || a.Quorum == QuorumAll):
		t.Outcome = OutcomeRejected
	case t.Electorate > 0 && t.Electorate-t.Reject < t.Needed:
		t.Outcome = OutcomeRejected
	case t.Electorate == 0 && t.Reject >= t.Needed:
		t.Outcome = OutcomeRejected
	}
	return t
}

// votesOf returns the votes actor has cast in the current approval.
func (in *Instance) votesOf(actor string) []Vote {
	var out []Vote
	for _, v := range in.Votes {
		if v.Actor == actor {
			out = append(out, v)
		}
	}
	return out
}

func votedYes(votes []Vote, actor string) bool {
	for _, v := range votes {
		if v.Actor == actor && v.Decision == ActionApprove {
			return true
		}
	}
	return false
}

// Decision is how an approval ended: its state, outcome and final tally.
type Decision struct {
	State   string    `json:"state"`
	Outcome string    `json:"outcome"`
	Tally   Tally     `json:"tally"`
	Timeout bool      `json:"timeout,omitempty"`
	At      time.Time `json:"at"`
	// Item is the agenda item decided, in an approval with an agenda.
	Item string `json:"item,omitempty"`
	// Board is the meeting process that decided an approval with a board.
	Board string `json:"board,omitempty"`
}

// decide records the outcome of the current state's approval, which leads to
// state to.
func (in *Instance) decide(a *Approval, outcome string, timeout bool, to string, at time.Time) {
	t := in.tally(a)
	in.Decision = &Decision{State: in.State, Outcome: outcome, Tally: t, Timeout: timeout, At: at}
	data := map[string]any{"outcome": outcome, "tally": t}
	if timeout {
		data["timeout"] = true
	}
	in.emit(Event{At: at, Type: EventApprovalDecided, Actor: System.ID, From: in.State, To: to, Data: data})
}

// target is the state an outcome leads to.
func (a *Approval) target(outcome string) string {
	if outcome == OutcomeApproved {
		return a.Approved
	}
	return a.Rejected
}

// checkVote decides whether the request's actor may vote now in the current
// approval — for themselves, or for the approver who delegated to them, in which
// case separation of duties holds for both.
func (in *Instance) checkVote(def *Definition, a *Approval, req ActionRequest, now time.Time) error {
	const op = "engine.Check"
	switch {
	case a.Board != "":
		return &Error{Code: ECONFLICT, Op: op, Message: fmt.Sprintf("the approval of %s in %q is decided at a %s meeting: its members vote there, item by item", in.ID, in.State, a.Board)}
	case a.NeedsResolving() && in.Electorate == nil:
		return &Error{Code: EUNAVAILABLE, Op: op, Message: fmt.Sprintf("the approvers of the vote in %q are being resolved from the directory; try again shortly", in.State)}
	case a.Agenda == "" && req.Item != "":
		return &Error{Code: EINVALID, Op: op, Message: fmt.Sprintf("the approval in %q has no agenda", in.State),
			Details: []Detail{{Field: "item", Message: "leave it out: the vote is on the whole process"}}}
	}
	if err := in.dutiesAllow(def, a, now, "vote on it", &req.Actor, req.OnBehalfOf); err != nil {
		return err
	}
	if def.Level >= LevelOneVotePerPerson {
		if err := oneVoteEach(in.Votes, req); err != nil {
			return err
		}
	}
	if a.Agenda != "" {
		return in.checkItemVote(def, a, req)
	}
	if req.OnBehalfOf == nil {
		return a.MayVote(req.Actor, in.electorateOf(a), in.ID, in.StartedBy, in.Votes)
	}
	if req.Actor.ID == in.StartedBy {
		return &Error{Code: EFORBIDDEN, Op: "engine.Check", Message: fmt.Sprintf("separation of duties: %s started %s and cannot vote on it, not even for %s", req.Actor.ID, in.ID, req.OnBehalfOf.ID)}
	}
	return a.MayVote(*req.OnBehalfOf, in.electorateOf(a), in.ID, in.StartedBy, in.Votes)
}

// oneVoteEach refuses a vote from a person who has already cast one on the
// same item (the whole approval, or one agenda item), for themselves or for
// someone who delegated to them: a delegate who is also an approver would
// otherwise cast two votes, and a 2-of-2 approval would be decided by one
// person. The first vote a person casts stands; later ones are refused.
func oneVoteEach(votes []Vote, req ActionRequest) error {
	v := CastBy(votes, req.Actor.ID, req.Item)
	if v == nil {
		return nil
	}
	cast := "their own vote"
	if v.By != "" {
		cast = "the vote of " + v.Actor
	}
	return &Error{Code: ECONFLICT, Op: "engine.Check", Message: fmt.Sprintf("%s has already cast %s (%s at %s): one person, one vote",
		req.Actor.ID, cast, v.Decision, v.At.Format(time.RFC3339))}
}

// CastBy returns the vote person cast on item ("" for the whole approval),
// for themselves or as a delegate, or nil.
func CastBy(votes []Vote, person, item string) *Vote {
	for i, v := range votes {
		if v.Item == item && (v.By == person || (v.By == "" && v.Actor == person)) {
			return &votes[i]
		}
	}
	return nil
}

// dutiesAllow refuses people the approval's exclude expressions name (for
// what), and fails closed when they cannot be evaluated: who may act is then
// unknown, so nobody does until it is.
func (in *Instance) dutiesAllow(def *Definition, a *Approval, now time.Time, what string, people ...*Actor) error {
	excluded, err := in.excluded(def, a, now)
	if err != nil {
		return &Error{Code: ECONFLICT, Op: "engine.Check", Message: fmt.Sprintf("separation of duties cannot be checked: %v", err)}
	}
	for _, who := range people {
		if who != nil && contains(excluded, who.ID) {
			return &Error{Code: EFORBIDDEN, Op: "engine.Check", Message: fmt.Sprintf("separation of duties: %s has a part in %s and cannot %s", who.ID, in.ID, what)}
		}
	}
	return nil
}

// MayVote decides whether actor may vote in the approval of process, begun by
// startedBy, given its electorate (the people resolved when the vote opened,
// for an approval that NeedsResolving) and the votes so far: an approver by
// role or name, not the person who started the process (separation of
// duties), and only once. The workflow decides with it; the approvals inbox
// uses it to list what is yours.
func (a *Approval) MayVote(actor Actor, electorate []string, process, startedBy string, votes []Vote) error {
	const op = "engine.Check"
	named := contains(a.Users, actor.ID) || contains(a.Mandatory, actor.ID)
	if a.NeedsResolving() {
		named = contains(electorate, actor.ID)
	}
	if !named && !(len(a.Roles) > 0 && !a.NeedsResolving() && hasAnyRole(actor.Roles, a.Roles)) {
		return &Error{Code: EFORBIDDEN, Op: op, Message: fmt.Sprintf("%s is not an approver of this step (approvers: %s)", actor.ID, a.approversText())}
	}
	if actor.ID == startedBy {
		return &Error{Code: EFORBIDDEN, Op: op, Message: fmt.Sprintf("separation of duties: %s started %s and cannot approve it", actor.ID, process)}
	}
	for _, v := range votes {
		if v.Actor == actor.ID {
			return &Error{Code: ECONFLICT, Op: op, Message: fmt.Sprintf("%s has already voted (%s at %s)", actor.ID, v.Decision, v.At.Format(time.RFC3339))}
		}
	}
	return nil
}

// checkBreakGlass allows a break-glass to its roles, but not to whoever started
// the process or is excluded from its vote.
func (in *Instance) checkBreakGlass(def *Definition, a *Approval, actor Actor, now time.Time) error {
	if !hasAnyRole(actor.Roles, a.BreakGlass.Roles) {
		return &Error{Code: EFORBIDDEN, Op: "engine.Check", Message: fmt.Sprintf("break_glass needs one of the roles %s; %s has %s",
			strings.Join(a.BreakGlass.Roles, ", "), actor.ID, rolesText(actor.Roles))}
	}
	if actor.ID == in.StartedBy {
		return &Error{Code: EFORBIDDEN, Op: "engine.Check", Message: fmt.Sprintf("separation of duties: %s started %s and cannot bypass its approval", actor.ID, in.ID)}
	}
	return in.dutiesAllow(def, a, now, "bypass its approval", &actor)
}

// excluded evaluates the approval's exclude expressions: the people with a part
// in the process who may not vote on it. It records nothing: votes are checked
// in the update validator, which must not change the instance.
func (in *Instance) excluded(def *Definition, a *Approval, now time.Time) ([]string, error) {
	var out []string
	for _, src := range a.Exclude {
		v, err := def.eval(src, scopeProcess, Scope{Instance: in, Actor: System, Now: now})
		if err != nil {
			return out, err
		}
		out = append(out, userIDs(v)...)
	}
	return out, nil
}

func (a *Approval) approversText() string {
	var parts []string
	if len(a.Roles) > 0 {
		parts = append(parts, "roles "+strings.Join(a.Roles, ", "))
	}
	if len(a.Groups) > 0 {
		parts = append(parts, "groups "+strings.Join(a.Groups, ", "))
	}
	if users := a.named(); len(users) > 0 {
		parts = append(parts, "users "+strings.Join(users, ", "))
	}
	for _, src := range a.userExprs() {
		parts = append(parts, "= "+src)
	}
	return strings.Join(parts, "; ")
}

// approvalReminderAt is the share of an approval's due time at which the
// approvers who have not voted are reminded.
const approvalReminderAt = 75

// noticeApprovers tells the approvers who have not voted yet that their vote is
// needed: each role, and each named user.
func (in *Instance) noticeApprovers(a *Approval, msg string, at time.Time) {
	if a.NeedsResolving() {
		// Each person once the electorate is known (nobody before).
		for _, u := range in.Electorate {
			if len(in.votesOf(u)) == 0 {
				in.emit(Event{At: at, Type: EventNotification, Actor: System.ID, Data: map[string]any{"user": u, "message": msg}})
			}
		}
		return
	}
	for _, r := range a.Roles {
		in.emit(Event{At: at, Type: EventNotification, Actor: System.ID, Data: map[string]any{"role": r, "message": msg}})
	}
	for _, u := range a.named() {
		if len(in.votesOf(u)) == 0 {
			in.emit(Event{At: at, Type: EventNotification, Actor: System.ID, Data: map[string]any{"user": u, "message": msg}})
		}
	}
}

// approvalDue handles an approval reaching its due time without a decision.
func (in *Instance) approvalDue(def *Definition, at time.Time) {
	st := def.State(in.State)
	a := st.Approval
	in.ApprovalDue = true
	t := in.tally(a)
	in.emit(Event{At: at, Type: EventApprovalDue, Actor: System.ID, Data: map[string]any{"due": a.Due.String(), "on_timeout": a.OnTimeout, "tally": t}})
	if a.Agenda != "" && a.OnTimeout == TimeoutReject {
		// The items not decided are deferred: nothing is released for them, so
		// they wait for the next meeting.
		in.decideAgenda(a, OutcomeRejected, true, at)
		in.enter(def, a.Rejected, at)
		return
	}
	switch a.OnTimeout {
	case TimeoutEscalate:
		msg := fmt.Sprintf("%s %s: the approval in %s is past its %s due time (%d of %d approvals)", def.Title, in.ID, in.State, a.Due, t.Approve, t.Needed)
		for _, step := range a.Escalate {
			in.doStep(def, step, "", msg, at)
		}
	case TimeoutApprove, TimeoutReject:
		outcome := OutcomeRejected
		if a.OnTimeout == TimeoutApprove {
			outcome = OutcomeApproved
		}
		in.decide(a, outcome, true, a.target(outcome), at)
		in.enter(def, a.target(outcome), at)
	}
}
