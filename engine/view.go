package engine

import "time"

// SLAView is what people see of an SLA clock at a given time.
type SLAView struct {
	Name      string     `json:"name"`
	Status    string     `json:"status"`
	Target    Duration   `json:"target"`
	Due       *time.Time `json:"due,omitempty"`
	Breached  bool       `json:"breached"`
	BreachAt  *time.Time `json:"breached_at,omitempty"`
	Elapsed   Duration   `json:"elapsed"`
	StartedAt time.Time  `json:"started_at"`
	StoppedAt *time.Time `json:"stopped_at,omitempty"`
}

// View is the readable state of an instance at a time: what the API returns and
// what the projection stores.
type View struct {
	ID         string         `json:"id"`
	Definition string         `json:"definition"`
	Version    int            `json:"version"`
	State      string         `json:"state"`
	Priority   string         `json:"priority,omitempty"`
	Input      map[string]any `json:"input"`
	Vars       map[string]any `json:"vars,omitempty"`
	SLAs       []SLAView      `json:"slas"`
	StartedAt  time.Time      `json:"started_at"`
	StartedBy  string         `json:"started_by"`
	EndedAt    *time.Time     `json:"ended_at,omitempty"`
	NextWake   *time.Time     `json:"next_wake,omitempty"`
	Seq        int64          `json:"seq"`
}

// View returns the instance as seen at now.
func (in *Instance) View(def *Definition, now time.Time) View {
	cal := CalendarOf(def)
	v := View{
		ID: in.ID, Definition: in.Definition, Version: in.Version, State: in.State,
		Priority: in.Priority(), Input: in.Input, Vars: in.Vars, SLAs: []SLAView{},
		StartedAt: in.StartedAt, StartedBy: in.StartedBy, EndedAt: in.EndedAt, Seq: in.Seq,
	}
	for i := range in.Clocks {
		c := &in.Clocks[i]
		sv := SLAView{Name: c.Name, Status: c.Status, Target: c.Target, Breached: c.Breached, BreachAt: c.BreachAt,
			Elapsed: Duration(c.used(cal, now)), StartedAt: c.StartedAt, StoppedAt: c.StoppedAt}
		if due, ok := c.Due(def); ok {
			sv.Due = &due
		}
		v.SLAs = append(v.SLAs, sv)
	}
	if t, _, ok := in.NextWake(def); ok {
		v.NextWake = &t
	}
	return v
}
