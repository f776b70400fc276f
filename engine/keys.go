package engine

// The keys the parser accepts, per kind of mapping. The parser, the JSON Schema
// and the reference test all read them from here, so they cannot drift apart.
var (
	keysDefinition    = []string{"name", "title", "calendar", "input", "initial", "states", "slas", "escalations"}
	keysField         = []string{"type", "required", "default", "maxLength", "values"}
	keysState         = []string{"final", "on_enter", "actions", "timers", "reminders"}
	keysReminder      = []string{"every", "do", "reset_by"}
	keysAction        = []string{"to", "roles", "input"}
	keysTimer         = []string{"after", "action"}
	keysSLA           = []string{"target", "by", "targets", "stop_on_leave", "stop_on_enter", "pause_in"}
	keysEscalation    = []string{"on", "do"}
	keysOn            = []string{"sla", "at"}
	keysStep          = []string{"notify", "set"}
	keysNotify        = []string{"role", "user"}
	keysCalendarsFile = []string{"calendars"}
	keysCalendar      = []string{"timezone", "hours", "holidays", "working_days"}
)

// Keys returns every key the parser accepts, by the kind of mapping it belongs to.
func Keys() map[string][]string {
	return map[string][]string{
		"definition": keysDefinition, "field": keysField, "state": keysState, "action": keysAction,
		"timer": keysTimer, "reminder": keysReminder, "sla": keysSLA, "escalation": keysEscalation, "on": keysOn, "step": keysStep,
		"notify": keysNotify, "calendars file": keysCalendarsFile, "calendar": keysCalendar,
		"calendar hours": weekdayKeys,
	}
}
