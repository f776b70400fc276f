package engine_test

import (
	"os"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// testCalendars has the shipped 5x8 hours with a holiday on Monday 2026-12-07 and
// Saturday 2026-12-12 worked instead.
const testCalendars = `calendars:
  5x8:
    timezone: Asia/Shanghai
    hours:
      mon: ["09:00-12:00", "13:00-18:00"]
      tue: ["09:00-12:00", "13:00-18:00"]
      wed: ["09:00-12:00", "13:00-18:00"]
      thu: ["09:00-12:00", "13:00-18:00"]
      fri: ["09:00-12:00", "13:00-18:00"]
    holidays: [2026-12-07]
    working_days: [2026-12-12]
  berlin:
    timezone: Europe/Berlin
    hours:
      mon: ["08:00-16:00"]
      sun: ["01:00-04:00"]
`

func calendar(t testing.TB, name string) engine.Calendar {
	t.Helper()
	cals, err := engine.ParseCalendars([]byte(testCalendars))
	if err != nil {
		t.Fatal(err)
	}
	def, err := engine.ParseWith([]byte("name: x\ncalendar: "+name+"\ninitial: a\nstates:\n  a: {actions: {go: {to: b}}}\n  b: {final: true}\n"), cals)
	if err != nil {
		t.Fatal(err)
	}
	return engine.CalendarOf(def)
}

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func TestFourBusinessHoursFromFridayAfternoon(t *testing.T) {
	cal := calendar(t, "5x8")
	for _, tc := range []struct {
		name       string
		from, want time.Time
		hours      time.Duration
	}{
		// Friday 16:00 + 4h: 2h on Friday, Monday 7th is a holiday, so 2h on Tuesday.
		{"SkipsWeekendAndHoliday", time.Date(2026, 12, 4, 16, 0, 0, 0, shanghai), time.Date(2026, 12, 8, 11, 0, 0, 0, shanghai), 4},
		// Friday 11th 16:00 + 4h: Saturday 12th is worked (Monday hours).
		{"UsesAdjustedWorkingSaturday", time.Date(2026, 12, 11, 16, 0, 0, 0, shanghai), time.Date(2026, 12, 12, 11, 0, 0, 0, shanghai), 4},
		// Lunch does not count: 11:00 + 2h = 14:00.
		{"SkipsLunch", time.Date(2026, 12, 9, 11, 0, 0, 0, shanghai), time.Date(2026, 12, 9, 14, 0, 0, 0, shanghai), 2},
		// Starting at night counts from the next morning.
		{"StartsAtNight", time.Date(2026, 12, 9, 22, 0, 0, 0, shanghai), time.Date(2026, 12, 10, 10, 0, 0, 0, shanghai), 1},
		// Ending exactly at the close of business stays there.
		{"EndsAtClose", time.Date(2026, 12, 9, 17, 0, 0, 0, shanghai), time.Date(2026, 12, 9, 18, 0, 0, 0, shanghai), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cal.Add(tc.from, tc.hours*time.Hour)
			if !got.Equal(tc.want) {
				t.Fatalf("%v + %dh = %v, want %v", tc.from, tc.hours, got.In(shanghai), tc.want)
			}
			if b := cal.Between(tc.from, got); b != tc.hours*time.Hour {
				t.Fatalf("Between = %v, want %dh", b, tc.hours)
			}
		})
	}
}

func TestBusinessTimeAcrossDaylightSavingChange(t *testing.T) {
	cal := calendar(t, "berlin")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	// Sunday 2026-03-29 02:00 does not exist in Berlin: 01:00-04:00 has 2 real hours.
	sunday := time.Date(2026, 3, 29, 0, 0, 0, 0, berlin)
	if got := cal.Between(sunday, sunday.Add(24*time.Hour)); got != 2*time.Hour {
		t.Fatalf("Between over the spring change = %v, want 2h", got)
	}
}

// Properties that every deadline computation relies on, over many instants and
// durations, including DST changes and a holiday.
func TestCalendarProperties(t *testing.T) {
	for _, name := range []string{"5x8", "berlin", "24x7"} {
		cal := calendar(t, name)
		t.Run(name, func(t *testing.T) {
			start := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
			for i := 0; i < 400; i++ {
				t0 := start.Add(time.Duration(i*7919) * time.Minute)
				d1 := time.Duration(i%37+1) * 17 * time.Minute
				d2 := time.Duration(i%11+1) * 53 * time.Minute
				a1, a2 := cal.Add(t0, d1), cal.Add(t0, d1+d2)
				if a1.Before(t0) || a2.Before(a1) {
					t.Fatalf("not monotonic at %v: +%v = %v, +%v = %v", t0, d1, a1, d1+d2, a2)
				}
				if chained := cal.Add(a1, d2); !chained.Equal(a2) {
					t.Fatalf("not additive at %v: (+%v)+%v = %v, +%v = %v", t0, d1, d2, chained, d1+d2, a2)
				}
				if b := cal.Between(t0, a1); b != d1 {
					t.Fatalf("Between(t, Add(t, %v)) = %v at %v", d1, b, t0)
				}
			}
		})
	}
}

func TestShippedCalendarsParse(t *testing.T) {
	src, err := os.ReadFile("../definitions/calendars.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cals, err := engine.ParseCalendars(src)
	if err != nil || len(cals) == 0 || cals[0].Name != "5x8" {
		t.Fatalf("%v %v", cals, err)
	}
}

func TestParseCalendarsReportsProblems(t *testing.T) {
	src := "calendars:\n  bad:\n    timezone: Mars/Olympus\n    hours:\n      mon: [\"12:00-09:00\", \"25:00-26:00\"]\n      fry: [\"09:00-17:00\"]\n    holidays: [tomorrow]\n  24x7: {}\n"
	_, err := engine.ParseCalendars([]byte(src))
	e, ok := err.(*engine.Error)
	if !ok || len(e.Details) != 7 || e.Details[0].Line != 2 || e.Details[6].Line != 8 {
		t.Fatalf("got %v", err)
	}
	for _, d := range e.Details {
		if d.Line == 0 {
			t.Fatalf("problem without a position: %v", d)
		}
	}
}

func TestSLATargetsCountBusinessTime(t *testing.T) {
	cals, _ := engine.ParseCalendars([]byte(testCalendars))
	def, err := engine.ParseWith([]byte(`name: req
calendar: 5x8
initial: open
states:
  open: {actions: {done: {to: closed}}}
  closed: {final: true}
slas:
  answer: {target: 4h}
`), cals)
	if err != nil {
		t.Fatal(err)
	}
	in, err := engine.Start(def, "req-1", 1, nil, engine.Actor{ID: "rita"}, "", time.Date(2026, 12, 4, 16, 0, 0, 0, shanghai))
	if err != nil {
		t.Fatal(err)
	}
	due, _ := in.Clocks[0].Due(def)
	if want := time.Date(2026, 12, 8, 11, 0, 0, 0, shanghai); !due.Equal(want) {
		t.Fatalf("due %v, want %v", due.In(shanghai), want)
	}
	in.Advance(def, time.Date(2026, 12, 8, 10, 59, 0, 0, shanghai))
	if in.Clocks[0].Breached {
		t.Fatal("breached over the weekend and the holiday")
	}
	in.Advance(def, time.Date(2026, 12, 8, 11, 0, 0, 0, shanghai))
	if !in.Clocks[0].Breached {
		t.Fatal("not breached at the business-time deadline")
	}
}

func FuzzCalendarAdd(f *testing.F) {
	f.Add(int64(1764835200), int64(4*3600))
	f.Add(int64(1774746000), int64(90*60))
	f.Fuzz(func(t *testing.T, unix, seconds int64) {
		if seconds <= 0 || seconds > 90*24*3600 || unix < 0 || unix > 4102444800 {
			return
		}
		t0 := time.Unix(unix, 0)
		d := time.Duration(seconds) * time.Second
		for _, name := range []string{"5x8", "berlin"} {
			cal := calendar(t, name)
			got := cal.Add(t0, d)
			if got.Before(t0) {
				t.Fatalf("%s: Add went backwards", name)
			}
			if b := cal.Between(t0, got); b != d {
				t.Fatalf("%s: Between(t, Add(t, %v)) = %v from %v", name, d, b, t0)
			}
		}
	})
}
