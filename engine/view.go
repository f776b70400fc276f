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
	Warned    bool       `json:"warned,omitempty"`
}

// ApprovalView is the vote of the current state: the votes so far, the tally
// and when it is due.
type ApprovalView struct {
	Votes []Vote     `json:"votes"`
	Tally Tally      `json:"tally"`
	Due   *time.Time `json:"due,omitempty"`
	// Excluded are the people its exclude expressions keep from voting.
	Excluded []string `json:"excluded,omitempty"`
	// Electorate is who votes, when it was resolved as the vote opened.
	Electorate []string `json:"electorate,omitempty"`
	// Board is the process whose meetings decide this approval.
	Board string `json:"board,omitempty"`
	// Items are the agenda of a meeting's vote, each with its own tally.
	Items []ItemView `json:"items,omitempty"`
}

// ItemView is one item of a meeting's agenda and its tally so far.
type ItemView struct {
	AgendaItem
	Tally Tally `json:"tally"`
}

// TaskView is one parallel task of the current state.
type TaskView struct {
	Name    string     `json:"name"`
	Roles   []string   `json:"roles,omitempty"`
	Done    bool       `json:"done"`
	By      string     `json:"by,omitempty"`
	At      *time.Time `json:"at,omitempty"`
	Due     *time.Time `json:"due,omitempty"`
	Overdue bool       `json:"overdue,omitempty"`
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
	Approval   *ApprovalView  `json:"approval,omitempty"`
	Tasks      []TaskView     `json:"tasks,omitempty"`
	Links      []Link         `json:"links,omitempty"`
	// TakenBy is who took the actions an action's not_by names, by action.
	TakenBy map[string][]string `json:"taken_by,omitempty"`
}

// View returns the instance as seen at now.
func (in *Instance) View(def *Definition, now time.Time) View {
	cal := CalendarOf(def)
	v := View{
		ID: in.ID, Definition: in.Definition, Version: in.Version, State: in.State,
		Priority: in.Priority(), Input: in.Input, Vars: in.Vars, SLAs: []SLAView{},
		StartedAt: in.StartedAt, StartedBy: in.StartedBy, EndedAt: in.EndedAt, Seq: in.Seq, TakenBy: in.TakenBy,
	}
	for i := range in.Clocks {
		c := &in.Clocks[i]
		sv := SLAView{Name: c.Name, Status: c.Status, Target: c.Target, Breached: c.Breached, BreachAt: c.BreachAt,
			Elapsed: Duration(c.used(cal, now)), StartedAt: c.StartedAt, StoppedAt: c.StoppedAt, Warned: c.Warned}
		if due, ok := c.Due(def); ok {
			sv.Due = &due
		}
		v.SLAs = append(v.SLAs, sv)
	}
	if t, _, ok := in.NextWake(def); ok {
		v.NextWake = &t
	}
	v.Links = in.Links
	if st := def.State(in.State); st != nil && !in.Ended() {
		if a := st.Approval; a != nil {
			av := &ApprovalView{Votes: append([]Vote{}, in.Votes...), Tally: in.tally(a), Board: a.Board, Electorate: in.Electorate}
			for _, id := range in.agendaIDs(a) {
				it := in.agendaItem(def, a, id)
				if it == nil {
					continue
				}
				t := in.itemTally(a, it)
				if d := in.itemDecision(id); d != nil {
					t = d.Tally
				}
				av.Items = append(av.Items, ItemView{AgendaItem: *it, Tally: t})
			}
			if len(a.Exclude) > 0 {
				av.Excluded, _ = in.excluded(def, a, now)
			}
			if a.Due > 0 {
				due := cal.Add(in.EnteredAt, time.Duration(a.Due))
				av.Due = &due
			}
			v.Approval = av
		}
		if par := st.Parallel; par != nil {
			for _, t := range par.Tasks {
				tv := TaskView{Name: t.Name, Roles: t.Roles, Overdue: contains(in.TasksOverdue, t.Name)}
				if d := in.taskDone(t.Name); d != nil {
					at := d.At
					tv.Done, tv.By, tv.At = true, d.Actor, &at
				}
				if t.Due > 0 {
					due := cal.Add(in.EnteredAt, time.Duration(t.Due))
					tv.Due = &due
				}
				v.Tasks = append(v.Tasks, tv)
			}
		}
	}
	return v
}
