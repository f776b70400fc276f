package engine

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// Expressions are CEL (https://cel.dev): small, side-effect free, always
// terminating (with a cost limit on top), and type-checked before anything runs.
// A definition keeps them as source text, so the compiled definition stays plain
// data that travels in workflow input; each is compiled once per definition, on
// first use.

// exprPrefix marks a string value as an expression: `set: {due: "= now + duration('4h')"}`.
const exprPrefix = "="

// exprCostLimit bounds the work one evaluation may do, so a careless comprehension
// cannot stall a workflow task. It is counted, not timed, so it is deterministic.
const exprCostLimit = 100_000

// Scopes: the variables an expression may read depend on where it stands.
const (
	scopeProcess = "process" // input, vars, state, actor, now
	scopeWebhook = "webhook" // the above and response
	// scopeActionPrefix + the action's path (states.S.actions.A): an action's
	// guard, in which input also holds the action's own input
	// (LevelGuardsReadInput).
	scopeActionPrefix = "action:"
)

// actionScope is the scope of the guard of action in state.
func actionScope(state, action string) string {
	return scopeActionPrefix + "states." + state + ".actions." + action
}

// guardAction returns the action whose guard scope is, or nil.
func (d *Definition) guardAction(scope string) *Action {
	if !strings.HasPrefix(scope, scopeActionPrefix) {
		return nil // evaluated after every change: no work for the other scopes
	}
	parts := strings.Split(strings.TrimPrefix(scope, scopeActionPrefix), ".")
	if len(parts) != 4 {
		return nil
	}
	st := d.State(parts[1])
	if st == nil {
		return nil
	}
	return st.Action(parts[3])
}

// inputFields are the fields input holds in scope: the process's input, and
// in an action's guard the action's input besides (the same name has the same
// type: Parse refuses one name with two types).
func (d *Definition) inputFields(scope string) []Field {
	a := d.guardAction(scope)
	if a == nil || len(a.Input) == 0 {
		return d.Input
	}
	out := append([]Field(nil), d.Input...)
	for _, f := range a.Input {
		if fieldOf(d.Input, f.Name) == nil {
			out = append(out, f)
		}
	}
	return out
}

// Names of the CEL object types that describe a definition's input and variables.
const (
	typeInput    = "itilflow.Input"
	typeVars     = "itilflow.Vars"
	typeActor    = "itilflow.Actor"
	typeResponse = "itilflow.Response"
)

// Scope is what an expression sees at the moment it is evaluated.
type Scope struct {
	Instance *Instance
	Actor    Actor
	Now      time.Time
	// Response is a webhook's answer, for its result mapping.
	Response *WebhookResponse
	// ActionInput is the input of the action whose guard is evaluated, checked
	// and with its defaults.
	ActionInput map[string]any
}

// exprCache holds the CEL environments and programs of one definition.
type exprCache struct {
	mu       sync.Mutex
	envs     map[string]*cel.Env
	programs map[string]cel.Program
	vars     []Field // varFields, computed once
}

// exprEnv returns the CEL environment of scope for def, building it once.
func (d *Definition) exprEnv(scope string) (*cel.Env, error) {
	c := d.exprs()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.env(d, scope)
}

func (c *exprCache) env(d *Definition, scope string) (*cel.Env, error) {
	if env, ok := c.envs[scope]; ok {
		return env, nil
	}
	env, err := newExprEnv(d, scope)
	if err != nil {
		return nil, err
	}
	c.envs[scope] = env
	return env, nil
}

// exprs returns the definition's expression cache. Like the calendar, it is made
// on first use: a definition decoded from workflow input has none yet. Workflow
// code is single-threaded, and Parse makes the cache before it hands a definition
// out, so the lazy creation cannot race.
func (d *Definition) exprs() *exprCache {
	if d.cache == nil {
		d.cache = &exprCache{envs: map[string]*cel.Env{}, programs: map[string]cel.Program{}}
	}
	return d.cache
}

func newExprEnv(d *Definition, scope string) (*cel.Env, error) {
	prov := &schemaProvider{Registry: types.NewEmptyRegistry(), structs: map[string][]Field{
		typeInput: d.inputFields(scope),
		typeVars:  d.varFields(),
		typeActor: {{Name: "id", Type: TypeUser}, {Name: "roles", Type: TypeList}},
	}}
	opts := []cel.EnvOption{
		cel.CustomTypeProvider(prov),
		// Macro calls are kept so validation can find map() and filter().
		cel.EnableMacroCallTracking(),
		cel.Variable("input", types.NewObjectType(typeInput)),
		cel.Variable("vars", types.NewObjectType(typeVars)),
		cel.Variable("state", cel.StringType),
		cel.Variable("id", cel.StringType),
		cel.Variable("started_by", cel.StringType),
		cel.Variable("actor", types.NewObjectType(typeActor)),
		cel.Variable("now", cel.TimestampType),
	}
	opts = append(opts, periodFunctions(d)...)
	if scope == scopeWebhook {
		prov.structs[typeResponse] = []Field{{Name: "status", Type: TypeInt}, {Name: "body", Type: typeAny}}
		opts = append(opts, cel.Variable("response", types.NewObjectType(typeResponse)))
	}
	return cel.NewEnv(opts...)
}

// typeAny is the internal field type of a webhook's JSON body: anything.
const typeAny = "any"

// celType is the CEL type of a field type.
func celType(fieldType string) *cel.Type {
	switch fieldType {
	case TypeInt:
		return cel.IntType
	case TypeNumber:
		return cel.DoubleType
	case TypeBool:
		return cel.BoolType
	case TypeDuration:
		return cel.DurationType
	case TypeDatetime:
		return cel.TimestampType
	case TypeList:
		return cel.ListType(cel.StringType)
	case typeAny:
		return cel.DynType
	}
	return cel.StringType
}

// schemaProvider tells the CEL checker the fields of input, vars and actor, so
// `input.priorty` is an error at validation, not a surprise at run time. At run
// time the objects are plain maps; a field that has no value reads as its type's
// zero value, and has(input.x) tells whether it was given.
type schemaProvider struct {
	*types.Registry
	structs map[string][]Field
}

func (p *schemaProvider) FindStructType(name string) (*types.Type, bool) {
	if _, ok := p.structs[name]; ok {
		return types.NewTypeTypeWithParam(types.NewObjectType(name)), true
	}
	return p.Registry.FindStructType(name)
}

func (p *schemaProvider) FindStructFieldNames(name string) ([]string, bool) {
	fields, ok := p.structs[name]
	if !ok {
		return p.Registry.FindStructFieldNames(name)
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names, true
}

func (p *schemaProvider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	fields, ok := p.structs[name]
	if !ok {
		return p.Registry.FindStructFieldType(name, field)
	}
	for _, f := range fields {
		if f.Name != field {
			continue
		}
		return &types.FieldType{
			Type: celType(f.Type),
			IsSet: func(target any) bool {
				m, _ := target.(map[string]any)
				_, ok := m[field]
				return ok
			},
			GetFrom: func(target any) (any, error) {
				m, _ := target.(map[string]any)
				if v, ok := m[field]; ok {
					return v, nil
				}
				return zeroValue(f.Type), nil
			},
		}, true
	}
	return nil, false
}

func (p *schemaProvider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.structs[name]; ok {
		return types.NewErr("%s cannot be constructed in an expression", name)
	}
	return p.Registry.NewValue(name, fields)
}

// varFields lists the fields of vars: the declared variables, the input of
// every action that is not a process input field (an action's input is kept as
// variables), the assignment variables of reassign, then variables that set
// steps assign without a declaration. Parse rejects one name with two types.
func (d *Definition) varFields() []Field {
	out := append([]Field(nil), d.Variables...)
	seen := map[string]bool{}
	for _, f := range d.Input {
		seen[f.Name] = true
	}
	for _, f := range d.Variables {
		seen[f.Name] = true
	}
	for _, s := range d.States {
		for _, a := range s.Actions {
			for _, f := range a.Input {
				if !seen[f.Name] {
					seen[f.Name] = true
					out = append(out, f)
				}
			}
		}
	}
	for _, f := range []Field{{Name: VarAssignmentGroup, Type: TypeString}, {Name: VarAssignee, Type: TypeUser}} {
		if !seen[f.Name] {
			seen[f.Name] = true
			out = append(out, f)
		}
	}
	return append(out, d.assignedFields(seen)...)
}

// cachedVarFields is varFields, computed once per definition: it walks every
// step, and expressions are evaluated after every change.
func (d *Definition) cachedVarFields() []Field {
	c := d.exprs()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.vars == nil {
		c.vars = d.varFields()
	}
	return c.vars
}

// compileExpr type-checks src in scope and returns its CEL result type, or the
// problems found with their positions within src (line 1-based, column 0-based).
func (d *Definition) compileExpr(src, scope string) (*cel.Type, []exprProblem) {
	env, err := d.exprEnv(scope)
	if err != nil {
		return nil, []exprProblem{{line: 1, message: err.Error()}}
	}
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		var out []exprProblem
		for _, e := range iss.Errors() {
			out = append(out, exprProblem{line: e.Location.Line(), column: e.Location.Column(), message: e.Message})
		}
		return nil, out
	}
	if p := unorderedMacro(ast.NativeRep()); p != nil {
		return nil, []exprProblem{*p}
	}
	return ast.OutputType(), nil
}

// unorderedMacro finds a map() or filter() over a map, or over a value whose
// type is not known (a webhook's JSON, an untyped variable): CEL iterates a map
// in Go's random order, so the list it builds could differ on replay. exists,
// all and exists_one give the same answer in any order and stay allowed.
func unorderedMacro(a *celast.AST) *exprProblem {
	calls := a.SourceInfo().MacroCalls()
	ids := make([]int64, 0, len(calls))
	for id := range calls {
		ids = append(ids, id)
	}
	slices.Sort(ids) // the first problem in the source, every time
	for _, id := range ids {
		call := calls[id]
		if call.Kind() != celast.CallKind {
			continue
		}
		name := call.AsCall().FunctionName()
		if name != "map" && name != "filter" {
			continue
		}
		target := call.AsCall().Target()
		if target == nil {
			continue
		}
		if k := a.GetType(target.ID()).Kind(); k == types.MapKind || k == types.DynKind || k == types.AnyKind {
			loc := a.SourceInfo().GetStartLocation(id)
			return &exprProblem{line: loc.Line(), column: loc.Column(),
				message: fmt.Sprintf("%s() over a map or a value of unknown type has no fixed order, so a replay could differ: use exists() or all(), or a typed list", name)}
		}
	}
	return nil
}

type exprProblem struct {
	line, column int
	message      string
}

// program returns the compiled program of src in scope.
func (d *Definition) program(src, scope string) (cel.Program, error) {
	c := d.exprs()
	c.mu.Lock()
	defer c.mu.Unlock()
	key := scope + "\x00" + src
	if prg, ok := c.programs[key]; ok {
		return prg, nil
	}
	env, err := c.env(d, scope)
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, iss.Err()
	}
	prg, err := env.Program(ast, cel.CostLimit(exprCostLimit))
	if err != nil {
		return nil, err
	}
	c.programs[key] = prg
	return prg, nil
}

// eval evaluates src in scope and returns its value as plain JSON-friendly data:
// durations as "4h", timestamps in RFC 3339, whole numbers as float64.
func (d *Definition) eval(src, scope string, s Scope) (any, error) {
	prg, err := d.program(src, scope)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", src, err)
	}
	input := d.activation(d.Input, s.Instance.Input, s.Instance.Vars)
	if a := d.guardAction(scope); a != nil {
		// The action's fields read what is being entered, or nothing: not
		// what an earlier action entered into the variable of that name.
		for _, f := range a.Input {
			delete(input, f.Name)
		}
		for k, v := range d.activation(a.Input, s.ActionInput, nil) {
			input[k] = v
		}
	}
	vars := map[string]any{
		"input": input,
		"vars":  d.activation(d.cachedVarFields(), s.Instance.Vars, nil),
		"state": s.Instance.State,
		"id":    s.Instance.ID,
		// started_by names the process's customer in notify and approver
		// expressions: notify: {user: "= started_by"}.
		"started_by": s.Instance.StartedBy,
		"actor":      map[string]any{"id": s.Actor.ID, "roles": append([]string{}, s.Actor.Roles...)},
		"now":        s.Now,
	}
	if s.Response != nil {
		vars["response"] = map[string]any{"status": int64(s.Response.Status), "body": s.Response.Body}
	}
	out, _, err := prg.Eval(vars)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", src, err)
	}
	return plainValue(out)
}

// evalBool evaluates a condition.
func (d *Definition) evalBool(src string, s Scope) (bool, error) {
	return d.evalBoolIn(src, scopeProcess, s)
}

// evalBoolIn evaluates a condition in scope.
func (d *Definition) evalBoolIn(src, scope string, s Scope) (bool, error) {
	v, err := d.eval(src, scope, s)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("expression %q gave %v, not true or false", src, v)
	}
	return b, nil
}

// activation converts stored values of fields to the CEL types the checker
// expects. override, when set, wins over values (a variable set since the start
// replaces the input field of the same name, like the priority).
func (d *Definition) activation(fields []Field, values, override map[string]any) map[string]any {
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		v, ok := override[f.Name]
		if !ok {
			v, ok = values[f.Name]
		}
		if !ok || v == nil {
			continue
		}
		out[f.Name] = celValue(f.Type, v)
	}
	return out
}

// celValue converts one stored value (as it reads back from JSON) to its CEL form.
func celValue(fieldType string, v any) any {
	switch fieldType {
	case TypeInt:
		if n, ok := toFloat(v); ok {
			return int64(n)
		}
	case TypeNumber:
		if n, ok := toFloat(v); ok {
			return n
		}
	case TypeDuration:
		if s, ok := v.(string); ok {
			if d, err := ParseDuration(s); err == nil {
				return time.Duration(d)
			}
		}
	case TypeDatetime:
		if s, ok := v.(string); ok {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				return t
			}
		}
	case TypeList:
		if items, ok := v.([]any); ok {
			out := make([]string, 0, len(items))
			for _, item := range items {
				s, _ := item.(string)
				out = append(out, s)
			}
			return out
		}
	}
	return v
}

func zeroValue(fieldType string) any {
	switch fieldType {
	case TypeInt:
		return int64(0)
	case TypeNumber:
		return 0.0
	case TypeBool:
		return false
	case TypeDuration:
		return time.Duration(0)
	case TypeDatetime:
		return time.Time{}
	case TypeList:
		return []string{}
	case typeAny:
		return nil
	}
	return ""
}

// plainValue turns a CEL result into the data a variable stores.
func plainValue(v ref.Val) (any, error) {
	switch x := v.Value().(type) {
	case time.Duration:
		return Duration(x).String(), nil
	case time.Time:
		return x.UTC().Format(time.RFC3339), nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case string, bool, float64, nil:
		return x, nil
	}
	for _, t := range []reflect.Type{reflect.TypeOf([]any{}), reflect.TypeOf(map[string]any{})} {
		if native, err := v.ConvertToNative(t); err == nil {
			return jsonValue(native), nil
		}
	}
	return nil, fmt.Errorf("cannot store a value of type %s", v.Type().TypeName())
}

// isExpr reports whether a string value is an expression, and returns its source.
func isExpr(v any) (string, bool) {
	s, ok := v.(string)
	if !ok || !strings.HasPrefix(s, exprPrefix) {
		return "", false
	}
	return strings.TrimSpace(strings.TrimPrefix(s, exprPrefix)), true
}
