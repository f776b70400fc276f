package engine

import (
	"fmt"
	"time"
	// Calendars name IANA zones. Go reads the host's zone files first and the
	// copy built in only where the host has none (a minimal container), so a
	// zone loads everywhere; a host whose tzdata changed a zone's rules would
	// compute that zone's deadlines by the new ones (see calendarZone).
	_ "time/tzdata"
)

// Calendar24x7 is the calendar in which every hour counts.
const Calendar24x7 = "24x7"

// Calendar decides which time counts towards SLA targets and state timers.
// Implementations must be pure functions of their arguments: replaying a history
// years later must yield the same deadlines.
type Calendar interface {
	// Add returns the instant at which d of business time has passed since t.
	Add(t time.Time, d time.Duration) time.Time
	// Between returns the business time in [a, b); zero when b is not after a.
	Between(a, b time.Time) time.Duration
}

// always counts every hour of every day.
type always struct{}

func (always) Add(t time.Time, d time.Duration) time.Time { return t.Add(d) }

func (always) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	return b.Sub(a)
}

// Span is a stretch of working time within a day, in minutes after midnight.
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// CalendarSpec is a business calendar: working hours per weekday in a time zone,
// holidays that do not count, and extra working days (the weekends that are worked
// to make up for a holiday) that follow the Monday schedule. It travels inside the
// definition snapshot, so a calendar edited later never changes a running process.
type CalendarSpec struct {
	Name     string `json:"name"`
	Timezone string `json:"timezone"`
	// Week holds the spans of each weekday, indexed by time.Weekday (0 = Sunday).
	Week        [7][]Span `json:"week"`
	Holidays    []string  `json:"holidays,omitempty"`     // YYYY-MM-DD
	WorkingDays []string  `json:"working_days,omitempty"` // YYYY-MM-DD
	// Blackouts are periods in which no change may be scheduled (freezes).
	Blackouts []Blackout `json:"blackouts,omitempty"`
}

// Blackout is a named period [From, To) closed to changes.
type Blackout struct {
	Name string    `json:"name"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// maxCalendarDays bounds the search for working time, so a calendar whose holidays
// cover years cannot loop for ever.
const maxCalendarDays = 3 * 366

// business implements Calendar for a spec.
type business struct {
	spec     *CalendarSpec
	loc      *time.Location
	holidays map[string]bool
	extra    map[string]bool
}

// calendarZone loads a calendar's zone. The rules of a zone are read where the
// process runs, not snapshotted when the definition was published (as the
// calendar itself is): Go offers no way to prefer its built-in copy, and the
// engine does no I/O to read zone files itself. Zones that change their rules
// are rare and announced; a site upgrading tzdata should replay the open
// processes of the affected calendars (itilflow replay --definition).
func calendarZone(name string) (*time.Location, error) { return time.LoadLocation(name) }

func newBusiness(spec *CalendarSpec) (*business, error) {
	loc, err := calendarZone(spec.Timezone)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", spec.Timezone, err)
	}
	b := &business{spec: spec, loc: loc, holidays: map[string]bool{}, extra: map[string]bool{}}
	for _, d := range spec.Holidays {
		b.holidays[d] = true
	}
	for _, d := range spec.WorkingDays {
		b.extra[d] = true
	}
	return b, nil
}

// spans returns the working spans of the local day that starts at midnight.
func (b *business) spans(midnight time.Time) []Span {
	key := midnight.Format(time.DateOnly)
	switch {
	case b.extra[key]:
		return b.spec.Week[time.Monday]
	case b.holidays[key]:
		return nil
	}
	return b.spec.Week[midnight.Weekday()]
}

// day returns local midnight of the day containing t, and of the next day.
func (b *business) day(t time.Time) (time.Time, time.Time) {
	y, m, d := t.In(b.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, b.loc), time.Date(y, m, d+1, 0, 0, 0, 0, b.loc)
}

func at(midnight time.Time, minutes int) time.Time {
	y, m, d := midnight.Date()
	return time.Date(y, m, d, minutes/60, minutes%60, 0, 0, midnight.Location())
}

func (b *business) Add(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	cursor := t
	midnight, next := b.day(t)
	for i := 0; i < maxCalendarDays; i++ {
		for _, s := range b.spans(midnight) {
			start, end := at(midnight, s.Start), at(midnight, s.End)
			if !end.After(cursor) {
				continue
			}
			if start.Before(cursor) {
				start = cursor
			}
			if avail := end.Sub(start); d <= avail {
				return start.Add(d).In(t.Location())
			} else {
				d -= avail
			}
		}
		midnight, next = next, time.Date(next.Year(), next.Month(), next.Day()+1, 0, 0, 0, 0, b.loc)
		cursor = midnight
	}
	// Parse refuses calendars without working time; this is a calendar with
	// years of holidays. Count the rest as calendar time rather than never.
	return cursor.Add(d).In(t.Location())
}

func (b *business) Between(a, z time.Time) time.Duration {
	if !z.After(a) {
		return 0
	}
	var total time.Duration
	midnight, next := b.day(a)
	for i := 0; i < maxCalendarDays*4 && midnight.Before(z); i++ {
		for _, s := range b.spans(midnight) {
			start, end := at(midnight, s.Start), at(midnight, s.End)
			if start.Before(a) {
				start = a
			}
			if end.After(z) {
				end = z
			}
			if end.After(start) {
				total += end.Sub(start)
			}
		}
		midnight, next = next, time.Date(next.Year(), next.Month(), next.Day()+1, 0, 0, 0, 0, b.loc)
	}
	return total
}

// CalendarOf returns the calendar of a definition: its embedded business calendar,
// or 24x7. The calendar is built once per Definition value and kept in it.
func CalendarOf(def *Definition) Calendar {
	if def.cal != nil {
		return def.cal
	}
	def.cal = always{}
	if def.CalendarSpec != nil {
		// Parse loaded the zone when it compiled the definition, so it loads
		// here too: from the host's zone files, or the copy built in.
		if b, err := newBusiness(def.CalendarSpec); err == nil {
			def.cal = b
		}
	}
	return def.cal
}
