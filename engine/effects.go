package engine

import (
	"fmt"
	"time"
)

// Effect is a step only the workflow can carry out, because it reaches outside
// the process: start another process, call a webhook, collect an agenda or
// release a decision to another process. ID is the sequence
// number of the event that asked for it; the workflow reports back with
// CompleteStart or CompleteWebhook.
type Effect struct {
	ID      int64         `json:"id"`
	Start   *StartRequest `json:"start,omitempty"`
	Webhook *WebhookCall  `json:"webhook,omitempty"`
	// Collect asks for the processes waiting for this process's meetings.
	Collect *CollectRequest `json:"collect,omitempty"`
	// Release takes a meeting's decision on one item to its process.
	Release *Release `json:"release,omitempty"`
	// Count asks for the processes a rule counts.
	Count *CountRequest `json:"count,omitempty"`
	// Resolve asks the directory for the people behind a vote's roles and
	// groups.
	Resolve *ResolveRequest `json:"resolve,omitempty"`
	// Recipients asks the directory for the members of the groups a notify
	// step addresses.
	Recipients *RecipientsRequest `json:"recipients,omitempty"`
}

// StartRequest asks for a new process of Process with Input, linked to Parent.
type StartRequest struct {
	Parent  string         `json:"parent"`
	Process string         `json:"process"`
	Input   map[string]any `json:"input,omitempty"`
	OnEnd   string         `json:"on_end,omitempty"`
	// Once, when set, names the process to start across processes (the
	// start step's once, evaluated): the same value starts one process.
	Once string `json:"once,omitempty"`
}

// WebhookCall is a webhook with its body evaluated.
type WebhookCall struct {
	Webhook
	Payload map[string]any `json:"payload,omitempty"`
}

// Link relates two processes: Relation is "child" (this one started it) or
// "parent" (it started this one).
type Link struct {
	ID         string     `json:"id"`
	Definition string     `json:"definition"`
	Relation   string     `json:"relation"`
	OnEnd      string     `json:"on_end,omitempty"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
	EndState   string     `json:"end_state,omitempty"`
}

// Relations of a link.
const (
	RelationChild  = "child"
	RelationParent = "parent"
)

func (in *Instance) requestStart(def *Definition, sp *StartProcess, scope Scope) {
	input, err := in.values(def, sp.Input, scope)
	if err != nil {
		in.stepFailed(scope.Now, "", map[string]any{"start": sp.Process, "error": err.Error()})
		return
	}
	data := map[string]any{"process": sp.Process}
	if sp.OnEnd != "" {
		data["on_end"] = sp.OnEnd
	}
	once := sp.Once
	if src, ok := isExpr(once); ok {
		v, err := def.eval(src, scopeProcess, scope)
		s, _ := v.(string)
		if err != nil || s == "" {
			msg := fmt.Sprintf("once %q gave no name", src)
			if err != nil {
				msg = err.Error()
			}
			in.stepFailed(scope.Now, "", map[string]any{"start": sp.Process, "error": msg})
			return
		}
		once = s
	}
	if once != "" {
		data["once"] = once
	}
	in.emit(Event{At: scope.Now, Type: EventSubprocessRequested, Actor: System.ID, Data: data})
	in.Effects = append(in.Effects, Effect{ID: in.Seq, Start: &StartRequest{Parent: in.ID, Process: sp.Process, Input: input, OnEnd: sp.OnEnd, Once: once}})
}

func (in *Instance) requestWebhook(def *Definition, w *Webhook, scope Scope) {
	payload, err := in.values(def, w.Body, scope)
	if err != nil {
		in.stepFailed(scope.Now, "", map[string]any{"webhook": w.URL, "error": err.Error()})
		return
	}
	in.emit(Event{At: scope.Now, Type: EventWebhookRequested, Actor: System.ID, Data: map[string]any{"url": w.URL, "method": w.Method}})
	in.Effects = append(in.Effects, Effect{ID: in.Seq, Webhook: &WebhookCall{Webhook: *w, Payload: payload}})
}

// effect removes and returns the pending effect id.
func (in *Instance) effect(id int64) (Effect, bool) {
	for i, e := range in.Effects {
		if e.ID == id {
			in.Effects = append(in.Effects[:i:i], in.Effects[i+1:]...)
			return e, true
		}
	}
	return Effect{}, false
}

// CompleteStart records the outcome of a start effect: the id of the process
// started, or why it could not be.
func (in *Instance) CompleteStart(def *Definition, id int64, child, failure string, now time.Time) {
	e, ok := in.effect(id)
	if !ok || e.Start == nil {
		return
	}
	if failure != "" {
		in.stepFailed(now, "", map[string]any{"start": e.Start.Process, "error": failure, "effect": id})
		return
	}
	in.Links = append(in.Links, Link{ID: child, Definition: e.Start.Process, Relation: RelationChild, OnEnd: e.Start.OnEnd})
	in.emit(Event{At: now, Type: EventSubprocessStarted, Actor: System.ID, Data: map[string]any{"id": child, "process": e.Start.Process, "effect": id}})
	for i, end := range in.EarlyEnds {
		if end.ID == child {
			in.EarlyEnds = append(in.EarlyEnds[:i:i], in.EarlyEnds[i+1:]...)
			in.ChildEnded(def, child, end.State, now)
			return
		}
	}
}

// EarlyEnd is the end of a child process that came before its link.
type EarlyEnd struct {
	ID    string `json:"id"`
	State string `json:"state"`
}

// LinkParent records that the process was started by parent.
func (in *Instance) LinkParent(parent, definition string, now time.Time) {
	in.Links = append(in.Links, Link{ID: parent, Definition: definition, Relation: RelationParent})
	in.emit(Event{At: now, Type: EventLinked, Actor: System.ID, Data: map[string]any{"parent": parent, "process": definition}})
}

// ChildEnded records the end of a process this one started, and takes the
// start step's on_end action when it has one. An end that comes before the
// start's outcome (the child ended at once) is kept until CompleteStart links
// the child.
func (in *Instance) ChildEnded(def *Definition, child, state string, now time.Time) {
	for i := range in.Links {
		l := &in.Links[i]
		if l.ID != child || l.Relation != RelationChild || l.EndedAt != nil {
			continue
		}
		l.EndedAt, l.EndState = &now, state
		in.emit(Event{At: now, Type: EventSubprocessEnded, Actor: System.ID, Data: map[string]any{"id": child, "process": l.Definition, "state": state}})
		if l.OnEnd != "" && !in.Ended() {
			if err := in.Apply(def, ActionRequest{Action: l.OnEnd, Actor: System}, now); err != nil {
				in.stepFailed(now, "", map[string]any{"action": l.OnEnd, "error": err.Error()})
			}
		}
		return
	}
	if def.Level >= LevelChildEndsKept && in.startPending() {
		in.EarlyEnds = append(in.EarlyEnds, EarlyEnd{ID: child, State: state})
	}
}

// startPending reports whether a start step waits for its outcome: only
// then can an unknown child's end be one of this process's.
func (in *Instance) startPending() bool {
	for _, e := range in.Effects {
		if e.Start != nil {
			return true
		}
	}
	return false
}

// CompleteWebhook records a webhook's answer and maps it into variables, or
// records its failure and takes its on_failure action.
func (in *Instance) CompleteWebhook(def *Definition, id int64, resp *WebhookResponse, failure string, now time.Time) {
	e, ok := in.effect(id)
	if !ok || e.Webhook == nil {
		return
	}
	w := e.Webhook
	if failure != "" {
		in.emit(Event{At: now, Type: EventWebhookFailed, Actor: System.ID, Data: map[string]any{"url": w.URL, "error": failure, "max_attempts": w.Retries + 1, "effect": id}})
		if w.OnFailure != "" && !in.Ended() {
			if err := in.Apply(def, ActionRequest{Action: w.OnFailure, Actor: System}, now); err != nil {
				in.stepFailed(now, "", map[string]any{"action": w.OnFailure, "error": err.Error()})
			}
		}
		return
	}
	// The answer is recorded whole: it is what the result mapping read, so an
	// auditor can see it and a rebuild can map it again.
	in.emit(Event{At: now, Type: EventWebhookCalled, Actor: System.ID, Data: map[string]any{"url": w.URL, "status": resp.Status, "body": resp.Body, "effect": id}})
	if !in.Ended() {
		in.assign(def, w.Result, "", scopeWebhook, Scope{Instance: in, Actor: System, Now: now, Response: resp})
		in.conditions(def, now)
	}
}
