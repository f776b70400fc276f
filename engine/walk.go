package engine

import "fmt"

// stepAt is a step of a definition with the path where it stands.
type stepAt struct {
	path string
	step Step
}

// steps returns every step of the definition in document order: state entries,
// actions, reminders, approval escalations and SLA escalations.
func (d *Definition) steps() []stepAt {
	var out []stepAt
	add := func(path string, steps []Step) {
		for i, s := range steps {
			out = append(out, stepAt{path: fmt.Sprintf("%s[%d]", path, i), step: s})
		}
	}
	for _, st := range d.States {
		path := join("states", st.Name)
		add(path+".on_enter", st.OnEnter)
		for _, a := range st.Actions {
			if a.Kind == KindBreakGlass {
				// Written under the approval: problems point there.
				add(path+".approval.break_glass.do", a.Do)
				continue
			}
			add(path+".actions."+a.Name+".do", a.Do)
		}
		for i, r := range st.Reminders {
			add(fmt.Sprintf("%s.reminders[%d].do", path, i), r.Do)
		}
		if st.Approval != nil {
			add(path+".approval.escalate", st.Approval.Escalate)
		}
	}
	for i, e := range d.Escalations {
		add(fmt.Sprintf("escalations[%d].do", i), e.Do)
	}
	for _, r := range d.Rules {
		add(join("rules", r.Name)+".do", r.Do)
	}
	return out
}

// assignedFields returns the fields of variables that set steps and webhook
// results assign without a declaration, typed by the first literal assigned
// (an expression gives no type: any).
func (d *Definition) assignedFields(declared map[string]bool) []Field {
	var out []Field
	note := func(a Assignment) {
		if declared[a.Name] {
			return
		}
		declared[a.Name] = true
		t := typeAny
		if a.Expr == "" {
			t = literalType(a.Value)
		}
		out = append(out, Field{Name: a.Name, Type: t})
	}
	for _, s := range d.steps() {
		for _, a := range s.step.Set {
			note(a)
		}
		if w := s.step.Webhook; w != nil {
			for _, a := range w.Result {
				note(a)
			}
		}
	}
	return out
}

// literalType is the field type of a literal value in YAML.
func literalType(v any) string {
	switch x := v.(type) {
	case bool:
		return TypeBool
	case int, int64:
		return TypeInt
	case float64:
		if x == float64(int64(x)) {
			return TypeInt
		}
		return TypeNumber
	case []any:
		return TypeList
	case string:
		return TypeString
	}
	return typeAny
}
