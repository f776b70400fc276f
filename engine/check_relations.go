package engine

import (
	"fmt"
	"strings"
)

// checkRelations validates every relation ($started_by, $assignee,
// $input.f, $vars.f) where the definition names people: action and task roles
// and the visibility section. A relation must name a field that can hold a
// user id; approvers and break-glass take roles only (approvers by field are
// written as users: ["= input.f"]).
func (p *parser) checkRelations(def *Definition) {
	vars := def.varFields()
	for _, st := range def.States {
		path := join("states", st.Name)
		for _, a := range st.Actions {
			switch a.Kind {
			case KindVote, KindBreakGlass:
				continue // their roles are the approval's, checked below
			case KindTask:
				p.checkRoleList(def, vars, a.Roles, fmt.Sprintf("%s.parallel.tasks.%s.roles", path, a.Name), true)
			default:
				p.checkRoleList(def, vars, a.Roles, path+".actions."+a.Name+".roles", true)
			}
		}
		if ap := st.Approval; ap != nil {
			p.checkRoleList(def, vars, ap.Roles, path+".approval.approvers.roles", false)
			if ap.BreakGlass != nil {
				p.checkRoleList(def, vars, ap.BreakGlass.Roles, path+".approval.break_glass.roles", false)
			}
		}
	}
	if v := def.Visibility; v != nil {
		p.checkRoleList(def, vars, v.Roles, "visibility.roles", false)
		for i, r := range v.People {
			sub := fmt.Sprintf("visibility.people[%d]", i)
			if !IsRelation(r) {
				p.errorf(p.at(sub), sub, "%q is not a relation: people are named by relations such as $vars.watchers or $input.caller (roles go under visibility.roles)", r)
				continue
			}
			p.checkRelation(def, vars, r, sub)
		}
	}
}

// checkRoleList checks the entries of a roles list; relations are allowed
// where people act on their own process.
func (p *parser) checkRoleList(def *Definition, vars []Field, roles []string, path string, relations bool) {
	for i, r := range roles {
		sub := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case !IsRelation(r):
		case !relations:
			p.errorf(p.at(sub), sub, "%q is a relation, which is not allowed here: list roles (approvers named by a field are written users: [\"= input.field\"])", r)
		default:
			p.checkRelation(def, vars, r, sub)
		}
	}
}

// checkRelation requires that a relation is one of the known forms and names
// a field of a type that holds user ids.
func (p *parser) checkRelation(def *Definition, vars []Field, r, path string) {
	var fields []Field
	var name, where string
	switch {
	case r == RelationStartedBy, r == RelationAssignee:
		return
	case strings.HasPrefix(r, relationInput):
		fields, name, where = def.Input, strings.TrimPrefix(r, relationInput), "input field"
	case strings.HasPrefix(r, relationVars):
		fields, name, where = vars, strings.TrimPrefix(r, relationVars), "variable"
	default:
		p.errorf(p.at(path), path, "unknown relation %q (relations: %s, %s, $input.FIELD, $vars.VARIABLE)", r, RelationStartedBy, RelationAssignee)
		return
	}
	f := fieldOf(fields, name)
	if f == nil {
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = f.Name
		}
		p.errorf(p.at(path), path, "relation %q: %s", r, Unknown(where, name, names))
		return
	}
	switch f.Type {
	case TypeUser, TypeString, TypeList, typeAny:
	default:
		p.errorf(p.at(path), path, "relation %q names %s %q of type %s, which cannot hold a user id (use type user)", r, where, name, f.Type)
	}
}
