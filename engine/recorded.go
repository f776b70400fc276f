package engine

import "fmt"

// ApplyRecorded applies one recorded event that came from outside the engine —
// an action a person took, or the outcome of a start or webhook step — at the
// time it happened, after everything that fell due before it. Events the engine
// derives by itself are skipped: applying the outside ones again derives them.
// Authorisation is not checked again; it was checked when the event happened.
func (in *Instance) ApplyRecorded(def *Definition, e Event) error {
	switch e.Type {
	case EventAction:
		if e.Actor == System.ID {
			return nil
		}
		in.Advance(def, e.At)
		st := def.State(in.State)
		if st == nil || st.Final || st.Action(e.Action) == nil {
			return fmt.Errorf("action %q is not possible in state %q", e.Action, in.State)
		}
		req := RecordedRequest(e)
		in.take(def, req, req.Input, e.At)
		in.conditions(def, e.At)
	case EventLinked:
		parent, _ := e.Data["parent"].(string)
		process, _ := e.Data["process"].(string)
		in.LinkParent(parent, process, e.At)
	case EventSubprocessStarted:
		child, _ := e.Data["id"].(string)
		in.Advance(def, e.At)
		in.CompleteStart(def, effectOf(e), child, "", e.At)
	case EventStepFailed:
		// Only a failed start is an outcome from outside; other failures are
		// derived.
		failure, _ := e.Data["error"].(string)
		if _, ok := e.Data["start"]; ok && e.Data["effect"] != nil {
			in.Advance(def, e.At)
			in.CompleteStart(def, effectOf(e), "", failure, e.At)
		}
		if e.Data["approvers"] == "directory" && e.Data["effect"] != nil {
			in.Advance(def, e.At)
			in.CompleteResolve(def, effectOf(e), nil, failure, e.At)
		}
		if _, ok := e.Data["notify"]; ok && e.Data["effect"] != nil {
			in.Advance(def, e.At)
			in.CompleteRecipients(effectOf(e), nil, failure, e.At)
		}
		if _, ok := e.Data["collect"]; ok && e.Data["effect"] != nil {
			in.Advance(def, e.At)
			in.CompleteCollect(def, effectOf(e), nil, failure, e.At)
		}
		if _, ok := e.Data["rule"]; ok && e.Data["effect"] != nil {
			in.Advance(def, e.At)
			in.CompleteCount(def, effectOf(e), nil, failure, e.At)
		}
	case EventWebhookCalled:
		status, _ := toFloat(e.Data["status"])
		in.Advance(def, e.At)
		in.CompleteWebhook(def, effectOf(e), &WebhookResponse{Status: int(status), Body: e.Data["body"]}, "", e.At)
	case EventWebhookFailed:
		failure, _ := e.Data["error"].(string)
		in.Advance(def, e.At)
		in.CompleteWebhook(def, effectOf(e), nil, failure, e.At)
	case EventApproversResolved:
		// Resolved through the directory: an outcome from outside. Resolved
		// from expressions alone, it is derived.
		if e.Data["effect"] != nil {
			var people []string
			_ = remarshal(e.Data["approvers"], &people)
			in.Advance(def, e.At)
			in.CompleteResolve(def, effectOf(e), people, "", e.At)
		}
	case EventRecipientsResolved:
		// The members of a notify step's groups, from the directory.
		var people []string
		_ = remarshal(e.Data["recipients"], &people)
		in.Advance(def, e.At)
		in.CompleteRecipients(effectOf(e), people, "", e.At)
	case EventAgendaCollected:
		var items []AgendaItem
		if err := remarshal(e.Data["items"], &items); err != nil {
			return fmt.Errorf("agenda_collected %d: %w", e.Seq, err)
		}
		in.Advance(def, e.At)
		in.CompleteCollect(def, effectOf(e), items, "", e.At)
	case EventRuleEvaluated:
		// What a rule counted came from the database: an outcome from outside.
		var ids []string
		if err := remarshal(e.Data["processes"], &ids); err != nil {
			return fmt.Errorf("rule_evaluated %d: %w", e.Seq, err)
		}
		in.Advance(def, e.At)
		in.CompleteCount(def, effectOf(e), ids, "", e.At)
	case EventDecisionReleased, EventReleaseRefused:
		failure, _ := e.Data["error"].(string)
		in.Advance(def, e.At)
		in.CompleteRelease(effectOf(e), failure, e.At)
	case EventApprovalDecided:
		// Only a board's decision, released by its meeting, comes from outside.
		if rel, ok := recordedRelease(in, e); ok {
			in.Advance(def, e.At)
			rel.State = in.State
			return in.Release(def, rel, e.At)
		}
	case EventSubprocessEnded:
		child, _ := e.Data["id"].(string)
		state, _ := e.Data["state"].(string)
		in.Advance(def, e.At)
		in.ChildEnded(def, child, state, e.At)
	}
	return nil
}

// RecordedRequest rebuilds the request of a recorded action event: who took it,
// for whom (a delegated vote), on which agenda item, with what input and comment.
func RecordedRequest(e Event) ActionRequest {
	vals, _ := e.Data["input"].(map[string]any)
	req := ActionRequest{Action: e.Action, Actor: Actor{ID: e.Actor}, Input: vals, Comment: e.Comment, RequestID: e.RequestID, Recorded: true}
	if who, ok := e.Data["on_behalf_of"].(string); ok {
		req.OnBehalfOf = &Actor{ID: who}
	}
	if item, ok := e.Data["item"].(string); ok {
		req.Item = item
	}
	return req
}

// effectOf is the effect id an outcome event names.
func effectOf(e Event) int64 {
	id, _ := toFloat(e.Data["effect"])
	return int64(id)
}
