package history

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// Timeline is a process's history as a person reads it.
type Timeline struct {
	ID         string  `json:"id"`
	Definition string  `json:"definition"`
	Version    int     `json:"version"`
	Hash       string  `json:"definition_hash,omitempty"`
	Entries    []Entry `json:"entries"`
}

// Entry is one thing that happened.
type Entry struct {
	Seq       int64          `json:"seq"`
	At        time.Time      `json:"at"`
	Actor     string         `json:"actor"`
	Kind      string         `json:"kind"`
	Summary   string         `json:"summary"`
	Action    string         `json:"action,omitempty"`
	From      string         `json:"from,omitempty"`
	To        string         `json:"to,omitempty"`
	SLA       string         `json:"sla,omitempty"`
	Comment   string         `json:"comment,omitempty"`
	Data      map[string]any `json:"data,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	// State is the process's state after this entry.
	State string `json:"state"`
}

// Timeline turns the record into readable entries.
func (r Record) Timeline() Timeline {
	t := Timeline{ID: r.Start.ID, Definition: r.Start.Definition.Name, Version: r.Start.Version, Hash: r.Start.Hash, Entries: []Entry{}}
	state := ""
	for _, e := range r.Events {
		// A decision moves the process by itself when it comes from a timeout or
		// a board's meeting, not from a vote in the process.
		if e.To != "" && (e.Type == engine.EventStarted || e.Type == engine.EventAction || e.Type == engine.EventApprovalDecided) {
			state = e.To
		}
		t.Entries = append(t.Entries, Entry{Seq: e.Seq, At: e.At, Actor: e.Actor, Kind: e.Type, Summary: Summary(e),
			Action: e.Action, From: e.From, To: e.To, SLA: e.SLA, Comment: e.Comment, Data: e.Data, RequestID: e.RequestID, State: state})
	}
	return t
}

// Summary says in a sentence what an event records, for people reading a
// timeline or a process page.
func Summary(e engine.Event) string {
	d := e.Data
	switch e.Type {
	case engine.EventStarted:
		return fmt.Sprintf("%s started the process in %s", e.Actor, e.To)
	case engine.EventAction:
		s := fmt.Sprintf("%s: %s (%s → %s)", e.Actor, e.Action, e.From, e.To)
		if in, ok := d["input"].(map[string]any); ok && len(in) > 0 {
			s += " with " + fields(in)
		}
		return s
	case engine.EventTimerFired:
		return fmt.Sprintf("timer: after %v in %v, %s", d["after"], d["state"], e.Action)
	case engine.EventSLAStarted:
		return fmt.Sprintf("SLA %s started (target %v)", e.SLA, d["target"])
	case engine.EventSLAPaused:
		return fmt.Sprintf("SLA %s paused in %v after %v", e.SLA, d["state"], elapsed(d["elapsed"]))
	case engine.EventSLAResumed:
		return fmt.Sprintf("SLA %s resumed in %v (%v used)", e.SLA, d["state"], elapsed(d["elapsed"]))
	case engine.EventSLAStopped:
		met := "met"
		if d["met"] != true {
			met = "missed"
		}
		return fmt.Sprintf("SLA %s stopped, %s, after %v (%v)", e.SLA, met, elapsed(d["elapsed"]), d["reason"])
	case engine.EventSLABreached:
		return fmt.Sprintf("SLA %s breached its %v target", e.SLA, d["target"])
	case engine.EventEscalation:
		return fmt.Sprintf("escalation: SLA %s reached %v", e.SLA, d["at"])
	case engine.EventNotification:
		to := d["role"]
		if to == nil {
			to = d["user"]
		}
		return fmt.Sprintf("notified %v: %v", to, d["message"])
	case engine.EventVariableSet:
		return fmt.Sprintf("set %v = %v", d["name"], d["value"])
	case engine.EventSLATargetChanged:
		return fmt.Sprintf("SLA %s target %v → %v (%v is now %v; %v already counted)", e.SLA, d["from"], d["to"], d["by"], d["value"], d["elapsed"])
	case engine.EventReminder:
		if m, ok := d["missing"]; ok {
			return fmt.Sprintf("reminder: no %v for %v in %v", m, d["every"], d["state"])
		}
		return fmt.Sprintf("reminder: %v passed in %v", d["every"], d["state"])
	case engine.EventSLAWarning:
		return fmt.Sprintf("SLA %s at risk: %v of its %v target used", e.SLA, d["at"], d["target"])
	case engine.EventReassigned:
		if u, ok := d[engine.VarAssignee]; ok {
			return fmt.Sprintf("reassigned to %v", u)
		}
		return fmt.Sprintf("reassigned to group %v", d[engine.VarAssignmentGroup])
	case engine.EventStepFailed:
		return fmt.Sprintf("step failed: %v", d["error"])
	case engine.EventApprovalDecided:
		if item, ok := d["item"]; ok {
			return fmt.Sprintf("%v %v at this meeting", item, d["outcome"])
		}
		s := fmt.Sprintf("approval %v (%s → %s)", d["outcome"], e.From, e.To)
		if d["timeout"] == true {
			s += " on timeout"
		}
		if m, ok := d["meeting"]; ok {
			s += fmt.Sprintf(" at meeting %v", m)
		}
		return s
	case engine.EventAgendaCollected:
		items, _ := d["items"].([]any)
		return fmt.Sprintf("agenda collected: %d %v waiting", len(items), d["process"])
	case engine.EventDecisionReleased:
		return fmt.Sprintf("decision on %v released: %v", d["process"], d["outcome"])
	case engine.EventReleaseRefused:
		return fmt.Sprintf("decision on %v refused: %v", d["process"], d["error"])
	case engine.EventRecipientsRequested:
		return fmt.Sprintf("notice to the members of %v requested", d["groups"])
	case engine.EventRecipientsResolved:
		return fmt.Sprintf("notice to %v: %v", d["groups"], d["recipients"])
	case engine.EventApproversResolved:
		return fmt.Sprintf("approvers resolved: %v", d["approvers"])
	case engine.EventApprovalDue:
		return fmt.Sprintf("approval due after %v: %v", d["due"], d["on_timeout"])
	case engine.EventTaskOverdue:
		return fmt.Sprintf("task %s overdue after %v", e.Action, d["due"])
	case engine.EventSubprocessRequested:
		return fmt.Sprintf("start of a %v process requested", d["process"])
	case engine.EventSubprocessStarted:
		return fmt.Sprintf("started %v (%v)", d["id"], d["process"])
	case engine.EventSubprocessEnded:
		return fmt.Sprintf("%v (%v) ended in %v", d["id"], d["process"], d["state"])
	case engine.EventLinked:
		return fmt.Sprintf("started by %v (%v)", d["parent"], d["process"])
	case engine.EventWebhookRequested:
		return fmt.Sprintf("webhook %v %v requested", d["method"], d["url"])
	case engine.EventWebhookCalled:
		return fmt.Sprintf("webhook %v answered %v", d["url"], d["status"])
	case engine.EventWebhookFailed:
		return fmt.Sprintf("webhook %v failed: %v", d["url"], d["error"])
	case engine.EventComment:
		return fmt.Sprintf("%s added a work note", e.Actor)
	case engine.EventCancelled:
		return fmt.Sprintf("process cancelled in %s", e.From)
	case engine.EventEnded:
		return fmt.Sprintf("process ended in %s", e.To)
	}
	return e.Type
}

func fields(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// elapsed is a clock's elapsed time for people: to the second (the clocks
// count nanoseconds), "under 1s" below it.
func elapsed(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return v
	}
	if d = d.Round(time.Second); d == 0 {
		return "under 1s"
	}
	return d.String()
}
