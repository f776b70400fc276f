package engine

import (
	"fmt"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// Deadlines at an instant: a timer (at), an SLA (at) or the end of a reminder
// (until) may be an expression giving a datetime, such as the end of the month
// a ticket was submitted in. Such an expression is evaluated again whenever the
// engine computes its next wake, so a deadline held in a variable moves when
// the variable does; it never reads the clock (now is the instant the state
// was entered or the clock started, handed in), so a replay computes the same
// instant.

// SLAStart starts a pending SLA clock when another clock reaches a mark: for
// now its breach (a spare device is due within 24 h of a missed resolution).
type SLAStart struct {
	SLA      string `json:"sla"`
	Breached bool   `json:"breached"`
}

// instant evaluates a deadline expression at now. A zero instant (a datetime
// variable nobody has set) is no deadline: false, without a failure.
func (d *Definition) instant(src string, in *Instance, now time.Time) (time.Time, bool, error) {
	v, err := d.eval(src, scopeProcess, Scope{Instance: in, Actor: System, Now: now})
	if err != nil {
		return time.Time{}, false, err
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false, fmt.Errorf("expression %q gave %v, not a date and time", src, v)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("expression %q gave %q, not a date and time", src, s)
	}
	if t.Year() <= 1 {
		return time.Time{}, false, nil
	}
	return t, true, nil
}

// deadlineOf is instant for the wake computation, which must change nothing:
// a failing expression is no deadline here, and recorded by deadlineFailures.
func (in *Instance) deadlineOf(def *Definition, src string, now time.Time) (time.Time, bool) {
	t, ok, err := def.instant(src, in, now)
	return t, ok && err == nil
}

// deadlineFailures records, once per state entry, each deadline expression of
// the current state's timers and reminders and of the running SLAs that fails
// when evaluated, so a deadline that can never fall due is not silent.
func (in *Instance) deadlineFailures(def *Definition, now time.Time) {
	record := func(src string, at time.Time, what map[string]any) {
		if _, _, err := def.instant(src, in, at); err != nil && !contains(in.FailedConditions, src) {
			in.FailedConditions = append(in.FailedConditions, src)
			what["error"] = err.Error()
			in.stepFailed(now, "", what)
		}
	}
	if st := def.State(in.State); st != nil {
		for _, t := range st.Timers {
			if t.At != "" {
				record(t.At, in.EnteredAt, map[string]any{"timer": t.Action, "at": t.At, "state": in.State})
			}
		}
		for _, r := range st.Reminders {
			if r.Until != "" {
				record(r.Until, in.EnteredAt, map[string]any{"reminder": r.Every.String(), "until": r.Until, "state": in.State})
			}
		}
	}
	for i, s := range def.SLAs {
		if c := in.Clocks[i]; s.At != "" && (c.Status == ClockRunning || c.Status == ClockPaused) {
			record(s.At, c.StartedAt, map[string]any{"sla": s.Name, "at": s.At})
		}
	}
}

// deadlineTarget sets the target of clock i, whose SLA falls due at an instant,
// to the business time from the clock's start to that instant, so pauses,
// escalations and warnings work as for any target. It reports whether the
// target changed. An instant not set yet leaves the clock without a target
// (no mark falls due) until it is.
func (in *Instance) deadlineTarget(def *Definition, i int) bool {
	s, c := def.SLAs[i], &in.Clocks[i]
	t, ok := in.deadlineOf(def, s.At, c.StartedAt)
	if !ok {
		changed := c.DueAt != nil
		c.DueAt, c.Target = nil, 0
		return changed
	}
	if c.DueAt != nil && c.DueAt.Equal(t) {
		return false
	}
	t = t.UTC()
	c.DueAt = &t
	c.Target = Duration(CalendarOf(def).Between(c.StartedAt, t))
	return true
}

// redateDeadlines moves the target of every started clock that falls due at
// an instant whose expression now gives another one (a variable changed):
// like a target chosen by priority, the time counted is kept and marks of the
// new target already past fall due now.
func (in *Instance) redateDeadlines(def *Definition, now time.Time) {
	for i, s := range def.SLAs {
		c := &in.Clocks[i]
		if s.At == "" || c.Status == ClockPending || c.Status == ClockStopped {
			continue
		}
		from := c.Target
		if !in.deadlineTarget(def, i) {
			continue
		}
		data := map[string]any{"from": from.String(), "to": c.Target.String(), "at": s.At}
		if c.DueAt != nil {
			data["due_at"] = c.DueAt.Format(time.RFC3339)
		}
		in.emit(Event{At: now, Type: EventSLATargetChanged, Actor: System.ID, SLA: c.Name, Data: data})
		c.NotBefore = &now
	}
}

// clockStarted is the data of the sla_started event of clock i, just started:
// its target, and for an SLA due at an instant, the instant (which sets the
// target).
func (in *Instance) clockStarted(def *Definition, i int) map[string]any {
	c := &in.Clocks[i]
	if def.SLAs[i].At == "" {
		return map[string]any{"target": c.Target.String()}
	}
	in.deadlineTarget(def, i)
	data := map[string]any{"target": c.Target.String(), "at": def.SLAs[i].At}
	if c.DueAt != nil {
		data["due_at"] = c.DueAt.Format(time.RFC3339)
	}
	return data
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// fireMovedTimers fires, at now, the timers at an instant that a change has
// just moved into the past (a variable set to an earlier time): whatever was
// due before now fired before the change, so these would otherwise be
// recorded before the change that made them due. Marks of SLAs due at an
// instant are held the same way, by NotBefore (redateDeadlines).
func (in *Instance) fireMovedTimers(def *Definition, now time.Time) {
	st := def.State(in.State)
	if st == nil || in.Ended() {
		return
	}
	for i, t := range st.Timers {
		if t.At == "" || containsInt(in.TimersFired, i) {
			continue
		}
		if at, ok := in.deadlineOf(def, t.At, in.EnteredAt); ok && latest(at, in.EnteredAt).Before(now) {
			// fire checks the conditions again, which fires the next one.
			in.fire(def, wake{at: now, clock: -1, timer: i})
			return
		}
	}
}

// startedBy reports whether the pending clock of s starts because the clock
// its start_on names has reached its mark.
func (in *Instance) startedBy(def *Definition, s SLA) bool {
	if s.StartOn == nil {
		return false
	}
	for i, o := range def.SLAs {
		if o.Name == s.StartOn.SLA {
			return s.StartOn.Breached && in.Clocks[i].Breached
		}
	}
	return false
}

// Period ends for deadline expressions, in the definition's calendar and its
// time zone (UTC for 24x7): the first instant after the period, so "by the end
// of the month" is "before end_of_month(now)".
func periodFunctions(d *Definition) []cel.EnvOption {
	unary := func(name string, f func(time.Time) time.Time) cel.EnvOption {
		return cel.Function(name, cel.Overload(name+"_timestamp", []*cel.Type{cel.TimestampType}, cel.TimestampType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				t, ok := v.Value().(time.Time)
				if !ok {
					return types.NewErr("%s needs a timestamp", name)
				}
				return types.Timestamp{Time: f(t)}
			})))
	}
	return []cel.EnvOption{
		unary("end_of_day", func(t time.Time) time.Time { return periodEnd(d, t, false, false) }),
		unary("end_of_month", func(t time.Time) time.Time { return periodEnd(d, t, true, false) }),
		unary("end_of_business_day", func(t time.Time) time.Time { return periodEnd(d, t, false, true) }),
		unary("end_of_business_month", func(t time.Time) time.Time { return periodEnd(d, t, true, true) }),
	}
}

// periodEnd returns the end of t's day or month in d's calendar: midnight after
// it, or, with working set, the close of its last working hours; a period
// whose working hours have all passed at t gives the next period's end.
func periodEnd(d *Definition, t time.Time, month, working bool) time.Time {
	b, _ := CalendarOf(d).(*business)
	loc := time.UTC
	if b != nil {
		loc = b.loc
	}
	y, m, day := t.In(loc).Date()
	first, last := day, day // the days of the period
	if month {
		first, last = 1, time.Date(y, m+1, 0, 0, 0, 0, 0, loc).Day()
	}
	if !working || b == nil {
		return time.Date(y, m, last+1, 0, 0, 0, 0, loc).UTC()
	}
	for period := 0; period < maxCalendarDays; period++ {
		for dd := last; dd >= first; dd-- {
			midnight := time.Date(y, m, dd, 0, 0, 0, 0, loc)
			end := -1
			for _, s := range b.spans(midnight) {
				end = max(end, s.End)
			}
			if end < 0 {
				continue
			}
			if close := at(midnight, end); close.After(t) {
				return close.UTC()
			}
			break // the period's last working hours have passed
		}
		// The next period: the next day, or the next month.
		if month {
			m++
			first, last = 1, time.Date(y, m+1, 0, 0, 0, 0, 0, loc).Day()
		} else {
			day++
			first, last = day, day
		}
	}
	return time.Date(y, m, last+1, 0, 0, 0, 0, loc).UTC()
}
