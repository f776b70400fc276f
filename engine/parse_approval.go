package engine

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	quorumKinds   = []string{QuorumAny, QuorumAll, QuorumMajority}
	timeoutKinds  = []string{TimeoutReject, TimeoutApprove, TimeoutEscalate}
	joinKinds     = []string{JoinAll, JoinAny}
	approvalVotes = []string{ActionApprove, ActionReject}
)

func (p *parser) approval(n *yaml.Node, path string) *Approval {
	a := &Approval{Quorum: QuorumAny}
	p.remember(path, n)
	for _, e := range p.mapping(n, path, keysApproval) {
		sub := join(path, e.key)
		p.remember(sub, e.value)
		switch e.key {
		case "approvers":
			for _, ae := range p.mapping(e.value, sub, keysApprovers) {
				switch ae.key {
				case "roles":
					a.Roles = p.names(ae.value, join(sub, "roles"))
				case "users":
					a.Users = p.approverUsers(ae.value, join(sub, "users"))
				case "groups":
					a.Groups = p.names(ae.value, join(sub, "groups"))
				}
			}
		case "mandatory":
			a.Mandatory = p.names(e.value, sub)
		case "quorum":
			p.quorum(e.value, sub, a)
		case "due":
			a.Due = p.duration(e.value, sub)
		case "on_timeout":
			a.OnTimeout = p.oneOf(e.value, sub, timeoutKinds)
		case "escalate":
			a.Escalate = p.steps(e.value, sub)
		case "approved":
			a.Approved = p.str(e.value, sub)
		case "rejected":
			a.Rejected = p.str(e.value, sub)
		case "break_glass":
			a.BreakGlass = p.breakGlass(e.value, sub)
		case "board":
			a.Board = p.ident(e.value, sub)
		case "agenda":
			a.Agenda = p.ident(e.value, sub)
		case "exclude":
			if e.value.Kind != yaml.SequenceNode {
				p.errorf(e.value, sub, "expected a list of expressions, got %s", kindName(e.value))
				continue
			}
			for i, xn := range e.value.Content {
				a.Exclude = append(a.Exclude, p.expr(xn, fmt.Sprintf("%s[%d]", sub, i), scopeProcess, wantUsers))
			}
		}
	}
	if n.Kind != yaml.MappingNode {
		return a
	}
	switch {
	case a.Board != "" && (len(a.Roles) > 0 || len(a.Users) > 0 || len(a.Groups) > 0 || len(a.Mandatory) > 0 || a.Agenda != ""):
		p.errorf(n, join(path, "board"), "an approval decided by a board has no approvers of its own: its members vote at the %s meeting", a.Board)
	case a.Board == "" && len(a.Roles) == 0 && len(a.Users) == 0 && len(a.Groups) == 0 && len(a.Mandatory) == 0:
		p.errorf(n, join(path, "approvers"), "an approval needs approvers: roles, groups, users or mandatory users (or the board that decides it)")
	case a.Agenda != "" && a.OnTimeout == TimeoutApprove:
		// A timeout must not let a change through that nobody voted on.
		p.errorf(n, join(path, "on_timeout"), "an approval with an agenda may not approve on timeout: undecided items are deferred (use reject or escalate)")
	}
	if a.Board != "" && a.OnTimeout == TimeoutApprove {
		p.errorf(n, join(path, "on_timeout"), "an approval decided by a board may not approve on timeout: that would pass a change no meeting decided (use reject or escalate)")
	}
	if a.Approved == "" || a.Rejected == "" {
		p.errorf(n, path, "an approval needs the states it leads to: approved and rejected")
	}
	switch {
	case a.OnTimeout != "" && a.Due == 0:
		p.errorf(n, join(path, "on_timeout"), "on_timeout needs due")
	case a.Due != 0 && a.OnTimeout == "":
		p.errorf(n, join(path, "due"), "due needs on_timeout: reject, approve or escalate")
	case a.OnTimeout == TimeoutEscalate && len(a.Escalate) == 0:
		p.errorf(n, join(path, "escalate"), "on_timeout escalate needs escalate steps")
	case a.OnTimeout != TimeoutEscalate && len(a.Escalate) > 0:
		p.errorf(n, join(path, "escalate"), "escalate steps run only with on_timeout: escalate")
	}
	if named := len(a.named()); a.Quorum == QuorumCount && !a.NeedsResolving() && len(a.Roles) == 0 && a.Count > named {
		p.errorf(n, join(path, "quorum"), "quorum count %d is more than the %d approvers listed", a.Count, named)
	}
	return a
}

// approverUsers reads a list of user ids and expressions giving users.
func (p *parser) approverUsers(n *yaml.Node, path string) []string {
	if n.Kind != yaml.SequenceNode {
		return p.strings(n, path)
	}
	var out []string
	for i, un := range n.Content {
		out = append(out, p.userRef(un, fmt.Sprintf("%s[%d]", path, i), wantUsers))
	}
	return out
}

func (p *parser) breakGlass(n *yaml.Node, path string) *BreakGlass {
	bg := &BreakGlass{}
	for _, e := range p.mapping(n, path, keysBreakGlass) {
		sub := join(path, e.key)
		p.remember(sub, e.value)
		switch e.key {
		case "roles":
			bg.Roles = p.names(e.value, sub)
		case "to":
			bg.To = p.str(e.value, sub)
		case "do":
			bg.Do = p.steps(e.value, sub)
		}
	}
	if len(bg.Roles) == 0 && n.Kind == yaml.MappingNode {
		p.errorf(n, join(path, "roles"), "break_glass needs the roles that may use it: it must never be open to everyone")
	}
	return bg
}

// quorum reads `any`, `all`, `majority`, `{count: N}` or `{percent: P}`.
func (p *parser) quorum(n *yaml.Node, path string, a *Approval) {
	if n.Kind == yaml.ScalarNode {
		a.Quorum = p.oneOf(n, path, quorumKinds)
		return
	}
	entries := p.mapping(n, path, keysQuorum)
	if len(entries) != 1 {
		if n.Kind == yaml.MappingNode {
			p.errorf(n, path, "quorum is any, all, majority, {count: N} or {percent: P}")
		}
		return
	}
	e := entries[0]
	v := p.integer(e.value, join(path, e.key))
	switch e.key {
	case "count":
		a.Quorum, a.Count = QuorumCount, v
		if v < 1 {
			p.errorf(e.value, join(path, e.key), "count must be at least 1")
		}
	case "percent":
		a.Quorum, a.Percent = QuorumPercent, v
		if v < 1 || v > 100 {
			p.errorf(e.value, join(path, e.key), "percent must be from 1 to 100")
		}
	}
}

// oneOf reads a string that must be one of choices.
func (p *parser) oneOf(n *yaml.Node, path string, choices []string) string {
	s := p.str(n, path)
	if s != "" && !contains(choices, s) {
		msg := fmt.Sprintf("%q is not one of %s", s, strings.Join(choices, ", "))
		if sg := suggest(s, choices); sg != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", sg)
		}
		p.errorf(n, path, "%s", msg)
	}
	return s
}

func (p *parser) parallel(n *yaml.Node, path string) *Parallel {
	par := &Parallel{Join: JoinAll}
	p.remember(path, n)
	for _, e := range p.mapping(n, path, keysParallel) {
		sub := join(path, e.key)
		p.remember(sub, e.value)
		switch e.key {
		case "tasks":
			for _, te := range p.mapping(e.value, sub, nil) {
				par.Tasks = append(par.Tasks, p.task(te, join(sub, te.key)))
			}
		case "join":
			par.Join = p.oneOf(e.value, sub, joinKinds)
		case "to":
			par.To = p.str(e.value, sub)
		}
	}
	if n.Kind == yaml.MappingNode && (len(par.Tasks) == 0 || par.To == "") {
		p.errorf(n, path, "parallel needs tasks and the state to go to when they are done (to)")
	}
	return par
}

func (p *parser) task(e entry, path string) Task {
	t := Task{Name: p.ident(e.keyN, path)}
	p.remember(path, e.keyN)
	for _, te := range p.mapping(e.value, path, keysTask) {
		sub := join(path, te.key)
		switch te.key {
		case "roles":
			t.Roles = p.names(te.value, sub)
		case "due":
			t.Due = p.duration(te.value, sub)
		case "input":
			t.Input = p.fields(te.value, sub)
		}
	}
	return t
}
