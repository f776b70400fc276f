package engine

// The keys the parser accepts, per kind of mapping. The parser, the JSON Schema
// and the reference test all read them from here, so they cannot drift apart.
var (
	keysDefinition    = []string{"name", "title", "calendar", "input", "variables", "initial", "states", "slas", "escalations", "rules", "visibility", "labels"}
	keysVisibility    = []string{"roles", "people"}
	keysLabels        = []string{"title", "states", "actions", "fields", "slas"}
	keysField         = []string{"type", "required", "default", "maxLength", "values", "states"}
	keysState         = []string{"final", "on_enter", "actions", "timers", "reminders", "approval", "parallel"}
	keysReminder      = []string{"every", "when", "do", "reset_by", "until"}
	keysAction        = []string{"to", "roles", "input", "when", "do", "window", "not_by"}
	keysTimer         = []string{"after", "at", "action"}
	keysSLA           = []string{"target", "by", "targets", "stop_on_leave", "stop_on_enter", "pause_in", "start_on_enter", "start_when", "stop_when", "pause_when", "warn_at", "reopen", "at", "start_on"}
	keysStartOn       = []string{"sla", "breached"}
	keysEscalation    = []string{"on", "when", "do"}
	keysOn            = []string{"sla", "at"}
	keysStepKind      = []string{"notify", "set", "reassign", "raise_priority", "action", "start", "webhook", "collect"}
	keysStep          = append(append([]string{}, keysStepKind...), "when")
	keysCollect       = []string{"process", "into"}
	keysNotify        = []string{"role", "user", "users", "group"}
	keysReassign      = []string{"group", "user"}
	keysStart         = []string{"process", "input", "on_end", "once"}
	keysRule          = []string{"count", "at_least", "into", "do"}
	keysCount         = []string{"process", "ci", "within"}
	keysWebhook       = []string{"url", "method", "body", "timeout", "retries", "result", "on_failure"}
	keysApproval      = []string{"approvers", "mandatory", "quorum", "due", "on_timeout", "escalate", "approved", "rejected", "break_glass", "exclude", "board", "agenda"}
	keysBreakGlass    = []string{"roles", "to", "do"}
	keysApprovers     = []string{"roles", "users", "groups"}
	keysQuorum        = []string{"count", "percent"}
	keysParallel      = []string{"tasks", "join", "to"}
	keysTask          = []string{"roles", "due", "input"}
	keysCalendarsFile = []string{"calendars"}
	keysCalendar      = []string{"timezone", "hours", "holidays", "working_days", "blackouts"}
	keysBlackout      = []string{"name", "from", "to"}
	keysWindow        = []string{"start", "end", "ci"}
)

// Keys returns every key the parser accepts, by the kind of mapping it belongs to.
func Keys() map[string][]string {
	return map[string][]string{
		"definition": keysDefinition, "field": keysField, "state": keysState, "action": keysAction,
		"timer": keysTimer, "start_on": keysStartOn, "reminder": keysReminder, "sla": keysSLA, "escalation": keysEscalation, "on": keysOn, "step": keysStep,
		"notify": keysNotify, "reassign": keysReassign, "start": keysStart, "webhook": keysWebhook, "collect": keysCollect,
		"approval": keysApproval, "approvers": keysApprovers, "quorum": keysQuorum, "break_glass": keysBreakGlass, "parallel": keysParallel, "task": keysTask,
		"calendars file": keysCalendarsFile, "calendar": keysCalendar, "blackout": keysBlackout, "window": keysWindow,
		"calendar hours": weekdayKeys, "visibility": keysVisibility, "labels": keysLabels, "rule": keysRule, "count": keysCount,
	}
}
