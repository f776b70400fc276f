package engine

import "strings"

// checkConstructs checks what approvals, parallel tasks, variables and steps
// refer to: states, actions, processes and fields must exist, and an action the
// system takes must need no input it cannot supply.
func (p *parser) checkConstructs(def *Definition, knownState func(name, path string)) {
	for _, st := range def.States {
		path := join("states", st.Name)
		if a := st.Approval; a != nil {
			knownState(a.Approved, path+".approval.approved")
			knownState(a.Rejected, path+".approval.rejected")
			if a.BreakGlass != nil {
				knownState(a.BreakGlass.To, path+".approval.break_glass.to")
			}
			p.checkNoBypass(st, path)
			p.checkBoard(def, a, path+".approval")
		}
		if par := st.Parallel; par != nil {
			knownState(par.To, path+".parallel.to")
		}
	}
	inputs := map[string]bool{}
	for _, f := range def.Input {
		inputs[f.Name] = true
	}
	for _, f := range def.Variables {
		if inputs[f.Name] {
			vp := join("variables", f.Name)
			p.errorf(p.at("variables"), vp, "variable %q has the name of an input field; set the input field instead", f.Name)
		}
	}
	p.checkFieldTypes(def)
	p.checkRules(def)
	for _, st := range def.States {
		for _, a := range st.Actions {
			if a.Window == nil || a.Window.CI == "" {
				continue
			}
			f := fieldOf(a.Input, a.Window.CI)
			if f == nil {
				f = fieldOf(def.Input, a.Window.CI)
			}
			if f == nil || celType(f.Type) != celType(TypeString) {
				path := join("states", st.Name+".actions."+a.Name+".window.ci")
				p.errorf(p.at(path), path, "ci names %q, which is not a string input field of the action or the process", a.Window.CI)
			}
		}
	}
	for _, s := range def.steps() {
		switch step := s.step; {
		case step.Action != "" && strings.Contains(s.path, ".actions.") && strings.Contains(s.path, ".do["):
			p.errorf(p.at(s.path), s.path+".action", "an action step in an action's do would be undone by the move to the action's target; put it in the target state's on_enter")
		case step.Action != "":
			p.systemAction(def, step.Action, s.path+".action")
		case step.RaisePriority > 0:
			if f := fieldOf(def.Input, PriorityField); f == nil || f.Type != TypeEnum {
				p.errorf(p.at(s.path), s.path+".raise_priority", "raise_priority needs an enum input field %q, most urgent value first", PriorityField)
			}
		case step.Start != nil:
			if p.processes != nil && step.Start.Process != "" && step.Start.Process != def.Name && !contains(p.processes, step.Start.Process) {
				p.errorf(p.at(s.path+".start.process"), s.path+".start.process", "%s", p.unknownProcess(def, step.Start.Process))
			}
			if step.Start.OnEnd != "" {
				p.systemAction(def, step.Start.OnEnd, s.path+".start.on_end")
			}
		case step.Collect != nil:
			p.knownProcess(def, step.Collect.Process, s.path+".collect.process")
			p.listVariable(def, step.Collect.Into, s.path+".collect.into", "collect into")
		case step.Webhook != nil && step.Webhook.OnFailure != "":
			p.systemAction(def, step.Webhook.OnFailure, s.path+".webhook.on_failure")
		}
	}
}

// checkBoard checks what an approval decided at meetings refers to: the board
// is another process, and an agenda is a list variable a collect step fills.
func (p *parser) checkBoard(def *Definition, a *Approval, path string) {
	// The board is not looked up among the published processes: the meeting's
	// collect step names this process, so one of the two is always published
	// first. A collect step is checked the other way.
	if a.Board == def.Name {
		p.errorf(p.at(path+".board"), path+".board", "a process cannot be its own board")
	}
	if a.Agenda == "" {
		return
	}
	p.listVariable(def, a.Agenda, path+".agenda", "agenda")
	// Only a collect step may fill an agenda: a person who could set it could
	// put a change before the board that is not waiting for it.
	if fieldOf(def.Input, a.Agenda) != nil {
		p.errorf(p.at(path+".agenda"), path+".agenda", "agenda %q is also an input field: only a collect step may fill it", a.Agenda)
	}
	for _, st := range def.States {
		for _, act := range st.Actions {
			if fieldOf(act.Input, a.Agenda) != nil {
				p.errorf(p.at(path+".agenda"), path+".agenda", "agenda %q is also input of action %q: only a collect step may fill it", a.Agenda, act.Name)
			}
		}
	}
	for _, s := range def.steps() {
		for _, as := range s.step.Set {
			if as.Name == a.Agenda {
				p.errorf(p.at(s.path), s.path+".set", "sets the agenda %q: only a collect step may fill it", a.Agenda)
			}
		}
		if w := s.step.Webhook; w != nil {
			for _, as := range w.Result {
				if as.Name == a.Agenda {
					p.errorf(p.at(s.path), s.path+".webhook.result", "sets the agenda %q: only a collect step may fill it", a.Agenda)
				}
			}
		}
	}
	for _, s := range def.steps() {
		if s.step.Collect != nil && s.step.Collect.Into == a.Agenda {
			return
		}
	}
	p.errorf(p.at(path+".agenda"), path+".agenda", "no collect step fills %q: an agenda is collected ({collect: {process: ..., into: %s}})", a.Agenda, a.Agenda)
}

// knownProcess checks that name is another process, when the processes beside
// this one are known.
func (p *parser) knownProcess(def *Definition, name, path string) {
	if name == def.Name {
		p.errorf(p.at(path), path, "a process cannot name itself here")
		return
	}
	if p.processes != nil && name != "" && !contains(p.processes, name) {
		p.errorf(p.at(path), path, "%s", p.unknownProcess(def, name))
	}
}

// unknownProcess says that name is not a known process, suggesting the others
// but never def itself, which a process cannot name (as a "did you mean", its
// own name hid that the other definitions were not found at all).
func (p *parser) unknownProcess(def *Definition, name string) string {
	others := make([]string, 0, len(p.processes))
	for _, n := range p.processes {
		if n != def.Name {
			others = append(others, n)
		}
	}
	msg := Unknown("process", name, others)
	if len(others) == 0 {
		msg += " (no other process is known)"
	}
	return msg
}

// listVariable checks that name is a declared variable of type list.
func (p *parser) listVariable(def *Definition, name, path, what string) {
	if f := fieldOf(def.Variables, name); f == nil || f.Type != TypeList {
		p.errorf(p.at(path), path, "%s names %q, which is not a variable of type list", what, name)
	}
}

// checkNoBypass refuses a way past an approval other than its votes and its
// break-glass: an ordinary action or a timer of the approval's state that leads
// where approval leads would let a change through unapproved and unrecorded.
func (p *parser) checkNoBypass(st State, path string) {
	a := st.Approval
	for _, act := range st.Actions {
		if act.Kind == "" && act.To == a.Approved && a.Approved != st.Name {
			ap := join(path, "actions."+act.Name+".to")
			p.errorf(p.at(join(path, "actions."+act.Name)), ap, "action %q leads to %q, where the approval leads: only the vote (or its break_glass) may", act.Name, a.Approved)
		}
	}
}

// systemAction checks an action the system takes on its own.
func (p *parser) systemAction(def *Definition, name, path string) {
	var found *Action
	var all []string
	for i := range def.States {
		for j := range def.States[i].Actions {
			a := &def.States[i].Actions[j]
			all = append(all, a.Name)
			if a.Name == name && found == nil {
				found = a
			}
		}
	}
	if found == nil {
		p.errorf(p.at(path), path, "%s", Unknown("action", name, all))
		return
	}
	for _, f := range found.Input {
		if f.Required && f.Default == nil {
			p.errorf(p.at(path), path, "action %q has required input %q without a default: the system cannot supply it", name, f.Name)
		}
	}
}

// checkFieldTypes refuses a name that actions' input declares with types that
// differ in expressions (string, text, enum and user are all strings there):
// expressions read it as one variable.
func (p *parser) checkFieldTypes(def *Definition) {
	types := map[string]string{}
	for _, f := range append(append([]Field{}, def.Input...), def.Variables...) {
		types[f.Name] = f.Type
	}
	for _, st := range def.States {
		for _, a := range st.Actions {
			for _, f := range a.Input {
				t, ok := types[f.Name]
				switch {
				case !ok:
					types[f.Name] = f.Type
				case celType(t).String() != celType(f.Type).String():
					path := join("states", st.Name+".actions."+a.Name+".input."+f.Name)
					p.errorf(p.at(join("states", st.Name+".actions."+a.Name)), path, "%s is %s here but %s elsewhere in the definition; one name has one type", f.Name, f.Type, t)
				}
			}
		}
	}
}
