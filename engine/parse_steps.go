package engine

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// What an expression must yield, checked once the whole definition is known.
const (
	wantBool   = "bool"
	wantString = "string"
	wantAny    = "any"
	wantUsers  = "users" // a user id or a list of them
	wantTime   = "time"  // a date and time: a deadline
	wantNames  = "names" // a role or group name, or a list of them
	// wantVar + name: the type of the variable or input field it is assigned to.
	wantVar = "var:"
)

// exprRef is an expression found while parsing, type-checked afterwards.
type exprRef struct {
	path  string
	node  *yaml.Node
	src   string
	scope string
	want  string
}

// expr records the expression in node (without the "=" of a value) for checking.
func (p *parser) expr(n *yaml.Node, path, scope, want string) string {
	src := p.str(n, path)
	if s, ok := isExpr(src); ok {
		src = s
	}
	if strings.TrimSpace(src) == "" {
		if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
			p.errorf(n, path, "expected an expression, got an empty string")
		}
		return ""
	}
	p.exprs = append(p.exprs, exprRef{path: path, node: n, src: src, scope: scope, want: want})
	return src
}

// assignments reads a mapping of names to values; a string starting with "="
// is an expression. target, when set, names the kind of the keys checked later.
func (p *parser) assignments(n *yaml.Node, path, scope string, typed bool) []Assignment {
	var out []Assignment
	for _, ae := range p.mapping(n, path, nil) {
		sub := join(path, ae.key)
		p.remember(sub, ae.keyN)
		a := Assignment{Name: p.ident(ae.keyN, sub)}
		want := wantAny
		if typed {
			want = wantVar + a.Name
		}
		if src, ok := isExpr(ae.value.Value); ok && ae.value.Kind == yaml.ScalarNode && ae.value.Tag == "!!str" {
			a.Expr = src
			p.expr(ae.value, sub, scope, want)
		} else {
			a.Value = p.value(ae.value, sub)
			if typed {
				p.literals = append(p.literals, literalRef{path: sub, node: ae.value, name: a.Name, value: a.Value})
			}
		}
		out = append(out, a)
	}
	return out
}

// literalRef is a literal assigned to a variable, type-checked afterwards.
type literalRef struct {
	path  string
	node  *yaml.Node
	name  string
	value any
}

func (p *parser) steps(n *yaml.Node, path string) []Step {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, path, "expected a list of steps, got %s", kindName(n))
		return nil
	}
	var out []Step
	for i, sn := range n.Content {
		sub := fmt.Sprintf("%s[%d]", path, i)
		p.remember(sub, sn)
		var kinds []entry
		var when *entry
		for _, e := range p.mapping(sn, sub, keysStep) {
			if e.key == "when" {
				when = &e
				continue
			}
			kinds = append(kinds, e)
		}
		if len(kinds) != 1 {
			if sn.Kind == yaml.MappingNode {
				p.errorf(sn, sub, "a step has exactly one of %s (and may have when)", strings.Join(keysStepKind, ", "))
			}
			continue
		}
		st := p.step(kinds[0], join(sub, kinds[0].key))
		if when != nil {
			p.remember(join(sub, "when"), when.value)
			st.When = p.expr(when.value, join(sub, "when"), scopeProcess, wantBool)
		}
		out = append(out, st)
	}
	return out
}

func (p *parser) step(e entry, path string) Step {
	var st Step
	p.remember(path, e.value)
	switch e.key {
	case "notify":
		st.Notify = p.notify(e.value, path)
	case "reassign":
		group, user := p.recipient(e.value, path, "reassign", "group", keysReassign)
		p.literal(p.at(join(path, "group")), join(path, "group"), group)
		st.Reassign = &Assignee{Group: group, User: user}
	case "set":
		st.Set = p.assignments(e.value, path, scopeProcess, true)
		if len(st.Set) == 0 && e.value.Kind == yaml.MappingNode {
			p.errorf(e.value, path, "set needs at least one variable")
		}
	case "raise_priority":
		st.RaisePriority = p.integer(e.value, path)
		if st.RaisePriority <= 0 {
			p.errorf(e.value, path, "raise_priority is how many levels to raise: a whole number from 1")
		}
	case "action":
		st.Action = p.str(e.value, path)
	case "start":
		st.Start = p.start(e.value, path)
	case "webhook":
		st.Webhook = p.webhook(e.value, path)
	case "collect":
		st.Collect = p.collect(e.value, path)
	}
	return st
}

func (p *parser) collect(n *yaml.Node, path string) *Collect {
	c := &Collect{}
	for _, ce := range p.mapping(n, path, keysCollect) {
		sub := join(path, ce.key)
		p.remember(sub, ce.value)
		switch ce.key {
		case "process":
			c.Process = p.ident(ce.value, sub)
		case "into":
			c.Into = p.ident(ce.value, sub)
		}
	}
	if (c.Process == "" || c.Into == "") && n.Kind == yaml.MappingNode {
		p.errorf(n, path, "collect needs the process to collect and the list variable to collect into (into)")
	}
	return c
}

// notify reads who a notify step addresses: exactly one of a role, a user,
// users and a group, each a literal or an expression.
func (p *parser) notify(n *yaml.Node, path string) *Notify {
	nt := &Notify{}
	entries := p.mapping(n, path, keysNotify)
	for _, e := range entries {
		sub := join(path, e.key)
		p.remember(sub, e.value)
		switch e.key {
		case "role":
			nt.Role = p.nameRef(e.value, sub)
		case "user":
			nt.User = p.userRef(e.value, sub, wantString)
		case "users":
			nt.Users = p.usersRef(e.value, sub)
		case "group":
			nt.Group = p.nameRef(e.value, sub)
		}
	}
	if len(entries) != 1 && n.Kind == yaml.MappingNode {
		p.errorf(n, path, "notify needs exactly one of role, user, users or group")
	}
	return nt
}

// nameRef reads a role or group name, or an expression giving one or a list.
func (p *parser) nameRef(n *yaml.Node, path string) string {
	if src, ok := isExpr(n.Value); ok && n.Kind == yaml.ScalarNode {
		p.expr(n, path, scopeProcess, wantNames)
		return exprPrefix + " " + src
	}
	return p.str(n, path)
}

// usersRef reads a list of user ids and expressions, or one expression giving
// a user or a list of them.
func (p *parser) usersRef(n *yaml.Node, path string) []string {
	if n.Kind == yaml.SequenceNode {
		var out []string
		for i, un := range n.Content {
			sub := fmt.Sprintf("%s[%d]", path, i)
			p.remember(sub, un)
			out = append(out, p.userRef(un, sub, wantUsers))
		}
		if len(out) == 0 {
			p.errorf(n, path, "users needs at least one user")
		}
		return out
	}
	if _, ok := isExpr(n.Value); !ok || n.Kind != yaml.ScalarNode {
		p.errorf(n, path, "expected a list of users or an expression giving them, got %s", kindName(n))
		return nil
	}
	return []string{p.userRef(n, path, wantUsers)}
}

// recipient reads who a notify or reassign step addresses: exactly one of a
// role (group) and a user.
func (p *parser) recipient(n *yaml.Node, path, step, groupKey string, keys []string) (group, user string) {
	for _, e := range p.mapping(n, path, keys) {
		switch e.key {
		case groupKey:
			group = p.str(e.value, join(path, groupKey))
		case "user":
			user = p.userRef(e.value, join(path, "user"), wantString)
		}
	}
	if (group == "") == (user == "") {
		p.errorf(n, path, "%s needs exactly one of %s or user", step, groupKey)
	}
	return group, user
}

// userRef reads a user id or an expression that yields what want asks for
// (one user, or users).
func (p *parser) userRef(n *yaml.Node, path, want string) string {
	if src, ok := isExpr(n.Value); ok && n.Kind == yaml.ScalarNode {
		p.expr(n, path, scopeProcess, want)
		return exprPrefix + " " + src
	}
	return p.str(n, path)
}

func (p *parser) start(n *yaml.Node, path string) *StartProcess {
	sp := &StartProcess{}
	for _, se := range p.mapping(n, path, keysStart) {
		sub := join(path, se.key)
		p.remember(sub, se.value)
		switch se.key {
		case "process":
			sp.Process = p.ident(se.value, sub)
		case "input":
			sp.Input = p.assignments(se.value, sub, scopeProcess, false)
		case "on_end":
			sp.OnEnd = p.str(se.value, sub)
		case "once":
			if src, ok := isExpr(se.value.Value); ok && se.value.Kind == yaml.ScalarNode {
				p.expr(se.value, sub, scopeProcess, wantString)
				sp.Once = exprPrefix + " " + src
			} else {
				sp.Once = p.str(se.value, sub)
			}
		}
	}
	if sp.Process == "" && n.Kind == yaml.MappingNode {
		p.errorf(n, path, "start needs the process to start")
	}
	return sp
}

// Webhook defaults: a slow or failing endpoint must not hold a process for long.
const (
	defaultWebhookTimeout = Duration(10_000_000_000) // 10s
	defaultWebhookRetries = 3
	maxWebhookRetries     = 20
)

func (p *parser) webhook(n *yaml.Node, path string) *Webhook {
	w := &Webhook{Method: "POST", Timeout: defaultWebhookTimeout, Retries: defaultWebhookRetries}
	for _, we := range p.mapping(n, path, keysWebhook) {
		sub := join(path, we.key)
		p.remember(sub, we.value)
		switch we.key {
		case "url":
			w.URL = p.str(we.value, sub)
			if w.URL != "" && !strings.HasPrefix(w.URL, "http://") && !strings.HasPrefix(w.URL, "https://") {
				p.errorf(we.value, sub, "url must start with http:// or https://, got %q", w.URL)
			}
		case "method":
			w.Method = strings.ToUpper(p.str(we.value, sub))
			if !contains([]string{"POST", "PUT", "PATCH", "GET"}, w.Method) {
				p.errorf(we.value, sub, "method must be POST, PUT, PATCH or GET, got %q", w.Method)
			}
		case "body":
			w.Body = p.assignments(we.value, sub, scopeProcess, false)
		case "timeout":
			w.Timeout = p.duration(we.value, sub)
			if w.Timeout <= 0 || w.Timeout > Duration(5*60_000_000_000) {
				p.errorf(we.value, sub, "timeout must be more than zero and at most 5m")
			}
		case "retries":
			w.Retries = p.integer(we.value, sub)
			if w.Retries < 0 || w.Retries > maxWebhookRetries {
				p.errorf(we.value, sub, "retries must be from 0 to %d", maxWebhookRetries)
			}
		case "result":
			w.Result = p.assignments(we.value, sub, scopeWebhook, true)
		case "on_failure":
			w.OnFailure = p.str(we.value, sub)
		}
	}
	if w.URL == "" && n.Kind == yaml.MappingNode {
		p.errorf(n, path, "a webhook needs a url")
	}
	return w
}
