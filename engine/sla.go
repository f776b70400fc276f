package engine

import "time"

// SLA clock statuses.
const (
	ClockRunning = "running"
	ClockPaused  = "paused"
	ClockStopped = "stopped"
	// ClockPending is a clock whose start condition has not held yet.
	ClockPending = "pending"
)

// Clock is the running state of one SLA of an instance. Elapsed counts business time
// up to Since; while running, time since Since counts too. A breached clock keeps
// running until it stops, so reports show by how much a target was missed.
type Clock struct {
	Name      string     `json:"name"`
	Target    Duration   `json:"target"`
	Status    string     `json:"status"`
	Breached  bool       `json:"breached"`
	Elapsed   Duration   `json:"elapsed"`
	Since     time.Time  `json:"since"`
	StartedAt time.Time  `json:"started_at"`
	StoppedAt *time.Time `json:"stopped_at,omitempty"`
	BreachAt  *time.Time `json:"breached_at,omitempty"`
	// Fired lists the indexes (into Definition.Escalations) of the escalations done.
	Fired []int `json:"fired,omitempty"`
	// NotBefore is when the target last changed: no mark falls due before it.
	NotBefore *time.Time `json:"not_before,omitempty"`
	// Warned is set once the clock has passed its SLA's warning threshold.
	Warned bool `json:"warned,omitempty"`
	// DueAt is the instant an SLA with at falls due, as last evaluated.
	DueAt *time.Time `json:"due_at,omitempty"`
}

// notBefore moves a mark that lies before the last change of target to it.
func (c Clock) notBefore(t time.Time) time.Time {
	if c.NotBefore != nil && t.Before(*c.NotBefore) {
		return *c.NotBefore
	}
	return t
}

// used returns the business time the clock has counted at now.
func (c Clock) used(cal Calendar, now time.Time) time.Duration {
	d := time.Duration(c.Elapsed)
	if c.Status == ClockRunning {
		d += cal.Between(c.Since, now)
	}
	return d
}

// at returns the instant at which the clock reaches mark of business time, valid
// only while it runs.
func (c Clock) at(cal Calendar, mark time.Duration) time.Time {
	return cal.Add(c.Since, mark-time.Duration(c.Elapsed))
}

// Due returns the instant the target falls due while the clock runs, and false when
// it is paused or stopped (a paused clock has no due time: it is not moving).
func (c Clock) Due(def *Definition) (time.Time, bool) {
	if c.Status != ClockRunning {
		return time.Time{}, false
	}
	return c.at(CalendarOf(def), time.Duration(c.Target)), true
}

func (c *Clock) fired(i int) bool {
	for _, f := range c.Fired {
		if f == i {
			return true
		}
	}
	return false
}

// target returns the SLA's target for the value key of its By field.
func (s SLA) target(key string) Duration {
	for _, t := range s.Targets {
		if t.Key == key {
			return t.Target
		}
	}
	return 0
}

// targetFor returns the SLA's target for an instance with the given input.
func (s SLA) targetFor(input map[string]any) Duration {
	if s.By == "" {
		return s.Target
	}
	key, _ := input[s.By].(string)
	return s.target(key)
}
