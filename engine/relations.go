package engine

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Relations name people by their part in one process rather than by a role
// they hold everywhere: "the person who opened this incident may reopen it"
// is `roles: [$started_by]`, where `roles: [requester]` would let every
// requester reopen everyone's incidents. A relation stands in a roles list
// beside roles and begins with '$', which no role name may.
const (
	// RelationStartedBy is the person who started the process.
	RelationStartedBy = "$started_by"
	// RelationAssignee is the person the process is assigned to (vars.assignee).
	RelationAssignee = "$assignee"
	// relationInput and relationVars prefix a field holding a user id, or a
	// list of them: $input.caller, $vars.watchers.
	relationInput = "$input."
	relationVars  = "$vars."
)

// CustomerRole is the role of the people a service desk serves. It never sees
// every process of a definition by default (see ViewerRoles): a customer sees
// the processes they started or are named on, through relations.
const CustomerRole = "requester"

// Parties are what relations look at: who started a process and the values
// of its input and variables.
type Parties struct {
	StartedBy string
	Input     map[string]any
	Vars      map[string]any
	// TakenBy holds who took the actions separation of duties names.
	TakenBy map[string][]string
}

// Parties returns the instance's parties.
func (in *Instance) Parties() Parties {
	return Parties{StartedBy: in.StartedBy, Input: in.Input, Vars: in.Vars, TakenBy: in.TakenBy}
}

// Parties returns the parties of the process the view shows.
func (v View) Parties() Parties {
	return Parties{StartedBy: v.StartedBy, Input: v.Input, Vars: v.Vars, TakenBy: v.TakenBy}
}

// IsRelation reports whether an entry of a roles list is a relation.
func IsRelation(s string) bool { return strings.HasPrefix(s, "$") }

// people returns the user ids a relation names in p: none when the field is
// empty or holds no user id.
func (p Parties) people(relation string) []string {
	var v any
	switch {
	case relation == RelationStartedBy:
		v = p.StartedBy
	case relation == RelationAssignee:
		v = p.Vars[VarAssignee]
	case strings.HasPrefix(relation, relationInput):
		v = p.Input[strings.TrimPrefix(relation, relationInput)]
	case strings.HasPrefix(relation, relationVars):
		v = p.Vars[strings.TrimPrefix(relation, relationVars)]
	}
	return userIDs(v)
}

// permits reports whether actor may do what a roles list guards: any holder of
// one of its roles, or anyone a relation names. An empty list permits everyone.
func permits(roles []string, actor Actor, p Parties) bool {
	if len(roles) == 0 {
		return true
	}
	for _, r := range roles {
		if IsRelation(r) {
			if slices.Contains(p.people(r), actor.ID) {
				return true
			}
		} else if slices.Contains(actor.Roles, r) {
			return true
		}
	}
	return false
}

// describeRoles says in words who a roles list lets act, for refusals.
func describeRoles(roles []string, p Parties) string {
	var named, rels []string
	for _, r := range roles {
		if !IsRelation(r) {
			named = append(named, r)
			continue
		}
		who := strings.Join(p.people(r), ", ")
		if who == "" {
			who = "nobody yet"
		}
		rels = append(rels, fmt.Sprintf("%s (%s)", relationText(r), who))
	}
	var parts []string
	if len(named) > 0 {
		parts = append(parts, "one of the roles "+strings.Join(named, ", "))
	}
	parts = append(parts, rels...)
	return strings.Join(parts, ", or ")
}

func relationText(r string) string {
	switch {
	case r == RelationStartedBy:
		return "the person who started the process"
	case r == RelationAssignee:
		return "the assignee"
	case strings.HasPrefix(r, relationInput):
		return "the person in input." + strings.TrimPrefix(r, relationInput)
	}
	return "the person in vars." + strings.TrimPrefix(r, relationVars)
}

// Visibility says who sees every process of a definition, besides the people
// each process names (see Participants).
type Visibility struct {
	// Roles see every process of the definition. nil means the default (see
	// ViewerRoles); empty means no role does, only the people it names.
	Roles []string `json:"roles"`
	// People are relations naming more people who see the process: a
	// watchers list, a caller field of another type.
	People []string `json:"people,omitempty"`
}

// ViewerRoles returns the roles that see every process of the definition: the
// visibility section's roles, or by default the staff roles the definition
// names — in actions, tasks, approvals, break-glass, notifications and
// reassignments — never the customer role nor a relation.
func (d *Definition) ViewerRoles() []string {
	if d.Visibility != nil && d.Visibility.Roles != nil {
		return sortedSet(d.Visibility.Roles)
	}
	var out []string
	add := func(roles ...string) {
		for _, r := range roles {
			if r != "" && r != CustomerRole && !IsRelation(r) {
				out = append(out, r)
			}
		}
	}
	for _, st := range d.States {
		for _, a := range st.Actions {
			add(a.Roles...)
		}
		if a := st.Approval; a != nil {
			add(a.Roles...)
			if a.BreakGlass != nil {
				add(a.BreakGlass.Roles...)
			}
		}
	}
	for _, s := range d.steps() {
		if n := s.step.Notify; n != nil {
			if _, expr := isExpr(n.Role); !expr {
				add(n.Role)
			}
		}
		if r := s.step.Reassign; r != nil {
			if _, expr := isExpr(r.Group); !expr {
				add(r.Group)
			}
		}
	}
	return sortedSet(out)
}

// Participants returns the people a process names, who see it whatever their
// roles: who started it, everyone who acted on it (and for whom), the people
// in its user fields and relations, its approvers and electorate, and the
// users notified about it. events are the events to take into account (the
// projection adds each batch to the people it already holds).
func (d *Definition) Participants(v View, events []Event) []string {
	out := []string{v.StartedBy}
	p := v.Parties()
	for _, f := range d.Input {
		if f.Type == TypeUser {
			out = append(out, userIDs(v.Input[f.Name])...)
		}
	}
	// varFields, not the cached copy: the store shares decoded definitions
	// between goroutines, and the cache is made on first use.
	for _, f := range d.varFields() {
		if f.Type == TypeUser {
			out = append(out, userIDs(v.Vars[f.Name])...)
		}
	}
	for _, r := range d.relations() {
		out = append(out, p.people(r)...)
	}
	if st := d.State(v.State); st != nil && st.Approval != nil {
		out = append(out, st.Approval.named()...)
	}
	if a := v.Approval; a != nil {
		out = append(out, a.Electorate...)
	}
	for _, e := range events {
		out = append(out, e.Actor)
		for _, key := range []string{"on_behalf_of", "by", "user"} {
			if s, ok := e.Data[key].(string); ok {
				out = append(out, s)
			}
		}
		if votes, ok := e.Data["votes"].([]any); ok { // a board's decision released to the change
			for _, vote := range votes {
				if m, ok := vote.(map[string]any); ok {
					out = append(out, userIDs(m["actor"])...)
					out = append(out, userIDs(m["by"])...)
				}
			}
		}
	}
	out = slices.DeleteFunc(out, func(s string) bool { return s == "" || s == System.ID })
	return sortedSet(out)
}

// relations returns every relation the definition names, in roles lists and
// its visibility section.
func (d *Definition) relations() []string {
	var out []string
	add := func(roles []string) {
		for _, r := range roles {
			if IsRelation(r) {
				out = append(out, r)
			}
		}
	}
	for _, st := range d.States {
		for _, a := range st.Actions {
			add(a.Roles)
		}
	}
	if d.Visibility != nil {
		add(d.Visibility.People)
	}
	return sortedSet(out)
}

func sortedSet(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return slices.Compact(out)
}
