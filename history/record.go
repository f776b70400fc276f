package history

import (
	"fmt"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"github.com/itilflow/itilflow/activities"
	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/workflows"
)

// Record is what a process's workflow history says: how it was started (the
// definition snapshot, its version and content hash, the input) and every event
// the workflow decided, in order.
type Record struct {
	Start  workflows.Input
	Events []engine.Event
	// View is the latest view the workflow handed to its projection, merged
	// whole when the projections were compact.
	View engine.View
	// Lean says the workflow sent compact projections; Opened is the event
	// after which the process entered its state, as the last one said.
	Lean   bool
	Opened int64
}

// projectActivity and projectRecordedActivity are the registered names of
// activities.Activities.Project and ProjectRecorded.
const (
	projectActivity         = "Project"
	projectRecordedActivity = "ProjectRecorded"
)

// How the Go SDK records a local activity: a marker of this name whose
// details hold its type (and attempt) under "data" and its result under
// "result" (go.temporal.io/sdk/internal, localActivityMarkerName and its
// detail keys; the recorded format every SDK version replays).
const (
	localActivityMarker = "LocalActivity"
	localActivityData   = "data"
	localActivityResult = "result"
)

// projection is the projection event e records, if it records one: the
// input of a Project activity, or the result of a ProjectRecorded local
// activity (whose input the history does not hold, so it returns it). A
// local activity attempt that failed records no result.
func projection(dc converter.DataConverter, e *historypb.HistoryEvent) (activities.ProjectInput, bool, error) {
	var in activities.ProjectInput
	if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
		if a.GetActivityType().GetName() != projectActivity {
			return in, false, nil // effects (webhooks, starts) have inputs of their own
		}
		return in, true, dc.FromPayloads(a.GetInput(), &in)
	}
	m := e.GetMarkerRecordedEventAttributes()
	if m == nil || m.GetMarkerName() != localActivityMarker || m.GetFailure() != nil {
		return in, false, nil
	}
	var data struct{ ActivityType string }
	if err := dc.FromPayloads(m.GetDetails()[localActivityData], &data); err != nil {
		return in, false, err
	}
	result, ok := m.GetDetails()[localActivityResult]
	if data.ActivityType != projectRecordedActivity || !ok {
		return in, false, nil
	}
	return in, true, dc.FromPayloads(result, &in)
}

// Decode reads the record out of the histories of a process's runs, the
// first first (Runs): the start input from the first run's first event, the
// events from the inputs of the projection activities of every run.
func Decode(runs ...*historypb.History) (Record, error) {
	dc := converter.GetDefaultDataConverter()
	var rec Record
	var last int64
	for i, h := range runs {
		events := h.GetEvents()
		if len(events) == 0 || events[0].GetWorkflowExecutionStartedEventAttributes() == nil {
			return rec, &engine.Error{Code: engine.EINVALID, Message: "not a workflow history: the first event is not a start"}
		}
		if typ := events[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName(); typ != workflows.ProcessType {
			return rec, &engine.Error{Code: engine.EINVALID, Message: fmt.Sprintf("not the history of a process: its workflow type is %q, not %q", typ, workflows.ProcessType)}
		}
		if i == 0 {
			if err := dc.FromPayloads(events[0].GetWorkflowExecutionStartedEventAttributes().GetInput(), &rec.Start); err != nil {
				return rec, fmt.Errorf("decoding the start input: %w", err)
			}
		}
		for _, e := range events {
			in, ok, err := projection(dc, e)
			if err != nil {
				return rec, fmt.Errorf("decoding the projection at event %d: %w", e.GetEventId(), err)
			}
			if !ok {
				continue
			}
			var fresh []engine.Event
			for _, ev := range in.Events {
				// A projection that failed is sent again with the next one.
				if ev.Seq > last {
					fresh = append(fresh, ev)
					last = ev.Seq
				}
			}
			rec.Events = append(rec.Events, fresh...)
			if in.Patch == nil {
				rec.View = in.View
				continue
			}
			var prev *engine.View
			if rec.View.ID != "" {
				prev = &rec.View
			}
			rec.View = engine.MergeView(prev, rec.Opened, in.View, *in.Patch, fresh)
			rec.Lean, rec.Opened = true, in.Patch.Opened
		}
	}
	return rec, nil
}

// AsOf reconstructs the process as it was at t (see engine.Rebuild).
func (r Record) AsOf(t time.Time) (engine.View, error) {
	def := &r.Start.Definition
	in, err := engine.Rebuild(def, r.Start.ID, r.Start.Version, r.Start.Input, r.Events, t)
	if err != nil {
		return engine.View{}, err
	}
	return in.View(def, t), nil
}
