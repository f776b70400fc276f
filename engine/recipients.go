package engine

import (
	"fmt"
	"slices"
	"time"
)

// Who a notify step tells. A role, a user and users are known to the process
// (literals, or expressions over its data, evaluated here); a directory group
// is not, so its members are resolved by the workflow through an effect, as
// an approval's electorate is, and recorded (recipients_resolved) before each
// of them is told: a replay tells the same people whatever the directory holds
// by then.

// EventRecipientsRequested and EventRecipientsResolved record the resolution
// of a notify step's groups.
const (
	EventRecipientsRequested = "recipients_requested"
	EventRecipientsResolved  = "recipients_resolved"
)

// RecipientsRequest asks the directory for the members of Groups, to tell
// them Message (about SLA, if an escalation told them).
type RecipientsRequest struct {
	Groups  []string `json:"groups"`
	Message string   `json:"message"`
	SLA     string   `json:"sla,omitempty"`
}

// notify does a notify step.
func (in *Instance) notify(def *Definition, n *Notify, sla, msg string, scope Scope) {
	tell := func(key, who string) {
		in.emit(Event{At: scope.Now, Type: EventNotification, Actor: System.ID, SLA: sla, Data: map[string]any{"message": msg, key: who}})
	}
	switch {
	case n.Role != "" && def.Level < LevelRolesComputed:
		tell("role", n.Role)
	case n.Role != "":
		roles, _ := in.namesOf(def, n.Role, "role", sla, scope)
		for _, r := range roles {
			tell("role", r)
		}
	case n.User != "":
		if user, ok := in.userOf(def, n.User, scope); ok {
			tell("user", user)
		}
	case len(n.Users) > 0:
		var users []string
		for _, ref := range n.Users {
			src, expr := isExpr(ref)
			if !expr {
				users = append(users, ref)
				continue
			}
			v, err := def.eval(src, scopeProcess, scope)
			if err != nil {
				in.stepFailed(scope.Now, sla, map[string]any{"users": ref, "error": err.Error()})
				continue
			}
			users = append(users, userIDs(v)...)
		}
		// An empty list (an optional field nobody filled) tells nobody; an
		// expression that failed is recorded above.
		for _, u := range once(users) {
			tell("user", u)
		}
	case n.Group != "":
		groups, ok := in.namesOf(def, n.Group, "group", sla, scope)
		if !ok {
			return
		}
		in.emit(Event{At: scope.Now, Type: EventRecipientsRequested, Actor: System.ID, SLA: sla, Data: map[string]any{"groups": groups}})
		in.Effects = append(in.Effects, Effect{ID: in.Seq, Recipients: &RecipientsRequest{Groups: groups, Message: msg, SLA: sla}})
	}
}

// namesOf resolves a role or group reference: the name, or the names its
// expression gives. None is a failed step.
func (in *Instance) namesOf(def *Definition, ref, what, sla string, scope Scope) ([]string, bool) {
	src, ok := isExpr(ref)
	if !ok {
		return []string{ref}, true
	}
	v, err := def.eval(src, scopeProcess, scope)
	names := once(userIDs(v))
	if err != nil || len(names) == 0 {
		msg := fmt.Sprintf("expression %q gave no %s", src, what)
		if err != nil {
			msg = err.Error()
		}
		in.stepFailed(scope.Now, sla, map[string]any{what: ref, "error": msg})
		return nil, false
	}
	return names, true
}

// once returns list without empty strings and repeats, in order.
func once(list []string) []string {
	out := []string{}
	for _, s := range list {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// CompleteRecipients records the members the directory gave for a notify
// step's groups, and tells each of them; or records why they could not be
// resolved. The people are told even if the process has moved on or ended
// meanwhile: the notice was due when the step ran.
func (in *Instance) CompleteRecipients(id int64, members []string, failure string, now time.Time) {
	e, ok := in.effect(id)
	if !ok || e.Recipients == nil {
		return
	}
	r := e.Recipients
	if failure != "" {
		in.stepFailed(now, r.SLA, map[string]any{"notify": r.Groups, "error": failure, "effect": id})
		return
	}
	people := once(members)
	slices.Sort(people)
	in.emit(Event{At: now, Type: EventRecipientsResolved, Actor: System.ID, SLA: r.SLA, Data: map[string]any{"groups": r.Groups, "recipients": people, "effect": id}})
	if len(people) == 0 {
		in.stepFailed(now, r.SLA, map[string]any{"notify": r.Groups, "error": "nobody to notify: the groups have no members", "effect": id})
		return
	}
	for _, p := range people {
		in.emit(Event{At: now, Type: EventNotification, Actor: System.ID, SLA: r.SLA, Data: map[string]any{"message": r.Message, "user": p}})
	}
}
