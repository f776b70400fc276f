package history

import (
	"testing"

	"github.com/itilflow/itilflow/engine"
)

// Every event type reads as a sentence on the timeline, not as its type name.
func TestEveryEventTypeHasASummary(t *testing.T) {
	for _, typ := range []string{
		engine.EventStarted, engine.EventAction, engine.EventTimerFired, engine.EventSLAStarted,
		engine.EventSLAPaused, engine.EventSLAResumed, engine.EventSLAStopped, engine.EventSLABreached,
		engine.EventEscalation, engine.EventNotification, engine.EventVariableSet, engine.EventSLATargetChanged,
		engine.EventEnded, engine.EventCancelled, engine.EventReminder, engine.EventSLAWarning,
		engine.EventReassigned, engine.EventStepFailed, engine.EventApprovalDecided, engine.EventApprovalDue,
		engine.EventTaskOverdue, engine.EventSubprocessRequested, engine.EventSubprocessStarted,
		engine.EventSubprocessEnded, engine.EventLinked, engine.EventWebhookRequested,
		engine.EventWebhookCalled, engine.EventWebhookFailed,
	} {
		if got := Summary(engine.Event{Type: typ, Data: map[string]any{}}); got == typ {
			t.Errorf("event %s has no summary", typ)
		}
	}
}
