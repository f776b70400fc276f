package engine

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Rule looks at other processes when this one starts: it counts the processes
// of Count.Process naming the same configuration item that started within
// Count.Within, and runs Do when they are AtLeast with this one ("the third
// fault on a device within 30 days opens a problem").
//
// The count needs the database, so the engine never makes it: it asks the
// workflow (a Count effect), whose activity reads it and whose answer is
// recorded in the history (rule_evaluated), so a replay decides the same.
type Rule struct {
	Name  string    `json:"name"`
	Count RuleCount `json:"count"`
	// AtLeast is how many processes, this one included, make the rule fire.
	AtLeast int `json:"at_least"`
	// Into, a list variable, receives the ids counted, oldest first, this
	// process last: the steps can link them all (a problem's incidents).
	Into string `json:"into,omitempty"`
	Do   []Step `json:"do"`
}

// RuleCount says which processes a rule counts.
type RuleCount struct {
	Process string `json:"process"`
	// CI names this process's ci field; the processes counted name the same
	// item (their ci).
	CI string `json:"ci"`
	// Within is how far back, in wall-clock time, the processes counted
	// started (30d is thirty days, whatever the calendar).
	Within Duration `json:"within"`
}

// CountRequest asks the workflow for the processes of Definition naming the
// item CI that started at or after Since, other than the asking process.
type CountRequest struct {
	Rule       string    `json:"rule"`
	Definition string    `json:"definition"`
	CI         string    `json:"ci"`
	Since      time.Time `json:"since"`
}

// Events of rules.
const (
	EventRuleRequested = "rule_requested"
	EventRuleEvaluated = "rule_evaluated"
)

// MaxCounted bounds the ids a rule records: a device with a thousand faults
// has a problem already, and a history holds the list.
const MaxCounted = 100

// requestRules asks for the counts of the rules whose item is named.
func (in *Instance) requestRules(def *Definition, now time.Time) {
	for _, r := range def.Rules {
		ci, _ := in.value(r.Count.CI).(string)
		if ci == "" {
			continue // no item, nothing to count
		}
		since := now.Add(-time.Duration(r.Count.Within))
		in.emit(Event{At: now, Type: EventRuleRequested, Actor: System.ID,
			Data: map[string]any{"rule": r.Name, "process": r.Count.Process, "ci": ci, "since": since.UTC().Format(time.RFC3339)}})
		in.Effects = append(in.Effects, Effect{ID: in.Seq, Count: &CountRequest{Rule: r.Name, Definition: r.Count.Process, CI: ci, Since: since}})
	}
}

// CompleteCount records what a rule's count found, or why it could not, and
// runs the rule's steps when the processes counted, this one included, are
// enough. ids are the other processes, oldest first.
func (in *Instance) CompleteCount(def *Definition, id int64, ids []string, failure string, now time.Time) {
	e, ok := in.effect(id)
	if !ok || e.Count == nil {
		return
	}
	r := def.rule(e.Count.Rule)
	if r == nil {
		return
	}
	if failure != "" {
		in.stepFailed(now, "", map[string]any{"rule": r.Name, "error": failure, "effect": id})
		return
	}
	if len(ids) > MaxCounted {
		ids = ids[len(ids)-MaxCounted:]
	}
	all := make([]any, 0, len(ids)+1)
	for _, x := range ids {
		if x != in.ID {
			all = append(all, x)
		}
	}
	all = append(all, in.ID)
	fired := len(all) >= r.AtLeast
	if r.Into != "" {
		in.setVar(r.Into, all)
	}
	in.emit(Event{At: now, Type: EventRuleEvaluated, Actor: System.ID,
		Data: map[string]any{"rule": r.Name, "processes": all, "count": len(all), "at_least": r.AtLeast, "fired": fired, "effect": id}})
	if !fired || in.Ended() {
		return
	}
	msg := fmt.Sprintf("%s %s: rule %s (%d %s on %s)", def.Title, in.ID, r.Name, len(all), r.Count.Process, e.Count.CI)
	for _, step := range r.Do {
		in.doStep(def, step, "", msg, now)
	}
	in.conditions(def, now)
}

func (d *Definition) rule(name string) *Rule {
	for i := range d.Rules {
		if d.Rules[i].Name == name {
			return &d.Rules[i]
		}
	}
	return nil
}

func (p *parser) rule(e entry) Rule {
	path := join("rules", e.key)
	r := Rule{Name: p.ident(e.keyN, path)}
	p.remember(path, e.keyN)
	seen := map[string]bool{}
	for _, re := range p.mapping(e.value, path, keysRule) {
		sub := join(path, re.key)
		p.remember(sub, re.value)
		seen[re.key] = true
		switch re.key {
		case "count":
			r.Count = p.ruleCount(re.value, sub)
		case "at_least":
			r.AtLeast = p.integer(re.value, sub)
			if r.AtLeast < 2 || r.AtLeast > MaxCounted {
				p.errorf(re.value, sub, "at_least counts this process too: a whole number from 2 to %d", MaxCounted)
			}
		case "into":
			r.Into = p.ident(re.value, sub)
		case "do":
			r.Do = p.steps(re.value, sub)
		}
	}
	for _, k := range []string{"count", "at_least", "do"} {
		if !seen[k] && e.value.Kind == yaml.MappingNode {
			p.errorf(e.value, path, "a rule needs %s", k)
		}
	}
	return r
}

func (p *parser) ruleCount(n *yaml.Node, path string) RuleCount {
	var c RuleCount
	for _, ce := range p.mapping(n, path, keysCount) {
		sub := join(path, ce.key)
		p.remember(sub, ce.value)
		switch ce.key {
		case "process":
			c.Process = p.ident(ce.value, sub)
		case "ci":
			c.CI = p.ident(ce.value, sub)
		case "within":
			// Wall-clock time whatever the calendar: 30d is thirty days,
			// not thirty working days of eight hours.
			d, err := ParseDuration(p.str(ce.value, sub))
			switch {
			case err != nil:
				p.errorf(ce.value, sub, "%v", err)
			case d <= 0:
				p.errorf(ce.value, sub, "within must be more than zero")
			}
			c.Within = d
		}
	}
	if (c.Process == "" || c.CI == "" || c.Within == 0) && n.Kind == yaml.MappingNode {
		p.errorf(n, path, "count needs the process to count, the ci field to match and within (how far back)")
	}
	return c
}

// checkRules checks what rules name: a ci input field, a list variable, and
// a process (which may be this one: an incident counts incidents).
func (p *parser) checkRules(def *Definition) {
	for _, r := range def.Rules {
		path := join("rules", r.Name)
		if f := fieldOf(def.Input, r.Count.CI); r.Count.CI != "" && (f == nil || f.Type != TypeCI) {
			p.errorf(p.at(path+".count.ci"), path+".count.ci", "count ci names %q, which is not an input field of type ci", r.Count.CI)
		}
		if r.Count.Process != "" && r.Count.Process != def.Name && p.processes != nil && !contains(p.processes, r.Count.Process) {
			p.errorf(p.at(path+".count.process"), path+".count.process", "%s", p.unknownProcess(def, r.Count.Process))
		}
		if r.Into != "" {
			p.listVariable(def, r.Into, path+".into", "into")
		}
	}
}
