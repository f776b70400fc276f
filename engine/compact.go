package engine

import "encoding/json"

// A process's view holds what grows with every vote: the votes themselves
// (each with its comment) and, at a meeting, every agenda item with its tally
// and the agenda list among the variables.
// Sent whole after each change, a meeting of 200 changes would write the same
// votes hundreds of times into its workflow history. So the workflow sends a
// compact view — no votes, only the agenda items and variables that changed — with
// the events that are new, and the store merges it into the view it holds:
// the votes are in the vote events, the items and variables in the view
// already stored (variables are set, never removed).
// MergeView(…, CompactView(full, …), …) is the full view again.

// ViewPatch says how a compact view merges into the stored one.
type ViewPatch struct {
	// Opened is the number of the last event before the process entered its
	// current state (Instance.EnteredSeq): votes and items of an approval
	// opened at another event are not this approval's.
	Opened int64 `json:"opened"`
}

// Compactor keeps, for the workflow, what the store holds of the current
// approval's agenda, so each projection carries only what changed. It lives
// in workflow memory and is rebuilt the same way on replay.
type Compactor struct {
	opened int64
	sent   []ItemView
	// vars are the variables the store holds, each as JSON.
	vars map[string]string
}

// Compact returns the compact view of v for a projection of instance in, and
// the patch the store merges it with. Once the projection is stored, call
// Stored with the view it returned.
func (c *Compactor) Compact(in *Instance, v View, events []Event) (View, ViewPatch) {
	sent := c.sent
	if c.opened != in.EnteredSeq || newAgenda(events) {
		sent = nil // a new approval, or a new agenda: every item goes
	}
	v = CompactView(v, sent)
	v.Vars = changedVars(v.Vars, c.vars)
	return v, ViewPatch{Opened: in.EnteredSeq}
}

// changedVars returns the variables of vars that stored does not hold as
// they are, or nil.
func changedVars(vars map[string]any, stored map[string]string) map[string]any {
	var out map[string]any
	for _, k := range sortedKeys(vars) {
		if b, err := json.Marshal(vars[k]); err == nil && stored[k] == string(b) {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		out[k] = vars[k]
	}
	return out
}

// newAgenda reports whether events collected a new agenda, which replaces the
// items of the approval whole.
func newAgenda(events []Event) bool {
	for _, e := range events {
		if e.Type == EventAgendaCollected {
			return true
		}
	}
	return false
}

// Stored records that a compact view made by Compact (with its patch and
// events) is in the store.
func (c *Compactor) Stored(v View, p ViewPatch, events []Event) {
	if c.opened != p.Opened || newAgenda(events) {
		c.opened, c.sent = p.Opened, nil
	}
	for _, k := range sortedKeys(v.Vars) {
		if b, err := json.Marshal(v.Vars[k]); err == nil {
			if c.vars == nil {
				c.vars = map[string]string{}
			}
			c.vars[k] = string(b)
		}
	}
	if v.Approval == nil {
		return
	}
	for _, it := range v.Approval.Items {
		if i := itemIndex(c.sent, it.ID); i >= 0 {
			c.sent[i] = it
		} else {
			c.sent = append(c.sent, it)
		}
	}
}

// CompactView returns v without the approval's votes and with only the agenda
// items that are not in sent as they are now.
func CompactView(v View, sent []ItemView) View {
	if v.Approval == nil {
		return v
	}
	a := *v.Approval
	a.Votes = nil
	var changed []ItemView
	for _, it := range a.Items {
		if i := itemIndex(sent, it.ID); i < 0 || !sameItem(sent[i], it) {
			changed = append(changed, it)
		}
	}
	a.Items = changed
	v.Approval = &a
	return v
}

func itemIndex(items []ItemView, id string) int {
	for i := range items {
		if items[i].ID == id {
			return i
		}
	}
	return -1
}

// MergeView merges a compact view into prev, the full view stored after its
// events (nil when none is), which was in the approval opened at prevOpened.
// events are the events after prev's; the votes among them that were cast in
// the current approval are its new votes.
func MergeView(prev *View, prevOpened int64, compact View, patch ViewPatch, events []Event) View {
	out := compact
	if prev != nil && len(prev.Vars) > 0 {
		out.Vars = make(map[string]any, len(prev.Vars)+len(compact.Vars))
		for k, v := range prev.Vars {
			out.Vars[k] = v
		}
		for k, v := range compact.Vars {
			out.Vars[k] = v
		}
	}
	if compact.Approval == nil {
		return out
	}
	a := *compact.Approval
	var votes []Vote
	var items []ItemView
	if prev != nil && prev.Approval != nil && prevOpened == patch.Opened && prev.State == compact.State {
		votes = append(votes, prev.Approval.Votes...)
		if !newAgenda(events) {
			items = append(items, prev.Approval.Items...)
		}
	}
	votes = append(votes, VotesSince(events, patch.Opened, compact.State)...)
	for _, it := range compact.Approval.Items {
		if i := itemIndex(items, it.ID); i >= 0 {
			items[i] = it
		} else {
			items = append(items, it)
		}
	}
	if votes == nil {
		votes = []Vote{}
	}
	a.Votes, a.Items = votes, items
	out.Approval = &a
	return out
}

// VotesSince returns the votes cast in state among events, after the event
// opened (the approval's opening, ViewPatch.Opened), in order.
func VotesSince(events []Event, opened int64, state string) []Vote {
	var out []Vote
	for _, e := range events {
		if e.Seq > opened && e.From == state {
			if v, ok := VoteOf(e); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// VoteOf reads the vote an action event recorded, if it is one.
func VoteOf(e Event) (Vote, bool) {
	if e.Type != EventAction || (e.Action != ActionApprove && e.Action != ActionReject) || e.Data["tally"] == nil {
		return Vote{}, false
	}
	v := Vote{Actor: e.Actor, Decision: e.Action, Comment: e.Comment, At: e.At}
	if item, ok := e.Data["item"].(string); ok {
		v.Item = item
	}
	if whom, ok := e.Data["on_behalf_of"].(string); ok && whom != "" {
		v.Actor, v.By = whom, e.Actor
	}
	return v, true
}

// sameItem reports whether two views of an agenda item show the same.
func sameItem(a, b ItemView) bool {
	return a.ID == b.ID && a.Definition == b.Definition && a.State == b.State && a.Title == b.Title && a.StartedBy == b.StartedBy &&
		equalStrings(a.Excluded, b.Excluded) && sameTally(a.Tally, b.Tally)
}

func sameTally(a, b Tally) bool {
	return a.Approve == b.Approve && a.Reject == b.Reject && a.Electorate == b.Electorate && a.Needed == b.Needed &&
		a.Outcome == b.Outcome && equalStrings(a.Missing, b.Missing)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
