package engine

import (
	"fmt"
	"slices"
	"time"
)

// Who votes in an approval is fixed when the vote opens, as a change-approval
// tool materialises group approvals: named users stay as they are, but groups,
// users given by expressions, and roles under a quorum that counts the
// approvers (all, majority, percent) are resolved to people — the directory's
// members of the roles and groups, through an effect, and the expressions'
// values now. The resulting electorate leaves out whoever started the process
// (but not whoever convened a meeting: there, separation of duties is per
// item) and whoever the approval's exclude expressions name.
// Roles alone under any or count are not resolved: anyone holding the role
// when they vote may, as identity providers assert roles at each request.
// Below LevelRolesResolvedBeside, roles beside groups or expressions under any
// or count were not resolved either, so only the groups' and expressions'
// people voted.
// Mandatory approvers who started the process or are excluded leave the
// electorate like anyone else, so their approval is then not required.

// EventApproversRequested and EventApproversResolved record the resolution of
// an approval's electorate.
const (
	EventApproversRequested = "approvers_requested"
	EventApproversResolved  = "approvers_resolved"
)

// ResolveRequest asks the directory for the members of Roles and Groups, for
// the vote in State; People are the approvers already known by name.
type ResolveRequest struct {
	State  string   `json:"state"`
	Roles  []string `json:"roles,omitempty"`
	Groups []string `json:"groups,omitempty"`
	People []string `json:"people,omitempty"`
}

// NeedsResolving reports whether the approval's electorate is resolved to
// people when the vote opens.
func (a *Approval) NeedsResolving() bool {
	return len(a.Groups) > 0 || len(a.userExprs()) > 0 || (len(a.Roles) > 0 && a.countsApprovers())
}

// countsApprovers reports whether the quorum depends on how many approvers
// there are (all, majority, percent), so that roles must be resolved to count
// their holders.
func (a *Approval) countsApprovers() bool {
	return a.Quorum == QuorumAll || a.Quorum == QuorumMajority || a.Quorum == QuorumPercent
}

// userExprs returns the approval's users given by expressions.
func (a *Approval) userExprs() []string {
	var out []string
	for _, u := range a.Users {
		if src, ok := isExpr(u); ok {
			out = append(out, src)
		}
	}
	return out
}

// openElectorate resolves the electorate of the vote the process has just
// entered: at once when only expressions need evaluating, through the
// directory when roles or groups do.
func (in *Instance) openElectorate(def *Definition, a *Approval, now time.Time) {
	people := a.named()
	scope := Scope{Instance: in, Actor: System, Now: now}
	for _, src := range a.userExprs() {
		v, err := def.eval(src, scopeProcess, scope)
		if err != nil {
			in.stepFailed(now, "", map[string]any{"approvers": src, "error": err.Error()})
			continue
		}
		people = append(people, userIDs(v)...)
	}
	// Once the electorate is resolved only it votes, so roles alongside are
	// resolved too, whatever the quorum (from LevelRolesResolvedBeside).
	roles := a.Roles
	if def.Level < LevelRolesResolvedBeside && !a.countsApprovers() {
		roles = nil
	}
	if len(a.Groups) == 0 && len(roles) == 0 {
		in.setElectorate(def, a, people, 0, now)
		return
	}
	req := &ResolveRequest{State: in.State, Roles: roles, Groups: a.Groups, People: people}
	in.emit(Event{At: now, Type: EventApproversRequested, Actor: System.ID, Data: map[string]any{"roles": req.Roles, "groups": req.Groups}})
	in.Effects = append(in.Effects, Effect{ID: in.Seq, Resolve: req})
}

// userIDs reads the user ids an expression gave: one, or a list (empty
// strings are nobody).
func userIDs(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		out = []string{x}
	case []any:
		out = anyStrings(x)
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

// CompleteResolve records the members the directory gave for a vote, or why
// it could not. A process that has left the vote meanwhile records nothing.
func (in *Instance) CompleteResolve(def *Definition, id int64, members []string, failure string, now time.Time) {
	e, ok := in.effect(id)
	if !ok || e.Resolve == nil || in.Ended() || in.State != e.Resolve.State {
		return
	}
	st := def.State(in.State)
	if st == nil || st.Approval == nil {
		return
	}
	if failure != "" {
		in.stepFailed(now, "", map[string]any{"approvers": "directory", "error": failure, "effect": id})
		return
	}
	in.setElectorate(def, st.Approval, append(append([]string{}, e.Resolve.People...), members...), id, now)
}

// setElectorate fixes the vote's electorate from people (sorted, once each,
// without whoever cannot vote), records it and tells each of them. effect is
// the resolution that gave them, if any.
func (in *Instance) setElectorate(def *Definition, a *Approval, people []string, effect int64, now time.Time) {
	excluded, err := in.excluded(def, a, now)
	if err != nil {
		in.stepFailed(now, "", map[string]any{"approvers": "exclude", "error": err.Error()})
	}
	// At a meeting, separation of duties is per item: whoever convened it votes.
	starter := in.StartedBy
	if a.Agenda != "" {
		starter = ""
	}
	out := []string{}
	for _, p := range people {
		if p != "" && p != starter && !contains(excluded, p) && !contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	in.Electorate = out
	data := map[string]any{"approvers": out}
	if effect != 0 {
		data["effect"] = effect
	}
	in.emit(Event{At: now, Type: EventApproversResolved, Actor: System.ID, Data: data})
	if len(out) == 0 {
		in.stepFailed(now, "", map[string]any{"approvers": "none", "error": "nobody may vote: the approvers resolved to no one who may"})
		return
	}
	in.noticeApprovers(a, fmt.Sprintf("%s %s needs your vote in %s", def.Title, in.ID, in.State), now)
}

// electorateOf returns who votes in the approval: the resolved electorate, or
// the named approvers (nil when roles vote unresolved).
func (in *Instance) electorateOf(a *Approval) []string {
	if a.NeedsResolving() {
		if in.Electorate == nil {
			return []string{}
		}
		return in.Electorate
	}
	return a.electorate()
}

// tally counts the votes of the current approval.
func (in *Instance) tally(a *Approval) Tally {
	return a.tallyAmong(in.Votes, in.electorateOf(a))
}
