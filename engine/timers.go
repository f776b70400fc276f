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
	if a == nil || a.When == "" || in.holds(def, a.When, now) {
		return false
	}
	in.TimersWaiting = append(in.TimersWaiting, i)
	in.stepFailed(now, "", map[string]any{"timer": t.Action, "after": t.After.String(), "state": in.State,
		"waiting_for": a.When, "error": fmt.Sprintf("timer %s after %s: its condition %q does not hold; it fires once it does", t.Action, t.After, a.When)})
	msg := fmt.Sprintf("%s %s: %s after %s in %s is waiting for its condition %s", def.Title, in.ID, t.Action, t.After, in.State, a.When)
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
			return a != nil && in.holds(def, a.When, now)
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
