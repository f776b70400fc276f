package workflows

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Replay re-runs a workflow history against the current code and proves that the
// code makes the decisions the history recorded. Temporal's replayer checks the
// sequence of commands (activity and timer types and ids) but not their inputs, so
// Replay also re-derives every activity input — for itilflow, each projection with
// its events: states, SLA breaches, escalations — and compares it with the input
// recorded in the history. The error names the first place where they differ.
func Replay(logger log.Logger, history *historypb.History) error {
	return replay(logger, history, Register)
}

func replay(logger log.Logger, history *historypb.History, register func(Registry)) error {
	rec := &activityRecorder{}
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
		Interceptors: []interceptor.WorkerInterceptor{rec},
	})
	if err != nil {
		return err
	}
	register(r)
	if err := r.ReplayWorkflowHistory(logger, history); err != nil {
		return err
	}
	return compareActivityInputs(history, rec.inputs)
}

// compareActivityInputs checks that the code scheduled the same activities with
// the same inputs, in order, as the history recorded.
func compareActivityInputs(history *historypb.History, now [][]any) error {
	dc := converter.GetDefaultDataConverter()
	i := 0
	for _, e := range history.GetEvents() {
		a := e.GetActivityTaskScheduledEventAttributes()
		if a == nil {
			continue
		}
		if i >= len(now) {
			return fmt.Errorf("event %d: the history schedules activity %s, the code no longer does",
				e.GetEventId(), a.GetActivityType().GetName())
		}
		payloads := a.GetInput().GetPayloads()
		if len(payloads) != len(now[i]) {
			return fmt.Errorf("event %d: activity %s recorded %d arguments, the code passes %d",
				e.GetEventId(), a.GetActivityType().GetName(), len(payloads), len(now[i]))
		}
		for j, p := range payloads {
			var recorded any
			if err := dc.FromPayload(p, &recorded); err != nil {
				return fmt.Errorf("event %d: decoding recorded input: %w", e.GetEventId(), err)
			}
			derived := now[i][j]
			if !reflect.DeepEqual(recorded, derived) {
				return fmt.Errorf("event %d: activity %s: the code now decides differently from the history: %s",
					e.GetEventId(), a.GetActivityType().GetName(), firstDifference("input", recorded, derived))
			}
		}
		i++
	}
	if i < len(now) {
		return fmt.Errorf("the code schedules %d activities, the history only %d", len(now), i)
	}
	return nil
}

func asJSONValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(b, &out)
}

// firstDifference describes where two decoded JSON values first differ.
func firstDifference(path string, a, b any) string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			break
		}
		for _, k := range sortedKeys(av, bv) {
			if !reflect.DeepEqual(av[k], bv[k]) {
				return firstDifference(path+"."+k, av[k], bv[k])
			}
		}
	case []any:
		bv, ok := b.([]any)
		if !ok {
			break
		}
		for k := 0; k < len(av) && k < len(bv); k++ {
			if !reflect.DeepEqual(av[k], bv[k]) {
				return firstDifference(fmt.Sprintf("%s[%d]", path, k), av[k], bv[k])
			}
		}
		if len(av) != len(bv) {
			return fmt.Sprintf("%s: recorded %d items, now %d", path, len(av), len(bv))
		}
	}
	ra, _ := json.Marshal(a)
	rb, _ := json.Marshal(b)
	return fmt.Sprintf("%s: recorded %s, now %s", path, ra, rb)
}

func sortedKeys(a, b map[string]any) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range []map[string]any{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// activityRecorder captures, in order, the arguments of every activity the
// workflow code schedules during a replay.
type activityRecorder struct {
	interceptor.WorkerInterceptorBase
	inputs [][]any
}

func (r *activityRecorder) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &recordingInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, rec: r}
}

type recordingInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	rec *activityRecorder
}

func (i *recordingInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&recordingOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, rec: i.rec})
}

type recordingOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	rec *activityRecorder
}

// ExecuteActivity records the arguments as JSON values at once, as the SDK
// serialises them when it schedules the activity: the workflow may change the maps
// they share with its state afterwards.
func (o *recordingOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	values := make([]any, len(args))
	for i, a := range args {
		v, err := asJSONValue(a)
		if err != nil {
			v = fmt.Sprintf("unserialisable argument: %v", err)
		}
		values[i] = v
	}
	o.rec.inputs = append(o.rec.inputs, values)
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}
