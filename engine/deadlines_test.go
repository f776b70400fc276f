package engine_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

func countEvents(in *engine.Instance, typ string) int {
	n := 0
	for _, e := range in.Pending {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func firstEvent(in *engine.Instance, typ, sla string) *engine.Event {
	for i, e := range in.Pending {
		if e.Type == typ && (sla == "" || e.SLA == sla) {
			return &in.Pending[i]
		}
	}
	return nil
}

const deadlineDefinition = `name: month-end
variables:
  month_end: {type: datetime}
  until: {type: datetime}
initial: open
states:
  open:
    timers:
      - {at: "= vars.month_end", action: expire}
    reminders:
      - every: 1h
        until: "= vars.until"
        do: [{notify: {role: desk}}]
    actions:
      plan: {to: open, roles: [desk], input: {month_end: {type: datetime, required: true}, until: {type: datetime}}}
      expire: {to: expired}
      solve: {to: solved, roles: [desk]}
  expired: {final: true}
  solved: {final: true}
slas:
  this_month:
    at: "= end_of_month(now)"
    stop_on_enter: [solved]
  replacement:
    target: 24h
    start_on: {sla: this_month, breached: true}
    stop_on_enter: [solved]
escalations:
  - on: {sla: this_month, at: 100%}
    do: [{notify: {role: regional-manager}}]
`

func TestDeadlinesAtAnInstant(t *testing.T) {
	def := mustParse(t, deadlineDefinition)
	t0 := time.Date(2026, 1, 30, 22, 0, 0, 0, time.UTC)
	monthEnd := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	desk := engine.Actor{ID: "dan", Roles: []string{"desk"}}

	t.Run("AnSLADueAtTheEndOfTheMonthItStarted", func(t *testing.T) {
		in, err := engine.Start(def, "m-1", 1, nil, desk, "", t0)
		if err != nil {
			t.Fatal(err)
		}
		ev := firstEvent(in, engine.EventSLAStarted, "this_month")
		if ev == nil || ev.Data["due_at"] != "2026-02-01T00:00:00Z" || ev.Data["target"] != "1d2h" {
			t.Fatalf("sla_started = %+v", ev)
		}
		if firstEvent(in, engine.EventSLAStarted, "replacement") != nil {
			t.Fatal("the replacement clock started before the breach it waits for")
		}
		in.Advance(def, monthEnd.Add(time.Minute))
		br := firstEvent(in, engine.EventSLABreached, "this_month")
		if br == nil || !br.At.Equal(monthEnd) {
			t.Fatalf("breach = %+v, want at %s", br, monthEnd)
		}
		if firstEvent(in, engine.EventEscalation, "this_month") == nil {
			t.Fatal("the 100% escalation of a clock due at an instant did not fire")
		}
		st := firstEvent(in, engine.EventSLAStarted, "replacement")
		if st == nil || !st.At.Equal(monthEnd) {
			t.Fatalf("replacement clock started %+v, want at the breach %s", st, monthEnd)
		}
		if at, ok := in.Clocks[1].Due(def); !ok || !at.Equal(monthEnd.Add(24*time.Hour)) {
			t.Fatalf("replacement due %v, want 24h after the first breach", at)
		}
	})

	t.Run("ATimerAtAVariableWaitsUntilItIsSet", func(t *testing.T) {
		in, _ := engine.Start(def, "m-2", 1, nil, desk, "", t0)
		in.Pending = nil
		if at, what, _ := in.NextWake(def); strings.Contains(what, "timer") {
			t.Fatalf("an unset instant armed the timer at %v (%s)", at, what)
		}
		due := t0.Add(30 * time.Minute)
		err := in.Apply(def, engine.ActionRequest{Action: "plan", Actor: desk, Input: map[string]any{"month_end": due.Format(time.RFC3339)}}, t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		at, what, ok := in.NextWake(def)
		if !ok || !at.Equal(due) || !strings.Contains(what, "at vars.month_end") {
			t.Fatalf("next wake %v %q, want the timer at %s", at, what, due)
		}
		in.Advance(def, due)
		if in.State != "expired" || firstEvent(in, engine.EventTimerFired, "").Data["at"] != "vars.month_end" {
			t.Fatalf("state %s, events %+v", in.State, in.Pending)
		}
	})

	t.Run("RemindersEndAtTheirUntil", func(t *testing.T) {
		in, _ := engine.Start(def, "m-3", 1, nil, desk, "", t0)
		until := t0.Add(150 * time.Minute)
		far := t0.Add(30 * 24 * time.Hour)
		err := in.Apply(def, engine.ActionRequest{Action: "plan", Actor: desk, Input: map[string]any{
			"month_end": far.Format(time.RFC3339), "until": until.Format(time.RFC3339)}}, t0)
		if err != nil {
			t.Fatal(err)
		}
		in.Pending = nil
		in.Advance(def, t0.Add(10*time.Hour))
		if n := countEvents(in, engine.EventReminder); n != 2 {
			t.Fatalf("%d reminders, want 2 (at 1h and 2h; 3h is past until)", n)
		}
	})
}

func TestPeriodEndsFollowTheCalendar(t *testing.T) {
	calSrc, err := os.ReadFile("../definitions/calendars.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cals, err := engine.ParseCalendars(calSrc)
	if err != nil {
		t.Fatal(err)
	}
	src := `name: ends
calendar: 5x8
variables:
  day: {type: datetime}
  month: {type: datetime}
  bday: {type: datetime}
  bmonth: {type: datetime}
initial: open
states:
  open:
    on_enter:
      - set:
          day: "= end_of_day(now)"
          month: "= end_of_month(now)"
          bday: "= end_of_business_day(now)"
          bmonth: "= end_of_business_month(now)"
    actions: {close: {to: closed}}
  closed: {final: true}
`
	def, err := engine.ParseWith([]byte(src), cals)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name                     string
		at                       time.Time
		day, month, bday, bmonth string
	}{
		// Friday 2026-01-30 10:00 in Shanghai (02:00 UTC).
		{"AWorkingMorning", time.Date(2026, 1, 30, 2, 0, 0, 0, time.UTC),
			"2026-01-30T16:00:00Z", "2026-01-31T16:00:00Z", "2026-01-30T10:00:00Z", "2026-01-30T10:00:00Z"},
		// Friday 19:00 in Shanghai: the day's and the month's working hours are over.
		{"AfterTheLastWorkingHoursOfTheMonth", time.Date(2026, 1, 30, 11, 0, 0, 0, time.UTC),
			"2026-01-30T16:00:00Z", "2026-01-31T16:00:00Z", "2026-02-02T10:00:00Z", "2026-02-27T10:00:00Z"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, err := engine.Start(def, "e-1", 1, nil, engine.Actor{ID: "rita"}, "", c.at)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]string{"day": c.day, "month": c.month, "bday": c.bday, "bmonth": c.bmonth} {
				if got := in.Vars[name]; got != want {
					t.Errorf("%s = %v, want %s", name, got, want)
				}
			}
		})
	}
}

func TestDeadlineValidation(t *testing.T) {
	base := `name: bad
variables:
  due: {type: datetime}
initial: open
states:
  open:
    TIMERS
    actions: {close: {to: closed}}
  closed: {final: true}
slas:
  SLAS
`
	for _, c := range []struct {
		name, timers, slas, want string
	}{
		{"ALiteralIsNoInstant", `timers: [{at: "2026-01-31", action: close}]`, `a: {target: 1h}`,
			`states.open.timers[0].at: expected an expression giving a date and time`},
		{"AnExpressionOfAnotherType", `timers: [{at: "= 1", action: close}]`, `a: {target: 1h}`,
			`expression gives a whole number (int), but a deadline needs a date and time`},
		{"AfterAndAt", `timers: [{after: 1h, at: "= vars.due", action: close}]`, `a: {target: 1h}`,
			`either after (a duration) or at (an instant), not both`},
		{"AnSLAWithTargetAndAt", `timers: []`, `a: {target: 1h, at: "= vars.due"}`,
			`slas.a.at: an SLA falls due either at an instant (at) or after a target`},
		{"StartOnAnUnknownSLA", `timers: []`, "a: {target: 1h}\n  b: {target: 1h, start_on: {sla: aa, breached: true}}",
			`slas.b.start_on.sla: unknown SLA "aa" (did you mean "a"?)`},
		{"StartOnItsOwnBreach", `timers: []`, `a: {target: 1h, start_on: {sla: a, breached: true}}`,
			`SLA "a" cannot start on its own breach`},
		{"StartOnNotBreached", `timers: []`, "a: {target: 1h}\n  b: {target: 1h, start_on: {sla: a, breached: false}}",
			`breached: false would never start the clock`},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(strings.Replace(base, "TIMERS", c.timers, 1), "SLAS", c.slas, 1)
			_, err := engine.Parse([]byte(src))
			if err == nil || !strings.Contains(errorText(err), c.want) {
				t.Fatalf("Parse = %v, want %q", errorText(err), c.want)
			}
		})
	}
}

// errorText is an error with every detail at line:column.
func errorText(err error) string {
	var e *engine.Error
	if err == nil {
		return "<nil>"
	}
	if !errors.As(err, &e) {
		return err.Error()
	}
	var b strings.Builder
	b.WriteString(e.Error())
	for _, d := range e.Details {
		b.WriteString("\n")
		b.WriteString(d.Field + ": " + d.Message)
	}
	return b.String()
}

const movingDeadline = `name: moving
variables:
  due: {type: datetime}
initial: open
states:
  open:
    timers: [{at: "= timestamp('2026-01-01T00:00:00Z')", action: late}]
    actions:
      set_due: {to: open, input: {due: {type: datetime, required: true}}}
      late: {to: open2}
  open2:
    actions:
      set_due: {to: open2, input: {due: {type: datetime, required: true}}}
      done: {to: closed}
  closed: {final: true}
slas:
  by_due:
    at: "= vars.due"
    stop_on_enter: [closed]
  past:
    at: "= timestamp('2026-01-01T00:00:00Z')"
    stop_on_enter: [closed]
`

func TestDeadlinesInThePastAndMoving(t *testing.T) {
	def := mustParse(t, movingDeadline)
	t0 := time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC)
	someone := engine.Actor{ID: "sam"}
	in, err := engine.Start(def, "mv-1", 1, nil, someone, "", t0)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("AnInstantPastAtTheStartFallsDueAtOnce", func(t *testing.T) {
		at, _, ok := in.NextWake(def)
		if !ok || !at.Equal(t0) {
			t.Fatalf("next wake %v, want at once (%s)", at, t0)
		}
		in.Advance(def, t0)
		if br := firstEvent(in, engine.EventSLABreached, "past"); br == nil || !br.At.Equal(t0) {
			t.Fatalf("the past SLA breached %+v, want at the start", br)
		}
		if in.State != "open2" {
			t.Fatalf("a timer at a past instant: state %s, want open2 on entering", in.State)
		}
		if firstEvent(in, engine.EventSLABreached, "by_due") != nil {
			t.Fatal("an SLA at an instant not set yet breached")
		}
	})
	t.Run("AnInstantThatMovesMovesTheDeadline", func(t *testing.T) {
		in.Pending = nil
		due := t0.Add(48 * time.Hour)
		if err := in.Apply(def, engine.ActionRequest{Action: "set_due", Actor: someone, Input: map[string]any{"due": due.Format(time.RFC3339)}}, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		ev := firstEvent(in, engine.EventSLATargetChanged, "by_due")
		if ev == nil || ev.Data["due_at"] != due.Format(time.RFC3339) || ev.Data["to"] != "2d" {
			t.Fatalf("sla_target_changed = %+v", ev)
		}
		if got, ok := in.Clocks[0].Due(def); !ok || !got.Equal(due) {
			t.Fatalf("due %v, want %s", got, due)
		}
		earlier := t0.Add(24 * time.Hour)
		if err := in.Apply(def, engine.ActionRequest{Action: "set_due", Actor: someone, Input: map[string]any{"due": earlier.Format(time.RFC3339)}}, t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		in.Advance(def, earlier.Add(time.Minute))
		if br := firstEvent(in, engine.EventSLABreached, "by_due"); br == nil || !br.At.Equal(earlier) {
			t.Fatalf("breach %+v, want at the moved instant %s", br, earlier)
		}
	})
}

func TestCalendarsTakeAliases(t *testing.T) {
	src := `calendars:
  office:
    timezone: Europe/Paris
    hours:
      mon: &day ["09:00-12:00", "14:00-18:00"]
      tue: *day
      wed: *day
    holidays: &holidays [2026-05-01]
  office-copy:
    timezone: Europe/Paris
    hours: {mon: *day}
    holidays: *holidays
`
	cals, err := engine.ParseCalendars([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if spec := cals.Spec("office"); spec == nil || len(spec.Week[time.Tuesday]) != 2 || len(spec.Week[time.Wednesday]) != 2 {
		t.Fatalf("office = %+v", spec)
	}
	if spec := cals.Spec("office-copy"); spec == nil || len(spec.Holidays) != 1 {
		t.Fatalf("office-copy = %+v", spec)
	}
}

// TestATimerMovedIntoThePastFiresAtTheChange: a change that sets the
// instant of a timer to a time already past fires it at the change, not
// before it (whatever was due before the change has fired by then).
func TestATimerMovedIntoThePastFiresAtTheChange(t *testing.T) {
	def := mustParse(t, deadlineDefinition)
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	desk := engine.Actor{ID: "dan", Roles: []string{"desk"}}
	in, _ := engine.Start(def, "m-9", 1, nil, desk, "", t0)
	in.Advance(def, t0.Add(time.Hour))
	at := t0.Add(time.Hour)
	err := in.Apply(def, engine.ActionRequest{Action: "plan", Actor: desk, Input: map[string]any{"month_end": t0.Add(30 * time.Minute).Format(time.RFC3339)}}, at)
	if err != nil {
		t.Fatal(err)
	}
	ev := firstEvent(in, engine.EventTimerFired, "")
	if in.State != "expired" || ev == nil || !ev.At.Equal(at) {
		t.Fatalf("state %s, timer_fired %+v; want expired at the change %s", in.State, ev, at)
	}
	for i := 1; i < len(in.Pending); i++ {
		if in.Pending[i].At.Before(in.Pending[i-1].At) {
			t.Fatalf("events out of order: %+v before %+v", in.Pending[i-1], in.Pending[i])
		}
	}
}
