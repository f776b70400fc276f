package engine_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// withTarget is a definition of calendar cal whose one SLA has target.
func withTarget(cal, target string) string {
	return `name: req
calendar: ` + cal + `
initial: open
states:
  open: {actions: {done: {to: closed}}}
  closed: {final: true}
slas:
  answer: {target: ` + target + `}
`
}

// TestWorkingDaysLandOnTheSameBusinessInstant: 2wd from Friday 14:00 in 5x8,
// over a weekend, a holiday Monday and a worked Saturday of testCalendars.
func TestWorkingDaysLandOnTheSameBusinessInstant(t *testing.T) {
	cals, _ := engine.ParseCalendars([]byte(testCalendars))
	for _, tc := range []struct {
		start  time.Time
		target string
		want   time.Time
	}{
		// Friday 14:00 + 2 working days: Monday is a holiday, so Wednesday 14:00.
		{time.Date(2026, 12, 4, 14, 0, 0, 0, shanghai), "2wd", time.Date(2026, 12, 9, 14, 0, 0, 0, shanghai)},
		// Friday 11:00 + 1 working day: Saturday 12-12 is worked.
		{time.Date(2026, 12, 11, 11, 0, 0, 0, shanghai), "1wd", time.Date(2026, 12, 12, 11, 0, 0, 0, shanghai)},
		// Tuesday 09:00 + 1wd 2h: Wednesday 11:00.
		{time.Date(2026, 12, 1, 9, 0, 0, 0, shanghai), "1wd2h", time.Date(2026, 12, 2, 11, 0, 0, 0, shanghai)},
	} {
		def, err := engine.ParseWith([]byte(withTarget("5x8", tc.target)), cals)
		if err != nil {
			t.Fatal(err)
		}
		in, err := engine.Start(def, "req-1", 1, nil, engine.Actor{ID: "rita"}, "", tc.start)
		if err != nil {
			t.Fatal(err)
		}
		if due, _ := in.Clocks[0].Due(def); !due.Equal(tc.want) {
			t.Errorf("%s from %v: due %v, want %v", tc.target, tc.start, due.In(shanghai), tc.want)
		}
	}
	// In 24x7 a working day is a day.
	def, err := engine.Parse([]byte(withTarget("24x7", "2wd")))
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(def.SLAs[0].Target); got != 48*time.Hour {
		t.Fatalf("2wd in 24x7 is %v, want 48h", got)
	}
}

// TestDaysInABusinessCalendarSayWhatToWrite: a 24-hour day in a business
// calendar was six working days for "2d"; now it is refused with the fix.
func TestDaysInABusinessCalendarSayWhatToWrite(t *testing.T) {
	cals, _ := engine.ParseCalendars([]byte(testCalendars))
	for _, tc := range []struct{ cal, target, want string }{
		{"5x8", "2d", `8:20: slas.answer.target: invalid duration "2d": 2d counts 48 business hours of calendar "5x8" (6 working days), not 2 working day(s): write 2wd for 2 working days, or 16h for 16 business hours`},
		{"5x8", "1w", `8:20: slas.answer.target: invalid duration "1w": 1w counts 168 business hours of calendar "5x8" (21 working days), not 1 working week(s): write 5wd for 5 working days, or 40h for 40 business hours`},
		{"5x8", "1d4h", `write 1wd for 1 working days, or 8h for 8 business hours`},
		// berlin's Monday has 8 hours and its Sunday 3: no one working day.
		{"berlin", "2wd", `invalid duration "2wd": the working days of calendar "berlin" differ in length, so a working day has no one length: write business hours (h)`},
		{"berlin", "1d", `invalid duration "1d": 1d counts 24 business hours of calendar "berlin", not 1 working day(s): write business hours (h)`},
	} {
		_, err := engine.ParseWith([]byte(withTarget(tc.cal, tc.target)), cals)
		var e *engine.Error
		if !errors.As(err, &e) || len(e.Details) != 1 {
			t.Fatalf("%s in %s: got %v, want one problem", tc.target, tc.cal, err)
		}
		d := e.Details[0]
		if got := d.String(); !strings.Contains(got, tc.want) {
			t.Errorf("%s in %s:\n got %s\nwant %s", tc.target, tc.cal, got, tc.want)
		}
	}
	// Working days need a calendar: an input value or an expression has none.
	if _, err := engine.ParseDuration("2wd"); err == nil || !strings.Contains(err.Error(), "working days (wd) count in a process's calendar") {
		t.Fatalf("ParseDuration(2wd): %v", err)
	}
}
