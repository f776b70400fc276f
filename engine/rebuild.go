package engine

import (
	"fmt"
	"reflect"
	"time"
)

// Rebuild re-creates an instance as it was at asOf from what its workflow
// recorded: the start input and the events. It runs the engine again — the start,
// each action a person took at the time it was taken, and the clock up to asOf —
// so SLA clocks, breaches and escalations are recomputed, not copied. It then
// checks that every event it derived equals the recorded one: a reconstruction
// that disagrees with the record is an error (EINTERNAL), never a silent answer.
func Rebuild(def *Definition, id string, version int, input map[string]any, recorded []Event, asOf time.Time) (*Instance, error) {
	const op = "engine.Rebuild"
	if len(recorded) == 0 || recorded[0].Type != EventStarted {
		return nil, &Error{Code: EINVALID, Op: op, Message: "the record does not begin with the process start"}
	}
	start := recorded[0]
	if asOf.Before(start.At) {
		return nil, &Error{Code: ENOTFOUND, Op: op, Message: fmt.Sprintf("process %s did not exist yet at %s; it started at %s",
			id, asOf.UTC().Format(time.RFC3339), start.At.UTC().Format(time.RFC3339Nano))}
	}
	in, err := Start(def, id, version, input, Actor{ID: start.Actor}, start.RequestID, start.At)
	if err != nil {
		return nil, &Error{Code: EINTERNAL, Op: op, Message: "the recorded start no longer validates", Err: err}
	}
	for _, e := range recorded {
		if e.At.After(asOf) {
			continue
		}
		if err := in.ApplyRecorded(def, e); err != nil {
			return nil, disagree(op, e, err.Error())
		}
	}
	in.Advance(def, asOf)
	for i, got := range in.Pending {
		if i >= len(recorded) {
			return nil, disagree(op, got, "the engine derives an event the record does not have")
		}
		if !sameEvent(got, recorded[i]) {
			return nil, disagree(op, recorded[i], fmt.Sprintf("the engine derives %s at %s instead", got.Type, got.At.Format(time.RFC3339Nano)))
		}
	}
	return in, nil
}

func disagree(op string, e Event, why string) error {
	return &Error{Code: EINTERNAL, Op: op, Message: fmt.Sprintf("record and engine disagree at event %d (%s at %s): %s",
		e.Seq, e.Type, e.At.UTC().Format(time.RFC3339Nano), why)}
}

// sameEvent compares a derived event with a recorded one, which has been through
// JSON (numbers are float64, times may carry another location).
func sameEvent(a, b Event) bool {
	if a.Seq != b.Seq || !a.At.Equal(b.At) || a.Type != b.Type || a.Actor != b.Actor || a.Action != b.Action ||
		a.From != b.From || a.To != b.To || a.SLA != b.SLA || a.Comment != b.Comment {
		return false
	}
	return reflect.DeepEqual(jsonValue(a.Data), jsonValue(b.Data))
}
