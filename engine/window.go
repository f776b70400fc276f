package engine

import (
	"fmt"
	"time"
)

// fieldOf returns the named field, or nil.
func fieldOf(fields []Field, name string) *Field {
	for i := range fields {
		if fields[i].Name == name {
			return &fields[i]
		}
	}
	return nil
}

// WindowTimes returns the start and end a scheduling action's input gives.
func WindowTimes(w *Window, input map[string]any) (start, end time.Time) {
	start, _ = time.Parse(time.RFC3339, fmt.Sprint(input[w.Start]))
	end, _ = time.Parse(time.RFC3339, fmt.Sprint(input[w.End]))
	return start, end
}

// CheckWindow refuses a change window that does not end after it starts
// (EINVALID), or that overlaps a blackout of spec (ECONFLICT, naming it). The
// workflow checks the blackouts of its definition's calendar snapshot; the API
// checks the current calendars too, so a freeze added after publishing holds.
func CheckWindow(spec *CalendarSpec, w *Window, input map[string]any) error {
	const op = "engine.CheckWindow"
	start, end := WindowTimes(w, input)
	if !end.After(start) {
		return &Error{Code: EINVALID, Op: op, Message: "the change window is not valid", Details: []Detail{{Field: "input." + w.End, Message: fmt.Sprintf("must be after %s", w.Start)}}}
	}
	if spec == nil {
		return nil
	}
	for _, b := range spec.Blackouts {
		if start.Before(b.To) && b.From.Before(end) {
			return &Error{Code: ECONFLICT, Op: op, Message: fmt.Sprintf("the change window %s – %s falls in the blackout %q (%s – %s) of calendar %s",
				start.Format(time.RFC3339), end.Format(time.RFC3339), b.Name, b.From.Format(time.RFC3339), b.To.Format(time.RFC3339), spec.Name),
				Details: []Detail{{Field: "input." + w.Start, Message: "in blackout " + b.Name}}}
		}
	}
	return nil
}
