package console

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/history"
)

// eventText says what an event records, in the reader's language, naming
// states, actions and SLAs by the labels of the process's definition. An
// event kind the texts do not know yet is told as the history package tells
// it, in English, rather than not at all.
func eventText(l *locale, n names, e engine.Event) string {
	d := e.Data
	v := map[string]any{"Actor": e.Actor, "Action": n.Action(e.Action), "From": n.State(e.From), "To": n.State(e.To), "SLA": n.SLA(e.SLA)}
	state := func(key string) string { s, _ := d[key].(string); return n.State(s) }
	id := eventTexts[e.Type]
	switch e.Type {
	case engine.EventAction:
		if in, ok := d["input"].(map[string]any); ok && len(in) > 0 {
			id, v["Input"] = "event.action_input", fieldsText(n, in)
		}
	case engine.EventTimerFired:
		v["After"], v["State"], v["Error"], v["At"] = d["after"], state("state"), d["error"], d["at"]
		switch {
		case d["error"] != nil:
			id = "event.timer_failed"
		case d["waited"] == true:
			id = "event.timer_waited"
		case d["at"] != nil: // a timer at an instant has no after
			id = "event.timer_fired_at"
		}
	case engine.EventSLAStarted:
		v["Target"] = d["target"]
		if _, ok := d["restarted_in"]; ok {
			id, v["State"] = "event.sla_restarted", state("restarted_in")
		}
	case engine.EventSLAPaused, engine.EventSLAResumed:
		v["State"], v["Elapsed"] = state("state"), elapsedText(l, d["elapsed"])
		if _, ok := d["when"]; ok && d["state"] == nil {
			id = map[string]string{engine.EventSLAPaused: "event.sla_paused_when", engine.EventSLAResumed: "event.sla_resumed_when"}[e.Type]
		}
		if d["reopened"] == true {
			id = "event.sla_reopened"
		}
	case engine.EventSLAStopped:
		v["Elapsed"], v["Reason"] = elapsedText(l, d["elapsed"]), d["reason"]
		if d["met"] != true {
			id = "event.sla_stopped_missed"
		}
	case engine.EventSLABreached:
		v["Target"] = d["target"]
	case engine.EventEscalation:
		v["At"] = d["at"]
	case engine.EventNotification:
		v["Message"] = d["message"]
		if to, ok := d["role"]; ok {
			v["To"] = to
		} else {
			v["To"] = d["user"]
		}
	case engine.EventVariableSet:
		name, _ := d["name"].(string)
		v["Name"], v["Value"] = n.Field(name), d["value"]
	case engine.EventSLATargetChanged:
		by, _ := d["by"].(string)
		v["Old"], v["New"], v["By"], v["Value"], v["Elapsed"] = d["from"], d["to"], n.Field(by), d["value"], elapsedText(l, d["elapsed"])
	case engine.EventReminder:
		v["Every"], v["State"] = d["every"], state("state")
		if m, ok := d["missing"].([]any); ok {
			actions := make([]string, len(m))
			for i, a := range m {
				s, _ := a.(string)
				actions[i] = n.Action(s)
			}
			id, v["Missing"] = "event.reminder_missing", strings.Join(actions, " / ")
		}
	case engine.EventSLAWarning:
		v["At"], v["Target"] = d["at"], d["target"]
	case engine.EventReassigned:
		if u, ok := d[engine.VarAssignee]; ok {
			v["Who"] = u
		} else {
			id, v["Who"] = "event.reassigned_group", d[engine.VarAssignmentGroup]
		}
	case engine.EventStepFailed:
		v["Error"] = d["error"]
	case engine.EventApprovalDecided:
		v["Outcome"], v["Item"], v["Meeting"] = outcomeText(l, d["outcome"]), d["item"], d["meeting"]
		switch {
		case d["item"] != nil:
			id = "event.approval_decided_item"
		case d["timeout"] == true:
			id = "event.approval_decided_timeout"
		case d["meeting"] != nil:
			id = "event.approval_decided_meeting"
		}
	case engine.EventAgendaCollected:
		items, _ := d["items"].([]any)
		v["Count"], v["Process"] = len(items), d["process"]
	case engine.EventDecisionReleased, engine.EventReleaseRefused:
		v["Process"], v["Outcome"], v["Error"] = d["process"], outcomeText(l, d["outcome"]), d["error"]
	case engine.EventApproversResolved:
		v["Approvers"] = d["approvers"]
	case engine.EventRecipientsRequested, engine.EventRecipientsResolved:
		v["Groups"], v["Recipients"] = d["groups"], d["recipients"]
	case engine.EventApprovalDue:
		v["Due"], v["OnTimeout"] = d["due"], d["on_timeout"]
	case engine.EventTaskOverdue:
		v["Due"] = d["due"]
	case engine.EventSubprocessRequested, engine.EventSubprocessStarted, engine.EventSubprocessEnded, engine.EventLinked:
		v["Process"], v["ID"], v["State"], v["Parent"] = d["process"], d["id"], d["state"], d["parent"]
	case engine.EventWebhookRequested, engine.EventWebhookCalled, engine.EventWebhookFailed:
		v["Method"], v["URL"], v["Status"], v["Error"] = d["method"], d["url"], d["status"], d["error"]
	}
	if id == "" || !l.knows(id) {
		return history.Summary(e)
	}
	return l.text(id, v)
}

// eventTexts are the message ids of the event kinds, as written without
// their variants (an action with input, a missed SLA, …).
var eventTexts = map[string]string{
	engine.EventStarted: "event.process_started", engine.EventAction: "event.action", engine.EventTimerFired: "event.timer_fired",
	engine.EventSLAStarted: "event.sla_started", engine.EventSLAPaused: "event.sla_paused", engine.EventSLAResumed: "event.sla_resumed",
	engine.EventSLAStopped: "event.sla_stopped", engine.EventSLABreached: "event.sla_breached", engine.EventSLAWarning: "event.sla_warning",
	engine.EventSLATargetChanged: "event.sla_target_changed", engine.EventEscalation: "event.escalation",
	engine.EventNotification: "event.notification", engine.EventVariableSet: "event.variable_set", engine.EventReminder: "event.reminder",
	engine.EventReassigned: "event.reassigned", engine.EventStepFailed: "event.step_failed",
	engine.EventApprovalDecided: "event.approval_decided", engine.EventAgendaCollected: "event.agenda_collected",
	engine.EventDecisionReleased: "event.decision_released", engine.EventReleaseRefused: "event.release_refused",
	engine.EventApproversResolved: "event.approvers_resolved", engine.EventApprovalDue: "event.approval_due",
	engine.EventTaskOverdue: "event.task_overdue", engine.EventSubprocessRequested: "event.subprocess_requested",
	engine.EventSubprocessStarted: "event.subprocess_started", engine.EventSubprocessEnded: "event.subprocess_ended",
	engine.EventLinked: "event.linked", engine.EventWebhookRequested: "event.webhook_requested",
	engine.EventWebhookCalled: "event.webhook_called", engine.EventWebhookFailed: "event.webhook_failed",
	engine.EventCancelled: "event.process_cancelled", engine.EventEnded: "event.process_ended",
	engine.EventCollectRequested: "event.collect_requested", engine.EventApproversRequested: "event.approvers_requested",
	engine.EventComment:             "event.comment",
	engine.EventRecipientsRequested: "event.recipients_requested", engine.EventRecipientsResolved: "event.recipients_resolved",
}

// fieldsText lists input values by their fields' labels, in name order.
func fieldsText(n names, in map[string]any) string {
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s = %v", n.Field(k), in[k])
	}
	return strings.Join(parts, ", ")
}

// elapsedText is a clock's elapsed time as the engine wrote it ("1h30m0.5s"
// or "1d4h"), to the minute in the reader's language.
func elapsedText(l *locale, v any) any {
	s, ok := v.(string)
	var d engine.Duration
	if !ok || d.UnmarshalJSON([]byte(strconv.Quote(s))) != nil {
		return v
	}
	if time.Duration(d) < time.Minute {
		return l.text("duration.under_minute")
	}
	return l.durationText(time.Duration(d))
}

// outcomeText is an approval's outcome in the reader's language.
func outcomeText(l *locale, v any) any {
	s, _ := v.(string)
	if id, ok := outcomeTexts[s]; ok {
		return l.text(id)
	}
	return v
}

var outcomeTexts = map[string]string{
	engine.OutcomeApproved: "outcome.approved", engine.OutcomeRejected: "outcome.rejected", engine.OutcomeBypassed: "outcome.bypassed",
}
