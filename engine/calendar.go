package engine

import "time"

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

// calendarOf returns the calendar a definition names. Parse refuses any other name.
func calendarOf(*Definition) Calendar { return always{} }
