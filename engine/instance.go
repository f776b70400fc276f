package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Actor is who acts: a user with roles, or the system (timers, escalations).
type Actor struct {
	ID    string   `json:"id"`
	Roles []string `json:"roles,omitempty"`
}

// System is the actor of everything the process does by itself.
var System = Actor{ID: "system"}

// Event types. Every change of an instance is one of these, in order.
const (
	EventStarted      = "process_started"
	EventAction       = "action"
	EventTimerFired   = "timer_fired"
	EventSLAStarted   = "sla_started"
	EventSLAPaused    = "sla_paused"
	EventSLAResumed   = "sla_resumed"
	EventSLAStopped   = "sla_stopped"
	EventSLABreached  = "sla_breached"
	EventEscalation   = "escalation"
	EventNotification = "notification"
	EventVariableSet  = "variable_set"
	// EventSLATargetChanged records a target recomputed because the field that
	// chooses it (the priority) changed; the time already counted is kept.
	EventSLATargetChanged = "sla_target_changed"
	EventEnded            = "process_ended"
	// EventCancelled records a process cancelled from outside (an operator in
	// Temporal); it is followed by process_ended.
	EventCancelled = "process_cancelled"
	// EventReminder records a reminder period that passed in a state.
	EventReminder = "reminder"
	// EventComment records a work note: a comment on the process that is no
	// action and changes nothing else (see Instance.AddComment).
	EventComment = "comment"
	// EventSLAWarning records an SLA reaching its warning threshold (at risk).
	EventSLAWarning = "sla_warning"
	// EventReassigned records a process handed to another group or user.
	EventReassigned = "reassigned"
	// EventStepFailed records a step that could not be done (an action not
	// allowed at that moment, an expression that failed at run time).
	EventStepFailed = "step_failed"
	// EventApprovalDecided records the outcome of an approval.
	EventApprovalDecided = "approval_decided"
	// EventApprovalDue records an approval that reached its due time.
	EventApprovalDue = "approval_due"
	// EventTaskOverdue records a parallel task not done by its due time.
	EventTaskOverdue = "task_overdue"
	// EventSubprocessRequested, EventSubprocessStarted, EventSubprocessEnded
	// and EventLinked record processes started from this one and their ends.
	EventSubprocessRequested = "subprocess_requested"
	EventSubprocessStarted   = "subprocess_started"
	EventSubprocessEnded     = "subprocess_ended"
	EventLinked              = "linked"
	// EventWebhookRequested, EventWebhookCalled and EventWebhookFailed record
	// a webhook step and its outcome.
	EventWebhookRequested = "webhook_requested"
	EventWebhookCalled    = "webhook_called"
	EventWebhookFailed    = "webhook_failed"
)

// Event is one entry of an instance's event list. Seq numbers the events of an
// instance from 1 without gaps, so projections can be applied idempotently.
type Event struct {
	Seq     int64          `json:"seq"`
	At      time.Time      `json:"at"`
	Type    string         `json:"type"`
	Actor   string         `json:"actor"`
	Action  string         `json:"action,omitempty"`
	From    string         `json:"from,omitempty"`
	To      string         `json:"to,omitempty"`
	SLA     string         `json:"sla,omitempty"`
	Comment string         `json:"comment,omitempty"`
	Data    map[string]any `json:"data,omitempty"`
	// RequestID is the API request that caused the event, for the audit log.
	RequestID string `json:"request_id,omitempty"`
}

// Instance is the state of one running process. It is changed only by Start, Apply
// and Advance, each of which takes the current time as an argument.
type Instance struct {
	ID         string    `json:"id"`
	Definition string    `json:"definition"`
	Version    int       `json:"version"`
	State      string    `json:"state"`
	EnteredAt  time.Time `json:"entered_at"`
	// EnteredSeq is the number of the last event before the process entered
	// its state: the events after it belong to this stay in the state (its
	// votes, for one). It decides nothing; projections use it (CompactView).
	EnteredSeq  int64          `json:"entered_seq,omitempty"`
	StartedAt   time.Time      `json:"started_at"`
	StartedBy   string         `json:"started_by"`
	EndedAt     *time.Time     `json:"ended_at,omitempty"`
	Input       map[string]any `json:"input"`
	Vars        map[string]any `json:"vars,omitempty"`
	Clocks      []Clock        `json:"clocks,omitempty"`
	TimersFired []int          `json:"timers_fired,omitempty"`
	// TimersWaiting are the timers of the current state (also in TimersFired)
	// that fell due while their action's guard did not hold (LevelTimersWait).
	TimersWaiting []int `json:"timers_waiting,omitempty"`
	// RemindFrom holds, per reminder of the current state, when its period
	// started; zero means when the state was entered.
	RemindFrom []time.Time `json:"remind_from,omitempty"`
	Seq        int64       `json:"seq"`
	// Votes are the votes cast in the current state's approval; TasksDone the
	// parallel tasks done and TasksOverdue those past due in the current state.
	Votes []Vote `json:"votes,omitempty"`
	// ApprovalReminded is set once the approvers have been reminded of a vote
	// nearing its due time.
	ApprovalReminded bool `json:"approval_reminded,omitempty"`
	// FailedConditions are the conditions whose failure has been recorded in
	// the current state, so one that keeps failing is recorded once.
	FailedConditions []string `json:"failed_conditions,omitempty"`
	// Decision is the outcome of the last approval decided.
	Decision     *Decision  `json:"decision,omitempty"`
	ApprovalDue  bool       `json:"approval_due,omitempty"`
	TasksDone    []TaskDone `json:"tasks_done,omitempty"`
	TasksOverdue []string   `json:"tasks_overdue,omitempty"`
	// Links are the processes this one started, and the one that started it.
	Links []Link `json:"links,omitempty"`
	// EarlyEnds are ends of processes this one started that arrived before
	// the start's outcome named them (LevelChildEndsKept).
	EarlyEnds []EarlyEnd `json:"early_ends,omitempty"`
	// Effects are steps only the workflow can do (start a process, call a
	// webhook), waiting for it; see CompleteStart and CompleteWebhook.
	Effects []Effect `json:"effects,omitempty"`
	// Agenda holds the processes the last collect step gathered, and
	// ItemDecisions the decisions reached on them (see board.go).
	Agenda []AgendaItem `json:"agenda,omitempty"`
	// Electorate is who votes in the current approval, once resolved (see
	// electorate.go); nil until then, or when it is not resolved.
	Electorate    []string   `json:"electorate,omitempty"`
	ItemDecisions []Decision `json:"item_decisions,omitempty"`
	// depth counts nested action steps, so steps that act on each other cannot
	// recurse for ever.
	depth int
	// TakenBy holds who took the actions an action's not_by names, by action
	// (separation of duties); nil for definitions without not_by.
	TakenBy map[string][]string `json:"taken_by,omitempty"`
	// Pending holds the events not yet handed to the projection; the workflow
	// clears it once they are stored.
	Pending []Event `json:"pending,omitempty"`
}

// ActionRequest asks for an action on behalf of Actor.
type ActionRequest struct {
	Action  string         `json:"action"`
	Actor   Actor          `json:"actor"`
	Input   map[string]any `json:"input,omitempty"`
	Comment string         `json:"comment,omitempty"`
	// RequestID identifies the API request, for the audit log.
	RequestID string `json:"request_id,omitempty"`
	// OnBehalfOf is the approver whose vote the actor casts under a delegation
	// (the API checks the delegation and resolves their roles).
	OnBehalfOf *Actor `json:"on_behalf_of,omitempty"`
	// Item is the agenda item a vote is for, in an approval with an agenda.
	Item string `json:"item,omitempty"`
	// State, when set, is the state the caller means to act in: if the process
	// has moved on (another vote decided the approval), the action is refused
	// rather than applied somewhere else.
	State string `json:"state,omitempty"`
	// Recorded marks an action taken from a history (what-if analysis): it was
	// authorised when it was taken, so roles and approvers are not checked
	// again. Never set from outside: it does not travel in JSON.
	Recorded bool `json:"-"`
}

// Start creates an instance of def at now, validating input and starting its SLAs.
// requestID names the API request that started it, for the audit log.
func Start(def *Definition, id string, version int, input map[string]any, actor Actor, requestID string, now time.Time) (*Instance, error) {
	vals, err := ValidateInput(def.Input, input, "input")
	if err != nil {
		return nil, err
	}
	in := &Instance{
		ID: id, Definition: def.Name, Version: version,
		State: def.Initial, EnteredAt: now, StartedAt: now, StartedBy: actor.ID,
		Input: vals, Vars: map[string]any{},
	}
	for _, f := range def.Variables {
		if f.Default != nil {
			in.setVar(f.Name, f.Default)
		}
	}
	in.emit(Event{At: now, Type: EventStarted, Actor: actor.ID, To: def.Initial, RequestID: requestID})
	for i, s := range def.SLAs {
		if s.StartWhen != "" || len(s.StartOnEnter) > 0 || s.StartOn != nil {
			// Held back until its start condition holds; conditions starts it.
			in.Clocks = append(in.Clocks, Clock{Name: s.Name, Target: s.targetFor(vals), Status: ClockPending})
			continue
		}
		in.Clocks = append(in.Clocks, Clock{Name: s.Name, Target: s.targetFor(vals), Status: ClockRunning, Since: now, StartedAt: now})
		in.emit(Event{At: now, Type: EventSLAStarted, Actor: System.ID, SLA: s.Name, Data: in.clockStarted(def, i)})
	}
	in.clocksOnEnter(def, "", def.Initial, now)
	in.onEnter(def, def.Initial, now)
	in.requestRules(def, now)
	in.conditions(def, now)
	return in, nil
}

// Cancel ends the process where it stands: every clock still running stops and
// the process is recorded as ended in its current state.
func (in *Instance) Cancel(def *Definition, now time.Time) {
	if in.Ended() {
		return
	}
	in.emit(Event{At: now, Type: EventCancelled, Actor: System.ID, From: in.State})
	for i := range in.Clocks {
		if st := in.Clocks[i].Status; st != ClockStopped && st != ClockPending {
			in.stopClock(def, i, now, "process cancelled")
		}
	}
	in.EndedAt = &now
	in.emit(Event{At: now, Type: EventEnded, Actor: System.ID, To: in.State})
}

// onEnter runs the state's on_enter steps.
func (in *Instance) onEnter(def *Definition, state string, now time.Time) {
	st := def.State(state)
	if st == nil {
		return
	}
	msg := fmt.Sprintf("%s %s entered %s", def.Title, in.ID, state)
	for _, step := range st.OnEnter {
		in.doStep(def, step, "", msg, now)
	}
	if st.Approval != nil && st.Approval.NeedsResolving() && in.State == state {
		in.openElectorate(def, st.Approval, now)
	}
	// An electorate being resolved is told when it is set (setElectorate);
	// below LevelRolesResolvedBeside it was told here too, so one set at once
	// (from expressions alone) was told twice.
	if st.Approval != nil && def.Level >= LevelApprovalNotices && (!st.Approval.NeedsResolving() || def.Level < LevelRolesResolvedBeside) {
		in.noticeApprovers(st.Approval, fmt.Sprintf("%s %s needs your vote in %s", def.Title, in.ID, state), now)
	}
	if a := st.Approval; a != nil && a.Agenda != "" && in.State == state && in.agendaDone(a) && !in.collecting(a.Agenda) {
		// Nothing on the agenda is left to decide (it is empty).
		in.decideAgenda(a, OutcomeApproved, false, now)
		in.enter(def, a.Approved, now)
	}
}

// Ended reports whether the instance has reached a final state.
func (in *Instance) Ended() bool { return in.EndedAt != nil }

// Priority returns the instance's priority input, or "".
func (in *Instance) Priority() string {
	p, _ := in.value("priority").(string)
	return p
}

// value returns the process's current value of a field: a variable set since the
// start (by an action's input or an escalation) wins over the start input.
func (in *Instance) value(name string) any {
	if v, ok := in.Vars[name]; ok {
		return v
	}
	return in.Input[name]
}

// retarget recomputes the target of every clock chosen by a field whose value has
// changed. The business time already counted — pauses included — is kept: only
// the goal moves. Marks of the new target that already lie in the past fall due
// now, not retroactively.
func (in *Instance) retarget(def *Definition, now time.Time) {
	cal := CalendarOf(def)
	for i, s := range def.SLAs {
		c := &in.Clocks[i]
		if s.By == "" || c.Status == ClockStopped {
			continue
		}
		key, _ := in.value(s.By).(string)
		t := s.target(key)
		if t == 0 || t == c.Target {
			continue
		}
		in.emit(Event{At: now, Type: EventSLATargetChanged, Actor: System.ID, SLA: c.Name, Data: map[string]any{
			"from": c.Target.String(), "to": t.String(), "by": s.By, "value": key, "elapsed": Duration(c.used(cal, now)).String()}})
		c.Target = t
		c.NotBefore = &now
	}
}

// Check decides whether req may be applied at now without changing anything, and
// returns the action's input with defaults applied. Its errors are *Error with code
// ENOTFOUND or ECONFLICT (with the allowed actions), EFORBIDDEN or EINVALID.
func (in *Instance) Check(def *Definition, req ActionRequest, now time.Time) (map[string]any, error) {
	const op = "engine.Check"
	if req.State != "" && req.State != in.State {
		msg := fmt.Sprintf("process %s is in state %q, not %q", in.ID, in.State, req.State)
		if d := in.Decision; d != nil && d.State == req.State {
			msg = fmt.Sprintf("the approval in %q was decided (%s) at %s; process %s is now in %q", d.State, d.Outcome, d.At.Format(time.RFC3339), in.ID, in.State)
		}
		return nil, &Error{Code: ECONFLICT, Op: op, Message: msg, Allowed: def.AllowedActions(in.State, req.Actor, in.Parties())}
	}
	st := def.State(in.State)
	if st == nil || st.Final {
		return nil, &Error{Code: ECONFLICT, Op: op, Message: fmt.Sprintf("process %s has ended in state %q; no action is possible", in.ID, in.State)}
	}
	a := st.Action(req.Action)
	if a == nil {
		allowed := def.AllowedActions(in.State, req.Actor, in.Parties())
		code, msg := ENOTFOUND, fmt.Sprintf("process %s has no action %q", def.Name, req.Action)
		if def.hasAction(req.Action) {
			code, msg = ECONFLICT, fmt.Sprintf("action %q is not allowed in state %q", req.Action, in.State)
		}
		return nil, &Error{Code: code, Op: op, Message: msg, Allowed: allowed}
	}
	if done := in.taskDone(a.Name); a.Kind == KindTask && done != nil {
		return nil, &Error{Code: ECONFLICT, Op: op, Message: fmt.Sprintf("task %q was done by %s at %s", a.Name, done.Actor, done.At.Format(time.RFC3339)),
			Allowed: def.AllowedActions(in.State, req.Actor, in.Parties())}
	}
	switch {
	case req.Recorded:
		// Authorised when it was taken.
	case a.Kind == KindVote:
		if err := in.checkVote(def, st.Approval, req, now); err != nil {
			return nil, err
		}
	case a.Kind == KindBreakGlass:
		// The one bypass is not for someone with a part in the change.
		if err := in.checkBreakGlass(def, st.Approval, req.Actor, now); err != nil {
			return nil, err
		}
	case req.Actor.ID != System.ID && !permits(a.Roles, req.Actor, in.Parties()):
		return nil, &Error{Code: EFORBIDDEN, Op: op, Message: fmt.Sprintf("action %q needs %s; %s has %s",
			a.Name, describeRoles(a.Roles, in.Parties()), req.Actor.ID, rolesText(req.Actor.Roles))}
	}
	if !req.Recorded && req.Actor.ID != System.ID {
		if err := checkDuties(a, req, in.Parties()); err != nil {
			return nil, err
		}
	}
	// From LevelGuardsReadInput the guard reads the action's input, so the
	// input is checked first.
	readsInput := def.Level >= LevelGuardsReadInput
	var vals map[string]any
	if readsInput {
		var err error
		if vals, err = ValidateInput(a.Input, req.Input, "input"); err != nil {
			return nil, err
		}
	}
	if a.When != "" {
		ok, err := in.guard(def, a, vals, req.Actor, now)
		switch {
		case err != nil:
			return nil, &Error{Code: ECONFLICT, Op: op, Message: fmt.Sprintf("action %q: its condition could not be evaluated: %v", a.Name, err)}
		case !ok:
			return nil, &Error{Code: ECONFLICT, Op: op, Message: fmt.Sprintf("action %q is not possible now: its condition %q does not hold", a.Name, a.When),
				Allowed: def.AllowedActions(in.State, req.Actor, in.Parties())}
		}
	}
	if !readsInput {
		var err error
		if vals, err = ValidateInput(a.Input, req.Input, "input"); err != nil {
			return vals, err
		}
	}
	if a.Window == nil {
		return vals, nil
	}
	return vals, CheckWindow(def.CalendarSpec, a.Window, vals)
}

func rolesText(roles []string) string {
	if len(roles) == 0 {
		return "none"
	}
	return strings.Join(roles, ", ")
}

func (d *Definition) hasAction(name string) bool {
	for _, s := range d.States {
		if s.Action(name) != nil {
			return true
		}
	}
	return false
}

// Admit decides whether a new request may be applied: Check, and the rules
// introduced since that apply to every new request whatever level the
// definition was compiled for. The workflow admits updates with it; replay
// never runs it (Temporal skips update validators when replaying), so old
// histories replay as they were recorded, while running processes of older
// versions are held to the new rules from now on. Apply still decides with
// Check alone.
//
// It decides as the instance will stand when the request is applied: once
// whatever fell due before now has happened (an overdue timer that moved the
// process on, a breach), which the workflow may not have processed yet when
// the request arrives. The instance itself is not changed.
func (in *Instance) Admit(def *Definition, req ActionRequest, now time.Time) (map[string]any, error) {
	if at, _, ok := in.NextWake(def); ok && !at.After(now) {
		ahead, err := in.clone()
		if err != nil {
			return nil, &Error{Code: EINTERNAL, Op: "engine.Admit", Message: "cannot look ahead", Err: err}
		}
		ahead.Advance(def, now)
		in = ahead
	}
	vals, err := in.Check(def, req, now)
	if err != nil {
		return nil, err
	}
	if st := def.State(in.State); def.Level < LevelOneVotePerPerson && st.Action(req.Action).Kind == KindVote {
		if err := oneVoteEach(in.Votes, req); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// setVar sets a variable. An instance decoded from JSON (a look-ahead's
// clone, a run continued as new) has no map when it had no variables: they
// are left out when empty.
func (in *Instance) setVar(name string, v any) {
	if in.Vars == nil {
		in.Vars = map[string]any{}
	}
	in.Vars[name] = v
}

// clone returns a deep copy of the instance, through its JSON form.
func (in *Instance) clone() (*Instance, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	var out Instance
	return &out, json.Unmarshal(b, &out)
}

// Apply checks req and, when allowed, takes the action at now.
func (in *Instance) Apply(def *Definition, req ActionRequest, now time.Time) error {
	vals, err := in.Check(def, req, now)
	if err != nil {
		return err
	}
	in.take(def, req, vals, now)
	in.conditions(def, now)
	return nil
}

// take performs an action whose request has been checked; vals is its input with
// defaults applied.
func (in *Instance) take(def *Definition, req ActionRequest, vals map[string]any, now time.Time) {
	st := def.State(in.State)
	a := st.Action(req.Action)
	to, data, decided := a.To, map[string]any{}, ""
	var item *AgendaItem // the agenda item a vote decided
	switch a.Kind {
	case KindVote:
		v := Vote{Actor: req.Actor.ID, Decision: a.Name, Comment: req.Comment, At: now, Item: req.Item}
		if req.OnBehalfOf != nil {
			v.Actor, v.By = req.OnBehalfOf.ID, req.Actor.ID
			data["on_behalf_of"] = req.OnBehalfOf.ID
		}
		in.Votes = append(in.Votes, v)
		if ap := st.Approval; ap.Agenda != "" {
			it := in.agendaItem(def, ap, req.Item)
			if it == nil {
				// Only a recorded vote skips Check; count it on what it names.
				it = &AgendaItem{ID: req.Item}
			}
			t := in.itemTally(ap, it)
			data["item"], data["tally"] = req.Item, t
			if t.Outcome != "" {
				item = it
			}
			break
		}
		t := in.tally(st.Approval)
		data["tally"] = t
		if decided = t.Outcome; decided != "" {
			to = st.Approval.target(decided)
		}
	case KindBreakGlass:
		decided = OutcomeBypassed
	case KindTask:
		in.TasksDone = append(in.TasksDone, TaskDone{Name: a.Name, Actor: req.Actor.ID, At: now})
		data["task"] = a.Name
		if st.Parallel.joined(in.TasksDone) {
			to = st.Parallel.To
		}
	}
	ev := Event{At: now, Type: EventAction, Actor: req.Actor.ID, Action: a.Name, From: in.State, To: to, Comment: req.Comment, RequestID: req.RequestID}
	if len(vals) > 0 {
		data["input"] = vals
	}
	if len(data) > 0 {
		ev.Data = data
	}
	in.emit(ev)
	in.recordTaker(def, a, req)
	for _, k := range sortedKeys(vals) {
		in.setVar(k, vals[k])
	}
	in.retarget(def, now)
	if item != nil {
		t, _ := data["tally"].(Tally)
		in.decideItem(def, item, t, now)
		if in.agendaDone(st.Approval) {
			to = st.Approval.Approved
			in.decideAgenda(st.Approval, OutcomeApproved, false, now)
		}
	}
	if decided != "" {
		in.decide(st.Approval, decided, false, to, now)
	}
	msg := fmt.Sprintf("%s %s: %s by %s", def.Title, in.ID, a.Name, req.Actor.ID)
	for _, step := range a.Do {
		in.doStep(def, step, "", msg, now)
	}
	if st := def.State(in.State); st != nil {
		for i, r := range st.Reminders {
			if contains(r.ResetBy, a.Name) {
				in.remindFrom(st, i, now)
			}
		}
	}
	in.enter(def, to, now)
}

// remindFrom starts reminder i of the current state's period at t.
func (in *Instance) remindFrom(st *State, i int, t time.Time) {
	if len(in.RemindFrom) < len(st.Reminders) {
		in.RemindFrom = append(in.RemindFrom, make([]time.Time, len(st.Reminders)-len(in.RemindFrom))...)
	}
	in.RemindFrom[i] = t
}

// reminderAnchor is when the current period of reminder i began.
func (in *Instance) reminderAnchor(i int) time.Time {
	if i < len(in.RemindFrom) && !in.RemindFrom[i].IsZero() {
		return in.RemindFrom[i]
	}
	return in.EnteredAt
}

func (in *Instance) enter(def *Definition, to string, now time.Time) {
	from := in.State
	if from != to {
		in.TimersFired, in.TimersWaiting = nil, nil
		in.RemindFrom = nil
		in.Votes, in.ApprovalDue, in.ApprovalReminded, in.Electorate = nil, false, false, nil
		in.FailedConditions = nil
		in.TasksDone, in.TasksOverdue = nil, nil
		in.EnteredAt, in.EnteredSeq = now, in.Seq
	}
	in.State = to
	in.clocksOnEnter(def, from, to, now)
	if from != to {
		in.onEnter(def, to, now)
	}
	if st := def.State(to); st != nil && st.Final {
		for i := range in.Clocks {
			if st := in.Clocks[i].Status; st != ClockStopped && st != ClockPending {
				in.stopClock(def, i, now, "process ended")
			}
		}
		in.EndedAt = &now
		in.emit(Event{At: now, Type: EventEnded, Actor: System.ID, To: to})
	}
}

// clocksOnEnter applies the SLA conditions to a move from one state to another
// (from is "" at the start).
func (in *Instance) clocksOnEnter(def *Definition, from, to string, now time.Time) {
	for i, s := range def.SLAs {
		c := &in.Clocks[i]
		switch {
		case c.Status == ClockStopped && s.Reopen != "" && from != "" && from != to && s.runsIn(def, to) && !in.holds(def, s.StopWhen, now):
			in.reopenClock(def, i, s, to, now)
		case c.Status == ClockStopped || c.Status == ClockPending:
		case (from != to && contains(s.StopOnLeave, from)) || contains(s.StopOnEnter, to):
			reason := "entered " + to
			if from != to && contains(s.StopOnLeave, from) {
				reason = "left " + from
			}
			in.stopClock(def, i, now, reason)
		case contains(s.PauseIn, to) && c.Status == ClockRunning:
			in.pauseClock(def, i, now, map[string]any{"state": to})
		case !contains(s.PauseIn, to) && c.Status == ClockPaused && !in.holds(def, s.PauseWhen, now):
			in.resumeClock(i, now, map[string]any{"state": to})
		}
	}
}

// reopenClock runs a clock a state stopped again, as its SLA's reopen says:
// on from the time it used (its breach and escalations stay done), or afresh.
func (in *Instance) reopenClock(def *Definition, i int, s SLA, state string, now time.Time) {
	c := &in.Clocks[i]
	if s.Reopen == ReopenRestart {
		*c = Clock{Name: c.Name, Target: c.Target, Status: ClockRunning, Since: now, StartedAt: now}
		in.emit(Event{At: now, Type: EventSLAStarted, Actor: System.ID, SLA: c.Name,
			Data: map[string]any{"target": c.Target.String(), "restarted_in": state}})
	} else {
		c.Status, c.Since, c.StoppedAt = ClockRunning, now, nil
		in.emit(Event{At: now, Type: EventSLAResumed, Actor: System.ID, SLA: c.Name,
			Data: map[string]any{"state": state, "elapsed": c.Elapsed.String(), "reopened": true}})
	}
	if contains(s.PauseIn, state) {
		in.pauseClock(def, i, now, map[string]any{"state": state})
	}
}

func (in *Instance) pauseClock(def *Definition, i int, now time.Time, data map[string]any) {
	c := &in.Clocks[i]
	c.Elapsed = Duration(c.used(CalendarOf(def), now))
	c.Status = ClockPaused
	data["elapsed"] = c.Elapsed.String()
	in.emit(Event{At: now, Type: EventSLAPaused, Actor: System.ID, SLA: c.Name, Data: data})
}

func (in *Instance) resumeClock(i int, now time.Time, data map[string]any) {
	c := &in.Clocks[i]
	c.Status, c.Since = ClockRunning, now
	data["elapsed"] = c.Elapsed.String()
	in.emit(Event{At: now, Type: EventSLAResumed, Actor: System.ID, SLA: c.Name, Data: data})
}

func (in *Instance) stopClock(def *Definition, i int, now time.Time, reason string) {
	c := &in.Clocks[i]
	c.Elapsed = Duration(c.used(CalendarOf(def), now))
	c.Status = ClockStopped
	c.StoppedAt = &now
	in.emit(Event{At: now, Type: EventSLAStopped, Actor: System.ID, SLA: c.Name,
		Data: map[string]any{"met": !c.Breached, "elapsed": c.Elapsed.String(), "reason": reason}})
}

// wake is one thing due at a time: an SLA mark (breach or escalation) or a timer.
type wake struct {
	at         time.Time
	clock      int  // index into Clocks, or -1 for a state timer or reminder
	escalation int  // index into Definition.Escalations, or -1 for the breach
	timer      int  // index into the state's timers (or reminders, or tasks)
	reminder   bool // timer indexes the state's reminders
	// kind, when not zero, is one of the wakes added with approvals, tasks and
	// warnings; the fields above then index as documented on each kind.
	kind int
}

// Kinds of wake beyond breaches, escalations, timers and reminders.
const (
	wakeWarn     = iota + 1 // clock reaches its SLA's warning threshold
	wakeTask                // timer indexes the state's parallel tasks
	wakeApproval            // the state's approval is due
	// wakeApprovalReminder: the approval has used approvalReminderAt percent
	// of its due time.
	wakeApprovalReminder
)

func (w wake) describe(def *Definition, in *Instance) string {
	switch w.kind {
	case wakeWarn:
		return fmt.Sprintf("SLA %s warning", in.Clocks[w.clock].Name)
	case wakeTask:
		return fmt.Sprintf("task %s due", def.State(in.State).Parallel.Tasks[w.timer].Name)
	case wakeApproval:
		return fmt.Sprintf("approval in %s due", in.State)
	case wakeApprovalReminder:
		return fmt.Sprintf("approval in %s: reminder before its due time", in.State)
	}
	switch {
	case w.reminder:
		return fmt.Sprintf("reminder: every %s in %s", def.State(in.State).Reminders[w.timer].Every, in.State)
	case w.clock < 0:
		t := def.State(in.State).Timers[w.timer]
		if t.At != "" {
			return fmt.Sprintf("timer %s: at %s in %s, %s", in.ID, t.At, in.State, t.Action)
		}
		return fmt.Sprintf("timer %s: after %s in %s, %s", in.ID, t.After, in.State, t.Action)
	case w.escalation < 0:
		return fmt.Sprintf("SLA %s breach", in.Clocks[w.clock].Name)
	default:
		return fmt.Sprintf("SLA %s at %d%%: escalation", in.Clocks[w.clock].Name, def.Escalations[w.escalation].At)
	}
}

// next returns the earliest thing due, if any. Ties go to SLA marks in definition
// order (breach before escalations at the same mark), then to state timers.
func (in *Instance) next(def *Definition) (wake, bool) {
	cal := CalendarOf(def)
	best, found := wake{}, false
	consider := func(w wake) {
		if !found || w.at.Before(best.at) {
			best, found = w, true
		}
	}
	for i := range in.Clocks {
		c := &in.Clocks[i]
		// A clock due at an instant already past when it started has no
		// business time to count: its marks fall due at once.
		if c.Status != ClockRunning || (c.Target <= 0 && c.DueAt == nil) {
			continue
		}
		if !c.Breached {
			consider(wake{at: c.notBefore(c.at(cal, time.Duration(c.Target))), clock: i, escalation: -1})
		}
		for j, e := range def.Escalations {
			if e.SLA == c.Name && !c.fired(j) {
				consider(wake{at: c.notBefore(c.at(cal, time.Duration(c.Target)*time.Duration(e.At)/100)), clock: i, escalation: j})
			}
		}
		if warn := def.SLAs[i].WarnAt; warn > 0 && !c.Warned {
			consider(wake{at: c.notBefore(c.at(cal, time.Duration(c.Target)*time.Duration(warn)/100)), clock: i, kind: wakeWarn})
		}
	}
	if st := def.State(in.State); st != nil {
		for i, t := range st.Timers {
			if containsInt(in.TimersFired, i) {
				continue
			}
			if t.At == "" {
				consider(wake{at: cal.Add(in.EnteredAt, time.Duration(t.After)), clock: -1, timer: i})
			} else if at, ok := in.deadlineOf(def, t.At, in.EnteredAt); ok {
				// An instant already past when the state was entered is due
				// on entering, never before it.
				consider(wake{at: latest(at, in.EnteredAt), clock: -1, timer: i})
			}
		}
		for i, r := range st.Reminders {
			at := cal.Add(in.reminderAnchor(i), time.Duration(r.Every))
			if r.Until != "" {
				if until, ok := in.deadlineOf(def, r.Until, in.EnteredAt); ok && at.After(until) {
					continue // the reminders have ended
				}
			}
			consider(wake{at: at, clock: -1, timer: i, reminder: true})
		}
		if par := st.Parallel; par != nil {
			for i, t := range par.Tasks {
				if t.Due > 0 && in.taskDone(t.Name) == nil && !contains(in.TasksOverdue, t.Name) {
					consider(wake{at: cal.Add(in.EnteredAt, time.Duration(t.Due)), clock: -1, timer: i, kind: wakeTask})
				}
			}
		}
		if a := st.Approval; a != nil && a.Due > 0 && !in.ApprovalDue {
			if def.Level >= LevelApprovalNotices && !in.ApprovalReminded {
				consider(wake{at: cal.Add(in.EnteredAt, time.Duration(a.Due)*approvalReminderAt/100), clock: -1, kind: wakeApprovalReminder})
			}
			consider(wake{at: cal.Add(in.EnteredAt, time.Duration(a.Due)), clock: -1, kind: wakeApproval})
		}
	}
	return best, found
}

// NextWake returns when the instance next needs Advance, with a description for the
// timer, and false when nothing is pending (ended, or every clock paused).
func (in *Instance) NextWake(def *Definition) (time.Time, string, bool) {
	if in.Ended() {
		return time.Time{}, "", false
	}
	w, ok := in.next(def)
	if !ok {
		return time.Time{}, "", false
	}
	return w.at, w.describe(def, in), true
}

// Advance does, in time order, everything that has fallen due by now: breaches,
// escalations and state timers. Each is recorded at the instant it fell due, so a
// worker that was down records the true breach time when it catches up.
func (in *Instance) Advance(def *Definition, now time.Time) {
	for !in.Ended() {
		w, ok := in.next(def)
		if !ok || w.at.After(now) {
			return
		}
		in.fire(def, w)
	}
}

func (in *Instance) fire(def *Definition, w wake) {
	defer in.conditions(def, w.at)
	switch w.kind {
	case wakeWarn:
		c := &in.Clocks[w.clock]
		c.Warned = true
		in.emit(Event{At: w.at, Type: EventSLAWarning, Actor: System.ID, SLA: c.Name, Data: map[string]any{"at": fmt.Sprintf("%d%%", def.SLAs[w.clock].WarnAt), "target": c.Target.String()}})
		return
	case wakeTask:
		in.taskOverdue(def, w.timer, w.at)
		return
	case wakeApproval:
		in.approvalDue(def, w.at)
		return
	case wakeApprovalReminder:
		in.ApprovalReminded = true
		a := def.State(in.State).Approval
		in.noticeApprovers(a, fmt.Sprintf("%s %s: the vote in %s is due in %s", def.Title, in.ID, in.State, a.Due-a.Due*approvalReminderAt/100), w.at)
		return
	}
	switch {
	case w.reminder:
		st := def.State(in.State)
		r := st.Reminders[w.timer]
		in.remindFrom(st, w.timer, w.at)
		if r.When != "" && !in.holds(def, r.When, w.at) {
			return // the period passed while the condition did not hold
		}
		data := map[string]any{"state": in.State, "every": r.Every.String()}
		msg := fmt.Sprintf("%s %s: %s has passed in %s", def.Title, in.ID, r.Every, in.State)
		if len(r.ResetBy) > 0 {
			data["missing"] = r.ResetBy
			msg = fmt.Sprintf("%s %s: no %s for %s in %s", def.Title, in.ID, strings.Join(r.ResetBy, " or "), r.Every, in.State)
		}
		in.emit(Event{At: w.at, Type: EventReminder, Actor: System.ID, Data: data})
		for _, step := range r.Do {
			in.doStep(def, step, "", msg, w.at)
		}
	case w.clock < 0:
		in.TimersFired = append(in.TimersFired, w.timer)
		if def.Level >= LevelTimersWait && in.timerBlocked(def, w.timer, w.at) {
			return
		}
		t := def.State(in.State).Timers[w.timer]
		in.emit(Event{At: w.at, Type: EventTimerFired, Actor: System.ID, Action: t.Action, Data: t.firedData(in.State)})
		// Check cannot fail here: Parse guarantees the action exists in this state
		// and needs no input the system cannot supply.
		if err := in.Apply(def, ActionRequest{Action: t.Action, Actor: System}, w.at); err != nil {
			in.emit(Event{At: w.at, Type: EventTimerFired, Actor: System.ID, Action: t.Action, Data: map[string]any{"error": err.Error()}})
		}
	case w.escalation < 0:
		c := &in.Clocks[w.clock]
		c.Breached = true
		c.BreachAt = &w.at
		in.emit(Event{At: w.at, Type: EventSLABreached, Actor: System.ID, SLA: c.Name, Data: map[string]any{"target": c.Target.String()}})
	default:
		c := &in.Clocks[w.clock]
		c.Fired = append(c.Fired, w.escalation)
		e := def.Escalations[w.escalation]
		if e.When != "" && !in.holds(def, e.When, w.at) {
			return
		}
		in.emit(Event{At: w.at, Type: EventEscalation, Actor: System.ID, SLA: c.Name, Data: map[string]any{"at": fmt.Sprintf("%d%%", e.At)}})
		msg := fmt.Sprintf("%s %s: SLA %s has used %d%% of its %s target (state %s)", def.Title, in.ID, c.Name, e.At, c.Target, in.State)
		for _, step := range e.Do {
			in.doStep(def, step, c.Name, msg, w.at)
		}
	}
}

func (in *Instance) emit(e Event) {
	in.Seq++
	e.Seq = in.Seq
	in.Pending = append(in.Pending, e)
}

func containsInt(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}
