package engine

import (
	"fmt"
	"time"
)

// maxStepDepth bounds action steps that lead to states whose steps act again.
const maxStepDepth = 8

// doStep does one step of an escalation (sla names its SLA), a reminder, an
// action or a state entry. msg describes why, for notifications.
func (in *Instance) doStep(def *Definition, step Step, sla, msg string, at time.Time) {
	if step.When != "" && !in.holds(def, step.When, at) {
		return
	}
	scope := Scope{Instance: in, Actor: System, Now: at}
	switch {
	case step.Notify != nil:
		in.notify(def, step.Notify, sla, msg, scope)
	case step.Reassign != nil:
		in.reassign(def, step.Reassign, sla, msg, scope)
	case step.RaisePriority > 0:
		in.raisePriority(def, step.RaisePriority, sla, at)
	case step.Action != "":
		if in.depth >= maxStepDepth {
			in.stepFailed(at, sla, map[string]any{"action": step.Action, "error": fmt.Sprintf("more than %d action steps in a row", maxStepDepth)})
			return
		}
		in.depth++
		defer func() { in.depth-- }()
		if err := in.Apply(def, ActionRequest{Action: step.Action, Actor: System}, at); err != nil {
			in.stepFailed(at, sla, map[string]any{"action": step.Action, "error": err.Error()})
		}
	case step.Start != nil:
		in.requestStart(def, step.Start, scope)
	case step.Webhook != nil:
		in.requestWebhook(def, step.Webhook, scope)
	case step.Collect != nil:
		in.requestCollect(def, step.Collect, at)
	default:
		in.assign(def, step.Set, sla, scopeProcess, scope)
	}
}

// assign sets variables, evaluating expressions, and recomputes SLA targets.
func (in *Instance) assign(def *Definition, set []Assignment, sla, scopeName string, scope Scope) {
	for _, a := range set {
		v := a.Value
		if a.Expr != "" {
			var err error
			if v, err = def.eval(a.Expr, scopeName, scope); err != nil {
				in.stepFailed(scope.Now, sla, map[string]any{"set": a.Name, "error": err.Error()})
				continue
			}
		}
		in.setVar(a.Name, v)
		in.emit(Event{At: scope.Now, Type: EventVariableSet, Actor: System.ID, SLA: sla, Data: map[string]any{"name": a.Name, "value": v}})
	}
	in.retarget(def, scope.Now)
}

// values evaluates a mapping of names to values or expressions, for a process's
// input or a webhook's body.
func (in *Instance) values(def *Definition, set []Assignment, scope Scope) (map[string]any, error) {
	out := make(map[string]any, len(set))
	for _, a := range set {
		v := a.Value
		if a.Expr != "" {
			var err error
			if v, err = def.eval(a.Expr, scopeProcess, scope); err != nil {
				return nil, fmt.Errorf("%s: %w", a.Name, err)
			}
		}
		out[a.Name] = v
	}
	return out, nil
}

// userOf resolves a user reference that may be an expression.
func (in *Instance) userOf(def *Definition, ref string, scope Scope) (string, bool) {
	src, ok := isExpr(ref)
	if !ok {
		return ref, true
	}
	v, err := def.eval(src, scopeProcess, scope)
	user, _ := v.(string)
	if err != nil || user == "" {
		msg := fmt.Sprintf("expression %q gave no user", src)
		if err != nil {
			msg = err.Error()
		}
		in.stepFailed(scope.Now, "", map[string]any{"user": ref, "error": msg})
		return "", false
	}
	return user, true
}

// Variables a reassign step sets, like ServiceNow's assignment group and assignee.
const (
	VarAssignmentGroup = "assignment_group"
	VarAssignee        = "assignee"
)

func (in *Instance) reassign(def *Definition, to *Assignee, sla, msg string, scope Scope) {
	name, value := VarAssignmentGroup, to.Group
	if to.User != "" {
		user, ok := in.userOf(def, to.User, scope)
		if !ok {
			return
		}
		name, value = VarAssignee, user
	}
	from := in.Vars[name]
	in.setVar(name, value)
	data := map[string]any{name: value}
	if from != nil {
		data["from"] = from
	}
	in.emit(Event{At: scope.Now, Type: EventReassigned, Actor: System.ID, SLA: sla, Data: data})
	note := map[string]any{"message": msg + fmt.Sprintf(" — now assigned to %s", value)}
	if to.User != "" {
		note["user"] = value
	} else {
		note["role"] = value
	}
	in.emit(Event{At: scope.Now, Type: EventNotification, Actor: System.ID, SLA: sla, Data: note})
}

// PriorityField is the input field raise_priority moves.
const PriorityField = "priority"

func (in *Instance) raisePriority(def *Definition, levels int, sla string, at time.Time) {
	var values []string
	for _, f := range def.Input {
		if f.Name == PriorityField {
			values = f.Values
		}
	}
	cur, _ := in.value(PriorityField).(string)
	i := indexOf(values, cur)
	if i <= 0 {
		return // already the most urgent (or unset): nothing to raise
	}
	to := values[max(0, i-levels)]
	in.setVar(PriorityField, to)
	in.emit(Event{At: at, Type: EventVariableSet, Actor: System.ID, SLA: sla, Data: map[string]any{"name": PriorityField, "value": to, "from": cur}})
	in.retarget(def, at)
}

func (in *Instance) stepFailed(at time.Time, sla string, data map[string]any) {
	in.emit(Event{At: at, Type: EventStepFailed, Actor: System.ID, SLA: sla, Data: data})
}
