package engine

import (
	"fmt"
	"strings"
)

// check validates the references between the parts of a parsed definition:
// states, actions, SLAs and input fields named anywhere must exist, every state must
// be reachable, and every non-final state must have a way out. It tolerates the gaps
// that parse problems leave, so one call reports everything.
func (p *parser) check(def *Definition) {
	if def.Calendar != Calendar24x7 {
		if spec := p.calendars.find(def.Calendar); spec != nil {
			cp := *spec
			def.CalendarSpec = &cp
		} else {
			p.errorf(p.at("calendar"), "calendar", "calendar %q is not defined (defined: %s)", def.Calendar, strings.Join(p.calendars.names(), ", "))
		}
	}
	stateNames := make([]string, 0, len(def.States))
	for _, s := range def.States {
		stateNames = append(stateNames, s.Name)
	}
	knownState := func(name, path string) {
		if name != "" && def.State(name) == nil {
			p.errorf(p.at(path), path, "%s", Unknown("state", name, stateNames))
		}
	}
	if def.Initial != "" {
		knownState(def.Initial, "initial")
	}
	hasFinal := false
	for _, s := range def.States {
		path := join("states", s.Name)
		hasFinal = hasFinal || s.Final
		if s.Final && (len(s.Actions) > 0 || len(s.Timers) > 0 || len(s.Reminders) > 0) {
			p.errorf(p.at(path), path, "final state %q cannot have actions, timers or reminders", s.Name)
		}
		for i, r := range s.Reminders {
			for j, a := range r.ResetBy {
				rp := fmt.Sprintf("%s.reminders[%d].reset_by[%d]", path, i, j)
				if s.Action(a) == nil {
					p.errorf(p.at(rp), rp, "%s", Unknown("action of state "+s.Name, a, s.ActionNames()))
				}
			}
		}
		if !s.Final && len(s.Actions) == 0 {
			p.errorf(p.at(path), path, "state %q is not final and has no actions: a process there could never move on", s.Name)
		}
		for _, a := range s.Actions {
			knownState(a.To, join(path, "actions."+a.Name+".to"))
		}
		for i, t := range s.Timers {
			tpath := fmt.Sprintf("%s.timers[%d]", path, i)
			if t.Action == "" {
				continue
			}
			a := s.Action(t.Action)
			if a == nil {
				p.errorf(p.at(tpath+".action"), tpath+".action", "%s", Unknown("action of state "+s.Name, t.Action, s.ActionNames()))
				continue
			}
			for _, f := range a.Input {
				if f.Required && f.Default == nil {
					p.errorf(p.at(tpath+".action"), tpath+".action", "timer action %q has required input %q without a default: the system cannot supply it", a.Name, f.Name)
				}
			}
		}
	}
	if len(def.States) > 0 && !hasFinal {
		p.errorf(p.at("states"), "states", "no state is final: a process could never end")
	}
	if def.State(def.Initial) != nil {
		reached := reachable(def)
		for _, s := range def.States {
			if s.Name != "" && !reached[s.Name] {
				path := join("states", s.Name)
				p.errorf(p.at(path), path, "state %q cannot be reached from the initial state %q", s.Name, def.Initial)
			}
		}
	}
	slaNames := make([]string, 0, len(def.SLAs))
	for _, s := range def.SLAs {
		slaNames = append(slaNames, s.Name)
		path := join("slas", s.Name)
		for _, key := range []struct {
			name  string
			state []string
		}{{"stop_on_leave", s.StopOnLeave}, {"stop_on_enter", s.StopOnEnter}, {"pause_in", s.PauseIn}, {"start_on_enter", s.StartOnEnter}} {
			for i, st := range key.state {
				knownState(st, fmt.Sprintf("%s.%s[%d]", path, key.name, i))
			}
		}
		if s.By != "" {
			p.checkTargets(def, s, path)
		}
	}
	for _, s := range def.SLAs {
		if so := s.StartOn; so != nil && so.SLA != "" {
			path := join("slas", s.Name) + ".start_on.sla"
			if so.SLA == s.Name {
				p.errorf(p.at(path), path, "SLA %q cannot start on its own breach", s.Name)
			} else if !contains(slaNames, so.SLA) {
				p.errorf(p.at(path), path, "%s", Unknown("SLA", so.SLA, slaNames))
			}
		}
	}
	p.checkRetargets(def)
	p.checkNotBy(def)
	p.checkConstructs(def, knownState)
	p.checkRelations(def)
	p.checkLabels(def)
	p.checkExprs(def)
	for i, e := range def.Escalations {
		path := fmt.Sprintf("escalations[%d].on.sla", i)
		if e.SLA != "" && !contains(slaNames, e.SLA) {
			p.errorf(p.at(path), path, "%s", Unknown("SLA", e.SLA, slaNames))
		}
	}
}

// checkTargets requires that an SLA chosen by an enum field has one target for each
// of its values, so no instance can start without a deadline.
func (p *parser) checkTargets(def *Definition, s SLA, path string) {
	var by *Field
	names := make([]string, 0, len(def.Input))
	for i := range def.Input {
		names = append(names, def.Input[i].Name)
		if def.Input[i].Name == s.By {
			by = &def.Input[i]
		}
	}
	if by == nil {
		p.errorf(p.at(path+".by"), path+".by", "%s", Unknown("input field", s.By, names))
		return
	}
	if by.Type != TypeEnum {
		p.errorf(p.at(path+".by"), path+".by", "by names input field %q of type %s; it must be an enum", s.By, by.Type)
		return
	}
	if !by.Required && by.Default == nil {
		p.errorf(p.at(path+".by"), path+".by", "input field %q chooses the target, so it must be required or have a default", s.By)
	}
	var missing []string
	for _, v := range by.Values {
		if s.target(v) == 0 {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		p.errorf(p.at(path+".targets"), path+".targets", "no target for %s %s", s.By, strings.Join(missing, ", "))
	}
	for _, t := range s.Targets {
		if !contains(by.Values, t.Key) {
			tp := path + ".targets." + t.Key
			p.errorf(p.at(tp), tp, "%q is not a value of %s (values: %s)", t.Key, s.By, strings.Join(by.Values, ", "))
		}
	}
}

func reachable(def *Definition) map[string]bool {
	seen := map[string]bool{def.Initial: true}
	queue := []string{def.Initial}
	for len(queue) > 0 {
		st := def.State(queue[0])
		queue = queue[1:]
		if st == nil {
			continue
		}
		next := make([]string, 0, len(st.Actions)+3)
		for _, a := range st.Actions {
			next = append(next, a.To)
		}
		if st.Approval != nil {
			next = append(next, st.Approval.Approved, st.Approval.Rejected)
		}
		if st.Parallel != nil {
			next = append(next, st.Parallel.To)
		}
		for _, to := range next {
			if !seen[to] {
				seen[to] = true
				queue = append(queue, to)
			}
		}
	}
	return seen
}

// Unknown says that name is none of the known names of what, suggesting the
// nearest ("did you mean") or, when none is near, listing them: the one way
// an unknown name is reported, in a definition and in the API's filters.
func Unknown(what, name string, known []string) string {
	msg := fmt.Sprintf("unknown %s %q", what, name)
	if s := suggest(name, known); s != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", s)
	}
	if len(known) > 0 {
		return msg + fmt.Sprintf(" (known: %s)", strings.Join(known, ", "))
	}
	return msg
}

// checkRetargets requires that whatever changes a field that chooses an SLA
// target — an action's input or an escalation's set — can only give it one of the
// values that have a target.
func (p *parser) checkRetargets(def *Definition) {
	byField := map[string]*Field{}
	for _, s := range def.SLAs {
		for i := range def.Input {
			if s.By != "" && def.Input[i].Name == s.By && def.Input[i].Type == TypeEnum {
				byField[s.By] = &def.Input[i]
			}
		}
	}
	for _, st := range def.States {
		for _, a := range st.Actions {
			for _, f := range a.Input {
				by := byField[f.Name]
				if by == nil {
					continue
				}
				path := join("states", st.Name+".actions."+a.Name+".input."+f.Name)
				for _, v := range f.Values {
					if !contains(by.Values, v) {
						p.errorf(p.at(join("states", st.Name+".actions."+a.Name)), path, "%q is not a value of %s, which chooses SLA targets (values: %s)", v, by.Name, strings.Join(by.Values, ", "))
					}
				}
				if f.Type != TypeEnum {
					p.errorf(p.at(join("states", st.Name+".actions."+a.Name)), path, "%s chooses SLA targets, so it must be an enum of its values", f.Name)
				}
			}
		}
	}
	for i, e := range def.Escalations {
		for j, step := range e.Do {
			for _, set := range step.Set {
				by := byField[set.Name]
				if v, ok := set.Value.(string); by != nil && (!ok || !contains(by.Values, v)) {
					path := fmt.Sprintf("escalations[%d].do[%d].set.%s", i, j, set.Name)
					p.errorf(p.at(fmt.Sprintf("escalations[%d]", i)), path, "%v is not a value of %s, which chooses SLA targets (values: %s)", set.Value, by.Name, strings.Join(by.Values, ", "))
				}
			}
		}
	}
}
