package engine

// Definition is a compiled process definition. It travels as workflow input, so it
// holds slices in document order and no maps: iterating it is deterministic.
type Definition struct {
	Name     string `json:"name"`
	Title    string `json:"title,omitempty"`
	Calendar string `json:"calendar"`
	// CalendarSpec is the business calendar named by Calendar, copied in when the
	// definition is compiled; nil means 24x7.
	CalendarSpec *CalendarSpec `json:"calendar_spec,omitempty"`
	Input        []Field       `json:"input,omitempty"`
	Initial      string        `json:"initial"`
	States       []State       `json:"states"`
	SLAs         []SLA         `json:"slas,omitempty"`
	Escalations  []Escalation  `json:"escalations,omitempty"`

	cal Calendar // built from CalendarSpec on first use
}

// Field types of the input schema.
const (
	TypeString = "string"
	TypeText   = "text"
	TypeEnum   = "enum"
	TypeInt    = "int"
	TypeNumber = "number"
	TypeBool   = "bool"
)

// Field is one input field of a process or an action.
type Field struct {
	Name      string   `json:"name"`
	Type      string   `json:"type"`
	Required  bool     `json:"required,omitempty"`
	Default   any      `json:"default,omitempty"`
	MaxLength int      `json:"maxLength,omitempty"`
	Values    []string `json:"values,omitempty"`
}

// State is one state of the process.
type State struct {
	Name  string `json:"name"`
	Final bool   `json:"final,omitempty"`
	// OnEnter steps run each time the process enters the state (at the start,
	// for the initial state).
	OnEnter   []Step     `json:"on_enter,omitempty"`
	Actions   []Action   `json:"actions,omitempty"`
	Timers    []Timer    `json:"timers,omitempty"`
	Reminders []Reminder `json:"reminders,omitempty"`
}

// Reminder does its steps every Every (business time) while the process stays
// in the state; an action in ResetBy (a progress report) starts the period again,
// so the steps run only when a whole period passes without one.
type Reminder struct {
	Every   Duration `json:"every"`
	Do      []Step   `json:"do"`
	ResetBy []string `json:"reset_by,omitempty"`
}

// Action moves a process from its state to To. Roles empty means any authenticated
// user may take it.
type Action struct {
	Name  string   `json:"name"`
	To    string   `json:"to"`
	Roles []string `json:"roles,omitempty"`
	Input []Field  `json:"input,omitempty"`
}

// Timer takes Action on behalf of the system when the process has stayed After in
// the state (in the definition's calendar).
type Timer struct {
	After  Duration `json:"after"`
	Action string   `json:"action"`
}

// SLA is a clock that runs from the start of the process until it is stopped, with
// a target that is fixed or chosen by an input field (By + Targets).
type SLA struct {
	Name        string   `json:"name"`
	Target      Duration `json:"target,omitempty"`
	By          string   `json:"by,omitempty"`
	Targets     []Target `json:"targets,omitempty"`
	StopOnLeave []string `json:"stop_on_leave,omitempty"`
	StopOnEnter []string `json:"stop_on_enter,omitempty"`
	PauseIn     []string `json:"pause_in,omitempty"`
}

// Target is the SLA target when the SLA's By field has value Key.
type Target struct {
	Key    string   `json:"key"`
	Target Duration `json:"target"`
}

// Escalation runs Do once when SLA has used At percent of its target.
type Escalation struct {
	SLA string `json:"sla"`
	At  int    `json:"at"`
	Do  []Step `json:"do"`
}

// Step is one thing an escalation does; exactly one field is set.
type Step struct {
	Notify *Notify      `json:"notify,omitempty"`
	Set    []Assignment `json:"set,omitempty"`
}

// Notify addresses a notification to everyone with Role, or to one User.
type Notify struct {
	Role string `json:"role,omitempty"`
	User string `json:"user,omitempty"`
}

// Assignment sets process variable Name to Value.
type Assignment struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// State returns the named state, or nil.
func (d *Definition) State(name string) *State {
	for i := range d.States {
		if d.States[i].Name == name {
			return &d.States[i]
		}
	}
	return nil
}

// Action returns the named action of the state, or nil.
func (s *State) Action(name string) *Action {
	for i := range s.Actions {
		if s.Actions[i].Name == name {
			return &s.Actions[i]
		}
	}
	return nil
}

// ActionNames returns the names of the state's actions in document order.
func (s *State) ActionNames() []string {
	names := make([]string, len(s.Actions))
	for i, a := range s.Actions {
		names[i] = a.Name
	}
	return names
}

// AllowedActions returns the actions of state that a holder of roles may take.
func (d *Definition) AllowedActions(state string, roles []string) []string {
	st := d.State(state)
	if st == nil {
		return nil
	}
	var out []string
	for _, a := range st.Actions {
		if hasAnyRole(roles, a.Roles) {
			out = append(out, a.Name)
		}
	}
	return out
}

func hasAnyRole(have, want []string) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		for _, h := range have {
			if h == w {
				return true
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
