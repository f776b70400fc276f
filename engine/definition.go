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
	// Variables are the typed values a process keeps besides its input; set
	// steps and expressions use them.
	Variables   []Field      `json:"variables,omitempty"`
	Initial     string       `json:"initial"`
	States      []State      `json:"states"`
	SLAs        []SLA        `json:"slas,omitempty"`
	Escalations []Escalation `json:"escalations,omitempty"`
	// Rules look at other processes when this one starts (see Rule).
	Rules []Rule `json:"rules,omitempty"`
	// Visibility says who sees the processes besides the people each one
	// names; nil means the default (see ViewerRoles).
	Visibility *Visibility `json:"visibility,omitempty"`
	// Labels are display names, by language. They change nothing a process
	// does, so they stay out of workflow input (json "-"): a page reads them
	// from the version's source (see ParseLabels).
	Labels []Labels `json:"-"`
	// Level is the engine behaviour the definition was compiled for. A history
	// holds its definition, so a replay keeps the behaviour it ran with while
	// new definitions get the current one: the engine's equivalent of
	// workflow.GetVersion. Zero is the behaviour before levels existed.
	Level int `json:"level,omitempty"`

	cal   Calendar   // built from CalendarSpec on first use
	cache *exprCache // compiled expressions, made on first use
}

// Engine behaviour levels (see Definition.Level).
const (
	// LevelApprovalNotices: approvers are notified when a vote opens, and the
	// ones who have not voted again at 75% of its due time.
	LevelApprovalNotices = 1
	// LevelOneVotePerPerson: a person casts one vote per approval item,
	// whether for themselves or as a delegate (see oneVoteEach).
	LevelOneVotePerPerson = 2

	// Two more behaviours belong to level 2 though it was not made for them:
	// they shipped without a level of their own (b75fb54) while level 1 was
	// current, and level 2 came after them, so every definition compiled at
	// level 2 has only ever run them. Definitions at levels 0 and 1 behave as
	// before them, as their histories from before that release recorded.
	// (Level-1 processes started between that release and the one that gated
	// it ran the newer behaviour; no level tells them apart.)

	// LevelRolesResolvedBeside: roles listed beside groups or user
	// expressions are resolved to people with them whatever the quorum
	// (before, under any or count, they were left out of the resolution and
	// their holders could not vote), and approvers resolved without the
	// directory are told once, not twice (see openElectorate, onEnter).
	LevelRolesResolvedBeside = LevelOneVotePerPerson
	// LevelBoardDutiesRechecked: an agenda item the meeting has no details of
	// is not votable (before, it was voted on as if nobody had a part in it),
	// and a process checks the votes a meeting releases to it against its own
	// separation of duties and refuses a release that names no board (see
	// agendaItem, CheckRelease). AdmitRelease holds new releases to this
	// whatever the level.
	LevelBoardDutiesRechecked = LevelOneVotePerPerson

	// LevelChildEndsKept: the end of a process this one started that arrives
	// before the start's own outcome (a child that ends at once) is kept until
	// the link is known, instead of being dropped with its on_end (see
	// ChildEnded, CompleteStart).
	LevelChildEndsKept = 3

	// LevelTimersWait: a timer whose action's guard does not hold when it
	// falls due waits, armed, and fires at the first change after which the
	// guard holds; its action's roles are told it is blocked (step_failed).
	// Before, the timer was spent with an error and nobody was told.
	LevelTimersWait = 4

	// LevelGuardsReadInput: an action's guard reads the action's own input
	// through input (input.progress == 100 on the action that reports the
	// progress), the input checked and with its defaults before the guard is
	// evaluated. Before, input was the process's input as it stood before the
	// action, and the guard was evaluated before the input was checked.
	LevelGuardsReadInput = 5
	// LevelRolesComputed: a notify step's role written as an expression
	// ("= …") is evaluated, and the roles it gives are told. Before, such a
	// definition passed validation and a role named after the expression's
	// text was told; Parse now refuses an expression wherever a literal name
	// is expected, and histories of those definitions replay as recorded.
	LevelRolesComputed = LevelGuardsReadInput

	// CurrentLevel is what Parse compiles for.
	CurrentLevel = LevelGuardsReadInput
)

// Field types of the input schema.
const (
	TypeString = "string"
	TypeText   = "text"
	TypeEnum   = "enum"
	TypeInt    = "int"
	TypeNumber = "number"
	TypeBool   = "bool"
	// TypeDuration holds a duration such as "4h" or "2d" (see ParseDuration).
	TypeDuration = "duration"
	// TypeDatetime holds an instant in RFC 3339, such as "2026-11-23T09:00:00+08:00".
	TypeDatetime = "datetime"
	// TypeUser holds a user id; notify and reassign steps can address it.
	TypeUser = "user"
	// TypeList holds a list of strings, each one of Values when Values is set.
	TypeList = "list"
	// TypeCI holds the id of a configuration item of the registry. The
	// engine checks only its form; the service checks the registry knows it
	// before a process starts or an action is taken (that needs I/O), so a
	// workflow never looks it up.
	TypeCI = "ci"
	// TypeKnowledge holds the id of a knowledge article: a process of the
	// shipped knowledge definition. The service checks the article exists
	// and may be seen by whoever names it, as it checks a ci.
	TypeKnowledge = "knowledge"
)

// MaxRefLength bounds a ci or knowledge value: an id, not prose.
const MaxRefLength = 200

// Field is one input field of a process or an action.
type Field struct {
	Name      string   `json:"name"`
	Type      string   `json:"type"`
	Required  bool     `json:"required,omitempty"`
	Default   any      `json:"default,omitempty"`
	MaxLength int      `json:"maxLength,omitempty"`
	Values    []string `json:"values,omitempty"`
	// States, on a knowledge field, are the states the article it names
	// must be in when the value is given ("published"); the service checks
	// it, like the article's existence, before the workflow is asked.
	States []string `json:"states,omitempty"`
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
	// Approval makes the state a vote: approve and reject become its actions.
	Approval *Approval `json:"approval,omitempty"`
	// Parallel holds tasks done side by side; each task is an action of the
	// state that completes it.
	Parallel *Parallel `json:"parallel,omitempty"`
}

// Quorum kinds of an approval.
const (
	QuorumAny      = "any"      // the first vote decides
	QuorumAll      = "all"      // every approver approves; one rejection rejects
	QuorumMajority = "majority" // more than half approve
	QuorumCount    = "count"    // Count approvals
	QuorumPercent  = "percent"  // Percent of the approvers (rounded up)
)

// Timeout outcomes of an approval.
const (
	TimeoutReject   = "reject"
	TimeoutApprove  = "approve"
	TimeoutEscalate = "escalate"
)

// Approval is a vote among approvers that ends in Approved or Rejected.
type Approval struct {
	Roles []string `json:"roles,omitempty"`
	// Users are user ids, or expressions ("= input.service_owner") giving a
	// user or a list of them when the vote opens.
	Users []string `json:"users,omitempty"`
	// Groups are groups of users in the directory, resolved to their members
	// when the vote opens.
	Groups []string `json:"groups,omitempty"`
	// Mandatory users must approve; a rejection by one of them is a veto.
	Mandatory []string `json:"mandatory,omitempty"`
	Quorum    string   `json:"quorum"`
	Count     int      `json:"count,omitempty"`
	Percent   int      `json:"percent,omitempty"`
	// Due is how long the vote may take (business time); zero means no limit.
	Due       Duration `json:"due,omitempty"`
	OnTimeout string   `json:"on_timeout,omitempty"`
	// Escalate runs when the vote is due and OnTimeout is escalate.
	Escalate []Step `json:"escalate,omitempty"`
	Approved string `json:"approved"`
	Rejected string `json:"rejected"`
	// Exclude are expressions naming the people who may not vote besides the
	// one who started the process (separation of duties): the change owner,
	// the implementer. Each gives a user id or a list of them.
	Exclude []string `json:"exclude,omitempty"`
	// BreakGlass, when set, lets its roles bypass the vote with a reason.
	BreakGlass *BreakGlass `json:"break_glass,omitempty"`
	// Board names the process whose meetings decide this approval (a CAB):
	// nobody votes here; a meeting that has the process on its agenda
	// releases its decision (Instance.Release).
	Board string `json:"board,omitempty"`
	// Agenda names the list variable a collect step filled with the processes
	// a meeting decides: the approval is voted item by item, and each item's
	// decision is released to its process as soon as it is reached.
	Agenda string `json:"agenda,omitempty"`
}

// BreakGlass is the one way past an approval without its votes: an action of
// the approval's state (ActionBreakGlass) that Roles may take with a mandatory
// reason. It leads to To (the approved state by default) and runs Do — start
// the post-implementation review, notify the change manager.
type BreakGlass struct {
	Roles []string `json:"roles"`
	To    string   `json:"to"`
	Do    []Step   `json:"do,omitempty"`
}

// ActionBreakGlass is the action a break-glass adds to its approval's state.
const ActionBreakGlass = "break_glass"

// Vote actions of a state with an approval.
const (
	ActionApprove = "approve"
	ActionReject  = "reject"
)

// Join kinds of parallel tasks.
const (
	JoinAll = "all"
	JoinAny = "any"
)

// Parallel is a set of tasks done side by side in a state; the process moves to
// To once all of them (or any one) are done.
type Parallel struct {
	Tasks []Task `json:"tasks"`
	Join  string `json:"join"`
	To    string `json:"to"`
}

// Task is one of a state's parallel tasks. Due (business time from entering the
// state) is when it is overdue: its roles are notified.
type Task struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles,omitempty"`
	Due   Duration `json:"due,omitempty"`
	Input []Field  `json:"input,omitempty"`
}

// Reminder does its steps every Every (business time) while the process stays
// in the state; an action in ResetBy (a progress report) starts the period again,
// so the steps run only when a whole period passes without one.
type Reminder struct {
	Every Duration `json:"every"`
	// When, an expression, must hold for the steps to run; a period in which it
	// does not passes silently.
	When    string   `json:"when,omitempty"`
	Do      []Step   `json:"do"`
	ResetBy []string `json:"reset_by,omitempty"`
	// Until, an expression giving an instant, ends the reminders: no period
	// that would end after it runs.
	Until string `json:"until,omitempty"`
}

// Action moves a process from its state to To. Roles empty means any authenticated
// user may take it.
type Action struct {
	Name  string   `json:"name"`
	To    string   `json:"to"`
	Roles []string `json:"roles,omitempty"`
	Input []Field  `json:"input,omitempty"`
	// When is a guard: an expression that must hold for the action to be taken.
	When string `json:"when,omitempty"`
	// Do runs after the action's input is stored, before the process moves on.
	Do []Step `json:"do,omitempty"`
	// Window names the action's datetime input fields that schedule the work
	// (a change window): it must end after it starts and miss every blackout of
	// the definition's calendar.
	Window *Window `json:"window,omitempty"`
	// Kind is set on the actions a state gets from its approval (the votes) or
	// its parallel tasks; Parse adds them.
	Kind string `json:"kind,omitempty"`
	// NotBy names actions (or NotByStart, NotByVote) whose takers may not
	// take this one: separation of duties between actions.
	NotBy []string `json:"not_by,omitempty"`
}

// Window names the start and end input fields of a scheduling action.
type Window struct {
	Start string `json:"start"`
	End   string `json:"end"`
	// CI names the field (of the action's or the process's input) holding the
	// configuration item the work touches: two processes cannot schedule the
	// same item at overlapping times.
	CI string `json:"ci,omitempty"`
}

// Kinds of the actions Parse adds for approvals and parallel tasks.
const (
	KindVote       = "vote"
	KindTask       = "task"
	KindBreakGlass = "break_glass"
)

// Timer takes Action on behalf of the system when the process has stayed After in
// the state (in the definition's calendar).
type Timer struct {
	After  Duration `json:"after"`
	Action string   `json:"action"`
	// At, instead of After, is an expression giving the instant the timer
	// falls due ("= vars.month_end"); see deadlines.go.
	At string `json:"at,omitempty"`
}

// SLA is a clock that runs from the start of the process until it is stopped, with
// a target that is fixed or chosen by an input field (By + Targets).
type SLA struct {
	Name   string   `json:"name"`
	Target Duration `json:"target,omitempty"`
	// Written is Target as the author wrote it ("24h", "2wd"), which its
	// readers recognise better than its canonical form ("1d", "16h").
	Written     string   `json:"written,omitempty"`
	By          string   `json:"by,omitempty"`
	Targets     []Target `json:"targets,omitempty"`
	StopOnLeave []string `json:"stop_on_leave,omitempty"`
	StopOnEnter []string `json:"stop_on_enter,omitempty"`
	PauseIn     []string `json:"pause_in,omitempty"`
	// StartOnEnter and StartWhen hold the clock back until the process enters
	// one of the states or the expression holds; without them it starts with
	// the process.
	StartOnEnter []string `json:"start_on_enter,omitempty"`
	StartWhen    string   `json:"start_when,omitempty"`
	// StopWhen and PauseWhen are expressions checked after every change.
	StopWhen  string `json:"stop_when,omitempty"`
	PauseWhen string `json:"pause_when,omitempty"`
	// WarnAt is the percentage of the target at which the SLA is at risk.
	WarnAt int `json:"warn_at,omitempty"`
	// Reopen says what a clock stopped by a state does when the process goes
	// back to a state where it runs (a reopened incident): ReopenContinue
	// counts on from the time used, ReopenRestart counts from zero. Without
	// it the clock stays stopped.
	Reopen string `json:"reopen,omitempty"`
	// At, instead of a target, is an expression giving the instant the clock
	// falls due (the end of the month it started in); the target is then the
	// business time from the clock's start to that instant.
	At string `json:"at,omitempty"`
	// StartOn holds the clock back until another clock reaches a mark (its
	// breach).
	StartOn *SLAStart `json:"start_on,omitempty"`
}

// What an SLA clock does when its process is reopened (SLA.Reopen).
const (
	ReopenContinue = "continue"
	ReopenRestart  = "restart"
)

var reopenKinds = []string{ReopenContinue, ReopenRestart}

// runsIn says whether the clock counts in state: not a state that stops it,
// and one of the states it is kept to, if it is kept to some.
func (s SLA) runsIn(def *Definition, state string) bool {
	st := def.State(state)
	return st != nil && !st.Final && !contains(s.StopOnEnter, state) &&
		(len(s.StopOnLeave) == 0 || contains(s.StopOnLeave, state))
}

// Target is the SLA target when the SLA's By field has value Key.
type Target struct {
	Key    string   `json:"key"`
	Target Duration `json:"target"`
	// Written is Target as the author wrote it (see SLA.Written).
	Written string `json:"written,omitempty"`
}

// WrittenTarget is the target of the named SLA as its author wrote it, for
// the value its by field has in p; "" when not known (a target from an
// instant, a version compiled before targets kept their text).
func (d *Definition) WrittenTarget(sla string, p Parties) string {
	for _, s := range d.SLAs {
		if s.Name != sla {
			continue
		}
		if s.By == "" {
			return s.Written
		}
		v, ok := p.Vars[s.By]
		if !ok {
			v = p.Input[s.By]
		}
		key, _ := v.(string)
		for _, t := range s.Targets {
			if t.Key == key {
				return t.Written
			}
		}
	}
	return ""
}

// Escalation runs Do once when SLA has used At percent of its target.
type Escalation struct {
	SLA string `json:"sla"`
	At  int    `json:"at"`
	// When, an expression, must hold at the mark for the steps to run.
	When string `json:"when,omitempty"`
	Do   []Step `json:"do"`
}

// Step is one thing an escalation, reminder, action or state entry does;
// exactly one field besides When is set.
type Step struct {
	Notify *Notify      `json:"notify,omitempty"`
	Set    []Assignment `json:"set,omitempty"`
	// Reassign hands the process to a group (role) or a user and tells them.
	Reassign *Assignee `json:"reassign,omitempty"`
	// RaisePriority moves the priority field this many values towards the
	// first (most urgent) value of its enum.
	RaisePriority int `json:"raise_priority,omitempty"`
	// Action takes an action of the current state on behalf of the system.
	Action  string        `json:"action,omitempty"`
	Start   *StartProcess `json:"start,omitempty"`
	Webhook *Webhook      `json:"webhook,omitempty"`
	// Collect gathers the processes waiting for a decision of this process's
	// meetings (a CAB agenda).
	Collect *Collect `json:"collect,omitempty"`
	// When, an expression, must hold when the step's turn comes for it to
	// run; a step whose condition does not hold is passed over.
	When string `json:"when,omitempty"`
}

// Collect gathers the open processes of Process whose approval names this
// definition as its board into the list variable Into, and their details into
// the instance's agenda.
type Collect struct {
	Process string `json:"process"`
	Into    string `json:"into"`
}

// Notify addresses a notification to everyone with Role, to one User, to
// Users, or to the members of a directory Group; exactly one is set. Each may
// be an expression ("= vars.assignee", "= input.affected_users",
// "= 'users-' + input.service"); a group is resolved to its members by the
// workflow (an effect) and the members are recorded (see recipients.go).
type Notify struct {
	Role  string   `json:"role,omitempty"`
	User  string   `json:"user,omitempty"`
	Users []string `json:"users,omitempty"`
	Group string   `json:"group,omitempty"`
}

// Assignee is who a process is assigned to: a group (a role) or a user (which
// may be an expression). Reassigning stores them in the variables
// assignment_group and assignee.
type Assignee struct {
	Group string `json:"group,omitempty"`
	User  string `json:"user,omitempty"`
}

// Assignment sets process variable Name to Value, or to the value of Expr.
type Assignment struct {
	Name  string `json:"name"`
	Value any    `json:"value,omitempty"`
	Expr  string `json:"expr,omitempty"`
}

// StartProcess starts another process with input mapped from this one. The two
// are linked both ways; with OnEnd set, this process takes that action when the
// other one ends (it waits for it).
type StartProcess struct {
	Process string       `json:"process"`
	Input   []Assignment `json:"input,omitempty"`
	OnEnd   string       `json:"on_end,omitempty"`
	// Once, a string or an expression, names the process started: every
	// start step of any process giving the same value starts one process,
	// and each links to it (two incidents opened at once start one
	// problem).
	Once string `json:"once,omitempty"`
}

// Webhook calls an HTTP endpoint with a JSON body, retrying failures, and maps
// the response into variables. OnFailure is taken when every attempt failed.
type Webhook struct {
	URL       string       `json:"url"`
	Method    string       `json:"method"`
	Body      []Assignment `json:"body,omitempty"`
	Timeout   Duration     `json:"timeout"`
	Retries   int          `json:"retries"`
	Result    []Assignment `json:"result,omitempty"`
	OnFailure string       `json:"on_failure,omitempty"`
}

// WebhookResponse is what a webhook answered: its status and JSON body.
type WebhookResponse struct {
	Status int `json:"status"`
	Body   any `json:"body,omitempty"`
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

// AllowedActions returns the actions of state that actor may take in the
// process whose parties are p: by a role they hold or a relation that names
// them.
func (d *Definition) AllowedActions(state string, actor Actor, p Parties) []string {
	st := d.State(state)
	if st == nil {
		return nil
	}
	var out []string
	for _, a := range st.Actions {
		if a.Kind == KindVote && st.Approval.Board != "" {
			continue // its votes are cast at the board's meeting
		}
		if _, barred := p.tookPart(a.NotBy, actor.ID); permits(a.Roles, actor, p) && !barred {
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
