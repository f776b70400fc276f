package engine

import (
	"fmt"
	"slices"
	"sort"
)

// Separation of duties between actions: an action's not_by names actions
// whose takers may not take it ("whoever recorded the customer's confirmation
// may not begin the change"). Besides action names, NotByStart is whoever
// started the process and NotByVote anyone who voted in it.
const (
	NotByStart = "start"
	NotByVote  = "vote"
)

// dutyNames returns the names some action's not_by lists: only their takers
// are recorded, so processes of definitions without not_by keep no record.
func (d *Definition) dutyNames() map[string]bool {
	out := map[string]bool{}
	for _, st := range d.States {
		for _, a := range st.Actions {
			for _, n := range a.NotBy {
				out[n] = true
			}
		}
	}
	return out
}

// recordTaker remembers who took a, when some not_by names it (or names
// votes and a is one): the person acting and the one a delegated vote is for.
func (in *Instance) recordTaker(def *Definition, a *Action, req ActionRequest) {
	names := def.dutyNames()
	people := []string{req.Actor.ID}
	if req.OnBehalfOf != nil && req.OnBehalfOf.ID != req.Actor.ID {
		people = append(people, req.OnBehalfOf.ID)
	}
	for _, name := range []string{a.Name, NotByVote} {
		if !names[name] || (name == NotByVote && a.Kind != KindVote) {
			continue
		}
		if in.TakenBy == nil {
			in.TakenBy = map[string][]string{}
		}
		for _, p := range people {
			if !slices.Contains(in.TakenBy[name], p) {
				in.TakenBy[name] = append(in.TakenBy[name], p)
				sort.Strings(in.TakenBy[name])
			}
		}
	}
}

// tookPart returns the first of notBy that person took in the process.
func (p Parties) tookPart(notBy []string, person string) (string, bool) {
	for _, n := range notBy {
		if n == NotByStart && p.StartedBy == person || slices.Contains(p.TakenBy[n], person) {
			return n, true
		}
	}
	return "", false
}

// checkDuties refuses a to whoever took one of the actions its not_by names.
func checkDuties(a *Action, req ActionRequest, p Parties) error {
	for _, person := range []*Actor{&req.Actor, req.OnBehalfOf} {
		if person == nil {
			continue
		}
		if n, took := p.tookPart(a.NotBy, person.ID); took {
			what := fmt.Sprintf("took %q", n)
			switch n {
			case NotByStart:
				what = "started it"
			case NotByVote:
				what = "voted in it"
			}
			return &Error{Code: EFORBIDDEN, Op: "engine.Check", Message: fmt.Sprintf(
				"separation of duties: %s %s in this process, so may not take %q (not_by: %v)", person.ID, what, a.Name, a.NotBy)}
		}
	}
	return nil
}

// checkNotBy requires every not_by entry to name an action of the definition,
// start or vote.
func (p *parser) checkNotBy(def *Definition) {
	var names []string
	for _, st := range def.States {
		for _, a := range st.Actions {
			if !slices.Contains(names, a.Name) {
				names = append(names, a.Name)
			}
		}
	}
	known := append([]string{NotByStart, NotByVote}, names...)
	for _, st := range def.States {
		for _, a := range st.Actions {
			for i, n := range a.NotBy {
				if !slices.Contains(known, n) {
					path := fmt.Sprintf("states.%s.actions.%s.not_by[%d]", st.Name, a.Name, i)
					p.errorf(p.at(path), path, "%s", Unknown("action", n, known))
				}
			}
		}
	}
}
