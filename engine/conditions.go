package engine

import "time"

// conditions applies the SLA conditions that are expressions or start states,
// after every change: a pending clock starts once its start condition holds,
// a running one stops or pauses when its condition says so, and a clock paused
// by its condition resumes when the condition no longer holds (and the state
// does not pause it).
func (in *Instance) conditions(def *Definition, now time.Time) {
	if in.Ended() {
		return
	}
	defer in.fireWaitingTimers(def, now)
	defer in.fireMovedTimers(def, now)
	// Deadlines at an instant follow the variables they read (deadlines.go);
	// definitions without them have nothing to do here.
	defer in.deadlineFailures(def, now)
	defer in.redateDeadlines(def, now)
	for i, s := range def.SLAs {
		c := &in.Clocks[i]
		switch c.Status {
		case ClockPending:
			if contains(s.StartOnEnter, in.State) || in.holds(def, s.StartWhen, now) || in.startedBy(def, s) {
				c.Status, c.Since, c.StartedAt = ClockRunning, now, now
				in.emit(Event{At: now, Type: EventSLAStarted, Actor: System.ID, SLA: s.Name, Data: in.clockStarted(def, i)})
				if contains(s.PauseIn, in.State) {
					in.pauseClock(def, i, now, map[string]any{"state": in.State})
				}
			}
		case ClockRunning, ClockPaused:
			switch {
			case in.holds(def, s.StopWhen, now):
				in.stopClock(def, i, now, "stop_when: "+s.StopWhen)
			case c.Status == ClockRunning && in.holds(def, s.PauseWhen, now):
				in.pauseClock(def, i, now, map[string]any{"when": s.PauseWhen})
			case c.Status == ClockPaused && s.PauseWhen != "" && !contains(s.PauseIn, in.State) && !in.holds(def, s.PauseWhen, now):
				in.resumeClock(i, now, map[string]any{"when": s.PauseWhen})
			}
		}
	}
}

// holds evaluates a condition; an empty condition does not hold, and one that
// fails at run time counts as not holding and is recorded once per state entry.
func (in *Instance) holds(def *Definition, cond string, now time.Time) bool {
	if cond == "" {
		return false
	}
	ok, err := def.evalBool(cond, Scope{Instance: in, Actor: System, Now: now})
	if err != nil {
		if !contains(in.FailedConditions, cond) {
			in.FailedConditions = append(in.FailedConditions, cond)
			in.stepFailed(now, "", map[string]any{"condition": cond, "error": err.Error()})
		}
		return false
	}
	return ok
}
