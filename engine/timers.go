package engine

import (
	"fmt"
	"slices"
	"time"
)

// timerBlocked decides whether the state's timer i, due at now, must wait
// because its action's guard does not hold. A waiting timer is recorded once
// (step_failed, naming the timer and its guard) and the action's roles are
// told; it fires at the first change after which the guard holds
// (fireWaitingTimers). Only from LevelTimersWait.
func (in *Instance) timerBlocked(def *Definition, i int, now time.Time) bool {
	st := def.State(in.State)
	t := st.Timers[i]
	a := st.Action(t.Action)
	if a == nil || a.When == "" || in.guardHolds(def, a, now) {
		return false
	}
	in.TimersWaiting = append(in.TimersWaiting, i)
	data := t.firedData(in.State)
	data["timer"], data["waiting_for"] = t.Action, a.When
	data["error"] = fmt.Sprintf("timer %s %s: its condition %q does not hold; it fires once it does", t.Action, t.when(), a.When)
	in.stepFailed(now, "", data)
	msg := fmt.Sprintf("%s %s: %s %s in %s is waiting for its condition %s", def.Title, in.ID, t.Action, t.when(), in.State, a.When)
	for _, role := range a.Roles {
		if !IsRelation(role) {
			in.emit(Event{At: now, Type: EventNotification, Actor: System.ID, Data: map[string]any{"message": msg, "role": role}})
		}
	}
	return true
}

// firedData is what a timer_fired event says of the timer: its after, or for a
// timer at an instant, its at.
func (t Timer) firedData(state string) map[string]any {
	if t.At != "" {
		return map[string]any{"at": t.At, "state": state}
	}
	return map[string]any{"after": t.After.String(), "state": state}
}

// guard evaluates the guard of action a of the current state for input vals
// (checked, with defaults): in the action's scope from LevelGuardsReadInput,
// in the process's before.
func (in *Instance) guard(def *Definition, a *Action, vals map[string]any, actor Actor, now time.Time) (bool, error) {
	s := Scope{Instance: in, Actor: actor, Now: now}
	if def.Level < LevelGuardsReadInput {
		return def.evalBool(a.When, s)
	}
	s.ActionInput = vals
	return def.evalBoolIn(a.When, actionScope(in.State, a.Name), s)
}

// guardHolds is holds for the guard of an action the system takes (a timer's):
// with the action's defaults as its input.
func (in *Instance) guardHolds(def *Definition, a *Action, now time.Time) bool {
	if def.Level < LevelGuardsReadInput || a.When == "" {
		return in.holds(def, a.When, now)
	}
	vals, _ := ValidateInput(a.Input, nil, "input") // Parse: a timer's action needs no input the system lacks
	ok, err := in.guard(def, a, vals, System, now)
	if err != nil {
		if !contains(in.FailedConditions, a.When) {
			in.FailedConditions = append(in.FailedConditions, a.When)
			in.stepFailed(now, "", map[string]any{"condition": a.When, "error": err.Error()})
		}
		return false
	}
	return ok
}

// when says when the timer falls due: "after 4h", or "at vars.month_end".
func (t Timer) when() string {
	if t.At != "" {
		return "at " + t.At
	}
	return "after " + t.After.String()
}

// fireWaitingTimers fires the waiting timers whose guard now holds, in the
// order of the state's timers.
func (in *Instance) fireWaitingTimers(def *Definition, now time.Time) {
	if def.Level < LevelTimersWait {
		return
	}
	for len(in.TimersWaiting) > 0 && !in.Ended() {
		st := def.State(in.State)
		waiting := slices.Sorted(slices.Values(in.TimersWaiting))
		i := slices.IndexFunc(waiting, func(t int) bool {
			a := st.Action(st.Timers[t].Action)
			return a != nil && in.guardHolds(def, a, now)
		})
		if i < 0 {
			return
		}
		timer := waiting[i]
		in.TimersWaiting = slices.DeleteFunc(in.TimersWaiting, func(t int) bool { return t == timer })
		t := st.Timers[timer]
		data := t.firedData(in.State)
		data["waited"] = true
		in.emit(Event{At: now, Type: EventTimerFired, Actor: System.ID, Action: t.Action, Data: data})
		if err := in.Apply(def, ActionRequest{Action: t.Action, Actor: System}, now); err != nil {
			in.emit(Event{At: now, Type: EventTimerFired, Actor: System.ID, Action: t.Action, Data: map[string]any{"error": err.Error()}})
		}
	}
}
