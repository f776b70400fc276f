package engine

import (
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	"gopkg.in/yaml.v3"
)

// checkExprs type-checks every expression against the definition's input and
// variables, and every literal assigned to a typed field against its type.
func (p *parser) checkExprs(def *Definition) {
	fields := map[string]Field{}
	for _, f := range def.varFields() {
		fields[f.Name] = f
	}
	for _, f := range def.Input {
		fields[f.Name] = f
	}
	for _, e := range p.exprs {
		out, problems := def.compileExpr(e.src, e.scope)
		for _, pr := range problems {
			line, col := exprPosition(e.node, e.src, pr.line, pr.column)
			p.problems = append(p.problems, Detail{Field: e.path, Line: line, Column: col, Message: "expression: " + pr.message})
		}
		if out == nil {
			continue
		}
		want, what := cel.DynType, ""
		switch {
		case e.want == wantBool:
			want, what = cel.BoolType, "a condition"
		case e.want == wantTime:
			want, what = cel.TimestampType, "a deadline"
		case e.want == wantString && cel.ListType(cel.StringType).IsAssignableType(out) && out != cel.DynType:
			p.errorf(e.node, e.path, "expression gives a list of strings, but a user needs a string (to notify several people, write users:)")
			continue
		case e.want == wantString:
			want, what = cel.StringType, "a user"
		case e.want == wantNames && out != cel.DynType && !cel.StringType.IsAssignableType(out) && !cel.ListType(cel.StringType).IsAssignableType(out):
			p.errorf(e.node, e.path, "expression gives %s, but %s needs a name or a list of names", typeName(out), e.path)
			continue
		case e.want == wantUsers && out != cel.DynType && !cel.StringType.IsAssignableType(out) && !cel.ListType(cel.StringType).IsAssignableType(out):
			what := "exclude"
			if !strings.Contains(e.path, "exclude") {
				what = e.path
			}
			p.errorf(e.node, e.path, "expression gives %s, but %s needs a user or a list of users", typeName(out), what)
			continue
		case strings.HasPrefix(e.want, wantVar):
			name := strings.TrimPrefix(e.want, wantVar)
			if f, ok := fields[name]; ok && f.Type != typeAny {
				want, what = celType(f.Type), fmt.Sprintf("%s (%s)", name, f.Type)
			}
		}
		if out != cel.DynType && want != cel.DynType && !want.IsAssignableType(out) {
			p.errorf(e.node, e.path, "expression gives %s, but %s needs %s", typeName(out), what, typeName(want))
		}
	}
	for _, l := range p.literals {
		if f, ok := fields[l.name]; ok && f.Type != typeAny {
			if _, d := f.check(l.path, l.value); d != nil {
				p.errorf(l.node, l.path, "%s %s", l.name, d.Message)
			}
		}
	}
}

func typeName(t *cel.Type) string {
	switch t {
	case cel.DoubleType:
		return "a number"
	case cel.IntType:
		return "a whole number (int)"
	case cel.BoolType:
		return "true or false"
	case cel.StringType:
		return "a string"
	case cel.DurationType:
		return "a duration"
	case cel.TimestampType:
		return "a date and time"
	}
	return t.String()
}

// exprPosition maps a position within an expression (line 1-based, column
// 0-based) to the YAML document.
func exprPosition(n *yaml.Node, src string, line, col int) (int, int) {
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		return n.Line + line, n.Column + col
	}
	offset := strings.Index(n.Value, src)
	if offset < 0 {
		offset = 0
	}
	if n.Style == yaml.DoubleQuotedStyle || n.Style == yaml.SingleQuotedStyle {
		offset++
	}
	if line > 1 {
		return n.Line + line - 1, col + 1
	}
	return n.Line, n.Column + offset + col
}
