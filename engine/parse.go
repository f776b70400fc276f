package engine

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Parse reads a process definition from YAML, validates it and returns it compiled.
// When anything is wrong it returns an *Error of code EINVALID whose Details list
// every problem found, each with line, column and path, in document order. Only
// the built-in 24x7 calendar is known; ParseWith takes the business calendars.
func Parse(src []byte) (*Definition, error) { return ParseWith(src, nil) }

// ParseWith is Parse with business calendars the definition may name; the one it
// names is copied into the compiled definition.
func ParseWith(src []byte, calendars Calendars) (*Definition, error) {
	return Compile(src, Env{Calendars: calendars})
}

// Env is what a definition may refer to outside itself.
type Env struct {
	Calendars Calendars
	// Processes are the names of the definitions that start steps may start;
	// nil leaves those references unchecked (the set is not known).
	Processes []string
}

// Compile is Parse in an environment of calendars and other processes.
func Compile(src []byte, env Env) (*Definition, error) {
	const op = "engine.Parse"
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, &Error{Code: EINVALID, Op: op, Message: "definition is not valid YAML", Details: yamlErrorDetails(src, err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &Error{Code: EINVALID, Op: op, Message: "definition is empty", Details: []Detail{{Line: 1, Column: 1, Message: "expected a mapping with name, states, …"}}}
	}
	resolveAliases(&doc, map[*yaml.Node]bool{})
	if n := expandedSize(&doc, map[*yaml.Node]int{}); n > maxExpandedNodes {
		return nil, &Error{Code: EINVALID, Op: op, Message: "definition is too large once its aliases are expanded",
			Details: []Detail{{Line: 1, Column: 1, Message: fmt.Sprintf("its aliases expand it to %d YAML nodes; at most %d are read", n, maxExpandedNodes)}}}
	}
	p := &parser{calendars: env.Calendars, processes: env.Processes, days: workingDaysOf(Calendar24x7, nil)}
	def := p.definition(doc.Content[0])
	def.Level = CurrentLevel
	def.exprs() // before the definition is shared; see exprs
	p.check(def)
	if len(p.problems) > 0 {
		p.sortProblems()
		return nil, &Error{Code: EINVALID, Op: op, Message: fmt.Sprintf("definition has %d problem(s)", len(p.problems)), Details: p.problems}
	}
	return def, nil
}

// resolveAliases replaces every alias in the tree by the node it names, so
// each list and mapping of the language takes an alias wherever it takes the
// thing itself (`reminders: *reminders`, `do: *notify_team`), not only where
// a parser function remembered to look through one. Nodes are shared, not
// copied, and each is walked once (done), so a document of nested aliases (a
// "billion laughs") costs no more than its text. An alias to a node that
// contains it stays an alias (it is refused where it stands), so the tree
// never becomes a cycle the parser would follow for ever.
func resolveAliases(n *yaml.Node, done map[*yaml.Node]bool) {
	resolveAliasesIn(n, done, map[*yaml.Node]bool{})
}

func resolveAliasesIn(n *yaml.Node, done, open map[*yaml.Node]bool) {
	if done[n] {
		return
	}
	open[n] = true
	for i, c := range n.Content {
		t := c
		for t.Kind == yaml.AliasNode && t.Alias != nil && !open[t.Alias] {
			t = t.Alias
		}
		if t.Kind == yaml.AliasNode {
			continue // names a node that contains it
		}
		n.Content[i] = t
		resolveAliasesIn(t, done, open)
	}
	delete(open, n)
	done[n] = true
}

// maxExpandedNodes bounds the nodes the parser walks once aliases are
// resolved: a few aliases of aliases (a "billion laughs") would otherwise make
// it walk billions, and a definition can be published through the API.
const maxExpandedNodes = 200_000

// expandedSize is the number of nodes the parser walks in n, aliases
// followed; sizes of shared nodes are counted once (memo) and capped, so
// computing it costs no more than the text.
func expandedSize(n *yaml.Node, memo map[*yaml.Node]int) int {
	if s, ok := memo[n]; ok {
		return s
	}
	memo[n] = 1 // an alias to a node that contains it counts once
	s := 1
	for _, c := range n.Content {
		s = min(s+expandedSize(c, memo), maxExpandedNodes+1)
	}
	memo[n] = s
	return s
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// yamlErrorDetail extracts the line yaml.v3 reports (it gives no column).
func yamlErrorDetail(err error) Detail {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	d := Detail{Line: 1, Column: 1, Message: msg}
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		d.Line, _ = strconv.Atoi(m[1])
	}
	return d
}

var nameRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// parser turns YAML nodes into a Definition, collecting problems instead of
// stopping at the first, so a process owner sees everything wrong at once.
type parser struct {
	problems  []Detail
	calendars Calendars
	processes []string
	// days is how durations count days in the definition's calendar.
	days workingDays
	// positions of named elements, for problems found after parsing
	pos map[string]*yaml.Node
	// expressions and literal assignments, type-checked once the whole
	// definition is known
	exprs    []exprRef
	literals []literalRef
}

// sortProblems puts the problems in document order.
func (p *parser) sortProblems() {
	sort.SliceStable(p.problems, func(i, j int) bool {
		a, b := p.problems[i], p.problems[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) {
	p.problems = append(p.problems, Detail{Field: path, Line: n.Line, Column: n.Column, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) remember(path string, n *yaml.Node) {
	if p.pos == nil {
		p.pos = map[string]*yaml.Node{}
	}
	p.pos[path] = n
}

func (p *parser) at(path string) *yaml.Node {
	if n, ok := p.pos[path]; ok {
		return n
	}
	return &yaml.Node{Line: 1, Column: 1}
}

type entry struct {
	key   string
	keyN  *yaml.Node
	value *yaml.Node
}

// mapping returns the entries of a mapping node in document order. known, when not
// nil, lists the keys allowed; others are reported with a suggestion. YAML merge
// keys (<<: *anchor) are honoured: merged entries come first and the mapping's own
// keys override them.
func (p *parser) mapping(n *yaml.Node, path string, known []string) []entry {
	// Aliases are resolved before parsing (resolveAliases); one left is an
	// alias to a node that contains it, refused here.
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "expected a mapping, got %s", kindName(n))
		return nil
	}
	var merged, out []entry
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		sub := join(path, key)
		if key == "<<" && k.Tag == "!!merge" {
			sources := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				sources = v.Content
			}
			for _, src := range sources {
				merged = append(merged, p.mapping(src, path, known)...)
			}
			continue
		}
		if seen[key] {
			p.errorf(k, sub, "duplicate key %q", key)
			continue
		}
		seen[key] = true
		if known != nil && !contains(known, key) {
			msg := fmt.Sprintf("unknown key %q", key)
			if s := suggest(key, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			p.errorf(k, sub, "%s", msg)
			continue
		}
		out = append(out, entry{key: key, keyN: k, value: v})
	}
	for _, e := range merged {
		if !seen[e.key] {
			seen[e.key] = true
			out = append(out, e)
		}
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func (p *parser) str(n *yaml.Node, path string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, path, "expected a string, got %s", kindName(n))
		return ""
	}
	return n.Value
}

func (p *parser) ident(n *yaml.Node, path string) string {
	s := p.str(n, path)
	if s != "" && !nameRe.MatchString(s) {
		p.errorf(n, path, "%q is not a valid name: use lower-case letters, digits, '-' and '_', starting with a letter", s)
	}
	return s
}

func (p *parser) boolean(n *yaml.Node, path string) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		p.errorf(n, path, "expected true or false, got %s", kindName(n))
	}
	return b
}

func (p *parser) integer(n *yaml.Node, path string) int {
	var i int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil {
		p.errorf(n, path, "expected a whole number, got %s", kindName(n))
	}
	return i
}

func (p *parser) duration(n *yaml.Node, path string) Duration {
	s := p.str(n, path)
	if s == "" {
		return 0
	}
	d, err := p.days.parse(s)
	if err != nil {
		p.errorf(n, path, "%v", err)
	}
	return d
}

func (p *parser) strings(n *yaml.Node, path string) []string {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, path, "expected a list, got %s", kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		sub := fmt.Sprintf("%s[%d]", path, i)
		p.remember(sub, c)
		out = append(out, p.str(c, sub))
	}
	return out
}

// names reads a list of literal names (roles, groups, user ids) where no
// expression is evaluated: one written as an expression would otherwise be
// taken for a name (a role literally called "= vars.team"), so it is refused.
func (p *parser) names(n *yaml.Node, path string) []string {
	out := p.strings(n, path)
	for i, s := range out {
		if n.Kind == yaml.SequenceNode && i < len(n.Content) {
			p.literal(n.Content[i], fmt.Sprintf("%s[%d]", path, i), s)
		}
	}
	return out
}

// literal refuses an expression where a literal name is expected.
func (p *parser) literal(n *yaml.Node, path, s string) {
	if _, ok := isExpr(s); ok {
		p.errorf(n, path, "expected a name, got the expression %q: only a literal is taken here (it would be used as the name itself)", s)
	}
}

func (p *parser) value(n *yaml.Node, path string) any {
	var v any
	if err := n.Decode(&v); err != nil {
		p.errorf(n, path, "%v", err)
	}
	return v
}

func (p *parser) definition(n *yaml.Node) *Definition {
	def := &Definition{Calendar: Calendar24x7}
	entries := p.mapping(n, "", keysDefinition)
	// Durations anywhere in the definition count days in its calendar, which
	// may be named after them.
	for _, e := range entries {
		if spec := p.calendars.find(e.value.Value); e.key == "calendar" && spec != nil {
			p.days = workingDaysOf(spec.Name, spec)
		}
	}
	seen := map[string]bool{}
	for _, e := range entries {
		seen[e.key] = true
		p.remember(e.key, e.value)
		switch e.key {
		case "name":
			def.Name = p.ident(e.value, e.key)
		case "title":
			def.Title = p.str(e.value, e.key)
		case "calendar":
			def.Calendar = p.str(e.value, e.key)
		case "input":
			def.Input = p.fields(e.value, e.key)
		case "variables":
			def.Variables = p.fields(e.value, e.key)
			for _, f := range def.Variables {
				if f.Required {
					p.errorf(p.at(join(e.key, f.Name)), join(e.key, f.Name+".required"), "a variable cannot be required: it has no value until a step sets it (give it a default)")
				}
			}
		case "initial":
			def.Initial = p.str(e.value, e.key)
		case "states":
			for _, s := range p.mapping(e.value, e.key, nil) {
				def.States = append(def.States, p.state(s))
			}
		case "slas":
			for _, s := range p.mapping(e.value, e.key, nil) {
				def.SLAs = append(def.SLAs, p.sla(s))
			}
		case "rules":
			for _, r := range p.mapping(e.value, e.key, nil) {
				def.Rules = append(def.Rules, p.rule(r))
			}
		case "escalations":
			def.Escalations = p.escalations(e.value, e.key)
		case "visibility":
			def.Visibility = p.visibility(e.value, e.key)
		case "labels":
			def.Labels = p.labels(e.value, e.key)
		}
	}
	for _, required := range []string{"name", "initial", "states"} {
		if !seen[required] && n.Kind == yaml.MappingNode {
			p.errorf(n, required, "%s is required", required)
		}
	}
	return def
}

func (p *parser) fields(n *yaml.Node, path string) []Field {
	var out []Field
	for _, e := range p.mapping(n, path, nil) {
		out = append(out, p.field(e, join(path, e.key)))
	}
	return out
}

func (p *parser) field(e entry, path string) Field {
	f := Field{Name: p.ident(e.keyN, path), Type: TypeString}
	p.remember(path, e.keyN)
	var defaultN *yaml.Node
	for _, fe := range p.mapping(e.value, path, keysField) {
		sub := join(path, fe.key)
		switch fe.key {
		case "type":
			f.Type = p.str(fe.value, sub)
			if f.Type != "" && !contains(fieldTypes, f.Type) {
				msg := fmt.Sprintf("unknown type %q (types: %s)", f.Type, strings.Join(fieldTypes, ", "))
				if s := suggest(f.Type, fieldTypes); s != "" {
					msg = fmt.Sprintf("unknown type %q (did you mean %q?)", f.Type, s)
				}
				p.errorf(fe.value, sub, "%s", msg)
			}
		case "required":
			f.Required = p.boolean(fe.value, sub)
		case "default":
			defaultN = fe.value
			f.Default = p.value(fe.value, sub)
		case "maxLength":
			f.MaxLength = p.integer(fe.value, sub)
			if f.MaxLength <= 0 {
				p.errorf(fe.value, sub, "maxLength must be greater than zero")
			}
		case "values":
			f.Values = p.strings(fe.value, sub)
		case "states":
			f.States = p.strings(fe.value, sub)
			for i, st := range f.States {
				if !nameRe.MatchString(st) {
					p.errorf(fe.value, fmt.Sprintf("%s[%d]", sub, i), "%q is not a state name", st)
				}
			}
		}
	}
	switch {
	case f.Type == TypeEnum && len(f.Values) == 0:
		p.errorf(e.keyN, path, "an enum needs values")
	case f.Type != TypeEnum && f.Type != TypeList && len(f.Values) > 0:
		p.errorf(e.keyN, join(path, "values"), "values apply only to types enum and list")
	case f.MaxLength > 0 && f.Type != TypeString && f.Type != TypeText:
		p.errorf(e.keyN, join(path, "maxLength"), "maxLength applies only to string and text")
	case len(f.States) > 0 && f.Type != TypeKnowledge:
		p.errorf(e.keyN, join(path, "states"), "states apply only to type knowledge (the states the article must be in)")
	}
	if defaultN != nil && f.Default != nil {
		if _, d := f.check(path, f.Default); d != nil {
			p.errorf(defaultN, join(path, "default"), "default %s", d.Message)
		}
	}
	return f
}

func (p *parser) state(e entry) State {
	path := join("states", e.key)
	st := State{Name: p.ident(e.keyN, path)}
	p.remember(path, e.keyN)
	for _, se := range p.mapping(e.value, path, keysState) {
		sub := join(path, se.key)
		switch se.key {
		case "final":
			st.Final = p.boolean(se.value, sub)
		case "on_enter":
			st.OnEnter = p.steps(se.value, sub)
		case "actions":
			for _, ae := range p.mapping(se.value, sub, nil) {
				st.Actions = append(st.Actions, p.action(ae, join(sub, ae.key)))
			}
		case "timers":
			if se.value.Kind != yaml.SequenceNode {
				p.errorf(se.value, sub, "expected a list of timers, got %s", kindName(se.value))
				continue
			}
			for i, tn := range se.value.Content {
				st.Timers = append(st.Timers, p.timer(tn, fmt.Sprintf("%s[%d]", sub, i)))
			}
		case "reminders":
			if se.value.Kind != yaml.SequenceNode {
				p.errorf(se.value, sub, "expected a list of reminders, got %s", kindName(se.value))
				continue
			}
			for i, rn := range se.value.Content {
				st.Reminders = append(st.Reminders, p.reminder(rn, fmt.Sprintf("%s[%d]", sub, i)))
			}
		case "approval":
			st.Approval = p.approval(se.value, sub)
		case "parallel":
			st.Parallel = p.parallel(se.value, sub)
		}
	}
	p.implicitActions(&st, path)
	return st
}

// implicitActions gives a state the actions of its approval (approve, reject)
// and of its parallel tasks (one per task), so roles, input, the API and the
// graph treat them like any other action.
func (p *parser) implicitActions(st *State, path string) {
	add := func(a Action, what string) {
		if st.Action(a.Name) != nil {
			p.errorf(p.at(path), join(path, "actions."+a.Name), "action %q clashes with the %s of the same name", a.Name, what)
			return
		}
		st.Actions = append(st.Actions, a)
	}
	if a := st.Approval; a != nil {
		for _, v := range approvalVotes {
			add(Action{Name: v, To: st.Name, Roles: a.Roles, Kind: KindVote}, "vote of the approval")
		}
		if bg := a.BreakGlass; bg != nil {
			to := bg.To
			if to == "" {
				to = a.Approved
			}
			add(Action{Name: ActionBreakGlass, To: to, Roles: bg.Roles, Do: bg.Do, Kind: KindBreakGlass,
				Input: []Field{{Name: "reason", Type: TypeText, Required: true, MaxLength: 2000}}}, "break-glass of the approval")
		}
	}
	if par := st.Parallel; par != nil {
		for _, t := range par.Tasks {
			add(Action{Name: t.Name, To: st.Name, Roles: t.Roles, Input: t.Input, Kind: KindTask}, "parallel task")
		}
	}
}

func (p *parser) action(e entry, path string) Action {
	a := Action{Name: p.ident(e.keyN, path)}
	p.remember(path, e.keyN)
	for _, ae := range p.mapping(e.value, path, keysAction) {
		sub := join(path, ae.key)
		p.remember(sub, ae.value)
		switch ae.key {
		case "to":
			a.To = p.str(ae.value, sub)
		case "roles":
			a.Roles = p.names(ae.value, sub)
		case "input":
			a.Input = p.fields(ae.value, sub)
		case "when":
			a.When = p.expr(ae.value, sub, scopeActionPrefix+path, wantBool)
		case "do":
			a.Do = p.steps(ae.value, sub)
		case "not_by":
			a.NotBy = p.strings(ae.value, sub)
			for i, n := range ae.value.Content {
				p.remember(fmt.Sprintf("%s[%d]", sub, i), n)
			}
		case "window":
			a.Window = &Window{}
			for _, we := range p.mapping(ae.value, sub, keysWindow) {
				p.remember(join(sub, we.key), we.value)
				switch we.key {
				case "start":
					a.Window.Start = p.str(we.value, join(sub, we.key))
				case "end":
					a.Window.End = p.str(we.value, join(sub, we.key))
				case "ci":
					a.Window.CI = p.str(we.value, join(sub, we.key))
				}
			}
		}
	}
	if w := a.Window; w != nil {
		for _, name := range []string{w.Start, w.End} {
			if f := fieldOf(a.Input, name); f == nil || f.Type != TypeDatetime || !f.Required {
				p.errorf(e.keyN, join(path, "window"), "window needs start and end naming required datetime input fields of the action; %q is not one", name)
			}
		}
	}
	if a.To == "" {
		p.errorf(e.keyN, join(path, "to"), "an action needs a target state (to)")
	}
	return a
}

func (p *parser) timer(n *yaml.Node, path string) Timer {
	var t Timer
	p.remember(path, n)
	entries := p.mapping(n, path, keysTimer)
	keys := map[string]bool{}
	for _, te := range entries {
		keys[te.key] = true
	}
	switch {
	case n.Kind != yaml.MappingNode:
	case keys["after"] && keys["at"]:
		p.errorf(n, path, "a timer has either after (a duration) or at (an instant), not both")
	case !keys["action"] || !keys["after"] && !keys["at"]:
		p.errorf(n, path, "a timer needs after (or at) and action")
	}
	for _, te := range entries {
		sub := join(path, te.key)
		p.remember(sub, te.value)
		switch te.key {
		case "at":
			t.At = p.deadline(te.value, sub)
		case "after":
			t.After = p.duration(te.value, sub)
		case "action":
			t.Action = p.str(te.value, sub)
		}
	}
	return t
}

func (p *parser) reminder(n *yaml.Node, path string) Reminder {
	var r Reminder
	p.remember(path, n)
	for _, re := range p.mapping(n, path, keysReminder) {
		sub := join(path, re.key)
		p.remember(sub, re.value)
		switch re.key {
		case "every":
			r.Every = p.duration(re.value, sub)
		case "do":
			r.Do = p.steps(re.value, sub)
		case "reset_by":
			r.ResetBy = p.strings(re.value, sub)
		case "when":
			r.When = p.expr(re.value, sub, scopeProcess, wantBool)
		case "until":
			r.Until = p.deadline(re.value, sub)
		}
	}
	if n.Kind == yaml.MappingNode && (r.Every == 0 || len(r.Do) == 0) {
		p.errorf(n, path, "a reminder needs every and do")
	}
	return r
}

func (p *parser) sla(e entry) SLA {
	path := join("slas", e.key)
	s := SLA{Name: p.ident(e.keyN, path)}
	p.remember(path, e.keyN)
	hasTarget := false // a target written wrong is one problem, reported at it
	for _, se := range p.mapping(e.value, path, keysSLA) {
		sub := join(path, se.key)
		p.remember(sub, se.value)
		switch se.key {
		case "target":
			hasTarget = true
			s.Target, s.Written = p.duration(se.value, sub), strings.TrimSpace(se.value.Value)
		case "by":
			s.By = p.str(se.value, sub)
		case "targets":
			for _, te := range p.mapping(se.value, sub, nil) {
				p.remember(join(sub, te.key), te.keyN)
				s.Targets = append(s.Targets, Target{Key: te.key, Target: p.duration(te.value, join(sub, te.key)), Written: strings.TrimSpace(te.value.Value)})
			}
		case "stop_on_leave":
			s.StopOnLeave = p.strings(se.value, sub)
		case "stop_on_enter":
			s.StopOnEnter = p.strings(se.value, sub)
		case "pause_in":
			s.PauseIn = p.strings(se.value, sub)
		case "start_on_enter":
			s.StartOnEnter = p.strings(se.value, sub)
		case "start_when":
			s.StartWhen = p.expr(se.value, sub, scopeProcess, wantBool)
		case "stop_when":
			s.StopWhen = p.expr(se.value, sub, scopeProcess, wantBool)
		case "pause_when":
			s.PauseWhen = p.expr(se.value, sub, scopeProcess, wantBool)
		case "warn_at":
			s.WarnAt = p.percent(se.value, sub)
		case "reopen":
			s.Reopen = p.oneOf(se.value, sub, reopenKinds)
		case "at":
			s.At = p.deadline(se.value, sub)
		case "start_on":
			s.StartOn = p.startOn(se.value, sub)
		}
	}
	if s.Reopen != "" && len(s.StopOnEnter) == 0 && len(s.StopOnLeave) == 0 {
		p.errorf(p.at(join(path, "reopen")), join(path, "reopen"), "reopen is for a clock a state stops: give stop_on_enter or stop_on_leave")
	}
	switch {
	case s.At != "" && (hasTarget || s.By != ""):
		p.errorf(p.at(join(path, "at")), join(path, "at"), "an SLA falls due either at an instant (at) or after a target (target, or by and targets), not both")
	case s.At != "":
	case s.Target == 0 && s.By == "" && !hasTarget:
		p.errorf(e.keyN, path, "an SLA needs a target, or by and targets, or at")
	case s.Target != 0 && s.By != "":
		p.errorf(e.keyN, path, "an SLA has either a target or by and targets, not both")
	case s.By != "" && len(s.Targets) == 0:
		p.errorf(e.keyN, join(path, "targets"), "by %q needs targets for its values", s.By)
	}
	return s
}

// deadline reads an expression giving an instant. It must be an expression:
// a literal here would be a deadline fixed for every process, which is a
// mistake, and a duration belongs under after or target.
func (p *parser) deadline(n *yaml.Node, path string) string {
	if _, ok := isExpr(n.Value); !ok && n.Kind == yaml.ScalarNode {
		p.errorf(n, path, "expected an expression giving a date and time, such as \"= end_of_month(now)\" or \"= vars.due_by\", got %s", kindName(n))
		return ""
	}
	return p.expr(n, path, scopeProcess, wantTime)
}

// startOn reads what starts a clock held back until another reaches a mark.
func (p *parser) startOn(n *yaml.Node, path string) *SLAStart {
	so := &SLAStart{}
	for _, e := range p.mapping(n, path, keysStartOn) {
		sub := join(path, e.key)
		p.remember(sub, e.value)
		switch e.key {
		case "sla":
			so.SLA = p.str(e.value, sub)
		case "breached":
			so.Breached = p.boolean(e.value, sub)
			if !so.Breached && e.value.Tag == "!!bool" {
				p.errorf(e.value, sub, "breached: false would never start the clock; the mark that starts it is the breach (breached: true)")
			}
		}
	}
	if n.Kind == yaml.MappingNode && (so.SLA == "" || !so.Breached) {
		p.errorf(n, path, "start_on needs sla and breached: true")
	}
	return so
}

func (p *parser) escalations(n *yaml.Node, path string) []Escalation {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, path, "expected a list of escalations, got %s", kindName(n))
		return nil
	}
	var out []Escalation
	for i, en := range n.Content {
		sub := fmt.Sprintf("%s[%d]", path, i)
		p.remember(sub, en)
		var esc Escalation
		for _, ee := range p.mapping(en, sub, keysEscalation) {
			switch ee.key {
			case "on":
				for _, oe := range p.mapping(ee.value, join(sub, "on"), keysOn) {
					osub := join(sub, "on."+oe.key)
					p.remember(osub, oe.value)
					switch oe.key {
					case "sla":
						esc.SLA = p.str(oe.value, osub)
					case "at":
						esc.At = p.percent(oe.value, osub)
					}
				}
			case "do":
				esc.Do = p.steps(ee.value, join(sub, "do"))
			case "when":
				esc.When = p.expr(ee.value, join(sub, "when"), scopeProcess, wantBool)
			}
		}
		if en.Kind == yaml.MappingNode && (esc.SLA == "" || esc.At == 0 || len(esc.Do) == 0) {
			p.errorf(en, sub, "an escalation needs on.sla, on.at and do")
		}
		out = append(out, esc)
	}
	return out
}

func (p *parser) percent(n *yaml.Node, path string) int {
	s := strings.TrimSuffix(strings.TrimSpace(n.Value), "%")
	v, err := strconv.Atoi(s)
	if n.Kind != yaml.ScalarNode || err != nil || v <= 0 || v > 1000 {
		p.errorf(n, path, "expected a percentage of the SLA target from 1%% to 1000%%, such as 75%% or 100%%, got %s", kindName(n))
		return 0
	}
	return v
}

// suggest returns the candidate closest to s when it is close enough to be a typo.
func suggest(s string, candidates []string) string {
	best, bestD := "", len(s)/2+2
	for _, c := range candidates {
		if d := levenshtein(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
