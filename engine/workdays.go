package engine

import (
	"fmt"
	"time"
)

// workingDays is how a definition's durations count days in its calendar.
// Durations count business time, so on a 5x8 calendar a "d" of 24 hours is
// three working days: "2d" meant six working days, silently. A definition with
// a business calendar therefore writes working days (wd) or hours, and d and w
// are kept for 24x7, where a day is a day.
type workingDays struct {
	calendar string
	business bool
	// day is the business time of one working day; 0 when the calendar's
	// working days differ in length, so a working day has no one length.
	day time.Duration
	// perWeek is the number of weekdays with working hours.
	perWeek int
}

// workingDaysOf is the day counting of a definition's calendar: spec nil is 24x7.
func workingDaysOf(name string, spec *CalendarSpec) workingDays {
	if spec == nil {
		return workingDays{calendar: name, day: 24 * time.Hour, perWeek: 7}
	}
	w := workingDays{calendar: name, business: true}
	lengths := map[int]bool{}
	for _, spans := range spec.Week {
		minutes := 0
		for _, s := range spans {
			minutes += s.End - s.Start
		}
		if minutes > 0 {
			lengths[minutes] = true
			w.perWeek++
			w.day = time.Duration(minutes) * time.Minute
		}
	}
	if len(lengths) != 1 {
		w.day = 0
	}
	return w
}

// parse reads a definition's duration: N working days land at the same
// business instant N working days later, which is N times the working day's
// business hours, so the engine's business-time arithmetic needs nothing new.
func (w workingDays) parse(s string) (Duration, error) {
	parts, err := durationParts(s)
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, p := range parts {
		size := w.day
		switch {
		case p.unit == "wd" && w.day == 0:
			return 0, fmt.Errorf("invalid duration %q: the working days of calendar %q differ in length, so a working day has no one length: write business hours (h)", s, w.calendar)
		case p.unit == "wd":
		case w.business && (p.unit == "d" || p.unit == "w"):
			return 0, w.dayUnitError(s, p)
		default:
			size = durationUnits[p.unit[0]]
		}
		if total, err = p.addTo(s, total, size); err != nil {
			return 0, err
		}
	}
	return positive(s, total)
}

// dayUnitError explains a d or w in a business calendar with the fix spelled
// out in working days and in business hours.
func (w workingDays) dayUnitError(s string, p durationPart) error {
	days, hours := p.n, p.n*24
	unit := "day"
	if p.unit == "w" {
		days, hours, unit = p.n*int64(w.perWeek), p.n*7*24, "week"
	}
	meant := fmt.Sprintf("%d%s counts %d business hours of calendar %q", p.n, p.unit, hours, w.calendar)
	if w.day == 0 {
		return fmt.Errorf("invalid duration %q: %s, not %d working %s(s): write business hours (h)", s, meant, p.n, unit)
	}
	perDay := int64(w.day / time.Hour)
	if w.day%time.Hour != 0 {
		return fmt.Errorf("invalid duration %q: %s, not %d working %s(s): write %dwd for %d working days", s, meant, p.n, unit, days, days)
	}
	return fmt.Errorf("invalid duration %q: %s (%s working days), not %d working %s(s): write %dwd for %d working days, or %dh for %d business hours",
		s, meant, trimFloat(float64(hours)/float64(perDay)), p.n, unit, days, days, days*perDay, days*perDay)
}

// trimFloat writes f with at most one decimal, without a trailing ".0".
func trimFloat(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		return s[:len(s)-2]
	}
	return s
}
