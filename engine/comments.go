package engine

import (
	"fmt"
	"strings"
	"time"
)

// CheckComment decides whether actor may add a work note to the process now:
// anyone may who can see it (the API decides that), while it runs, and the
// note says something. It changes nothing.
func (in *Instance) CheckComment(actor Actor, text string) error {
	const op = "engine.CheckComment"
	if in.Ended() {
		return &Error{Code: ECONFLICT, Op: op, Message: fmt.Sprintf("process %s has ended in state %q; its history takes no more notes", in.ID, in.State)}
	}
	if actor.ID == "" || actor.ID == System.ID {
		return &Error{Code: EFORBIDDEN, Op: op, Message: "a work note is a person's"}
	}
	if strings.TrimSpace(text) == "" {
		return &Error{Code: EINVALID, Op: op, Message: "a work note needs text",
			Details: []Detail{{Field: "comment", Message: "is empty"}}}
	}
	return nil
}

// AddComment records a work note (event comment) that CheckComment allowed.
// Whatever fell due before now is recorded first, as for an action.
func (in *Instance) AddComment(def *Definition, actor Actor, text, requestID string, now time.Time) error {
	in.Advance(def, now)
	if err := in.CheckComment(actor, text); err != nil {
		return err
	}
	in.emit(Event{At: now, Type: EventComment, Actor: actor.ID, Comment: text, RequestID: requestID})
	return nil
}
