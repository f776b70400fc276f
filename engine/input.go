package engine

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

var fieldTypes = []string{TypeString, TypeText, TypeEnum, TypeInt, TypeNumber, TypeBool, TypeDuration, TypeDatetime, TypeUser, TypeList, TypeCI, TypeKnowledge}

// ValidateInput checks values against the fields of a process or action and returns
// them with defaults applied. Unknown fields are refused, so a misspelt field name
// fails loudly instead of being dropped. The error is an *Error of code EINVALID
// with one Detail per bad field, its path prefixed by prefix (e.g. "input").
func ValidateInput(fields []Field, values map[string]any, prefix string) (map[string]any, error) {
	out := make(map[string]any, len(fields))
	var details []Detail
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	known := make([]string, len(fields))
	for i, f := range fields {
		known[i] = f.Name
	}
	for _, name := range names {
		if fieldOf(fields, name) == nil {
			details = append(details, Detail{Field: join(prefix, name), Message: Unknown("field", name, known)})
		}
	}
	for _, f := range fields {
		path := join(prefix, f.Name)
		v, ok := values[f.Name]
		if !ok || v == nil {
			switch {
			case f.Default != nil:
				out[f.Name] = f.Default
			case f.Required:
				details = append(details, Detail{Field: path, Message: "is required"})
			}
			continue
		}
		cv, d := f.check(path, v)
		if d != nil {
			details = append(details, *d)
			continue
		}
		out[f.Name] = cv
	}
	if len(details) > 0 {
		return nil, &Error{Code: EINVALID, Op: "engine.ValidateInput", Message: "input is not valid", Details: details}
	}
	return out, nil
}

// check validates one value and returns it in canonical form (JSON numbers arrive
// as float64; whole numbers of an int field stay float64 so the value survives a
// JSON round trip unchanged).
func (f Field) check(path string, v any) (any, *Detail) {
	bad := func(format string, args ...any) (any, *Detail) {
		return nil, &Detail{Field: path, Message: fmt.Sprintf(format, args...)}
	}
	switch f.Type {
	case TypeString, TypeText, TypeEnum, TypeUser:
		s, ok := v.(string)
		if !ok {
			return bad("must be a string, got %s", jsonKind(v))
		}
		if f.Type == TypeEnum && !contains(f.Values, s) {
			return bad("%q is not one of %v", s, f.Values)
		}
		if f.MaxLength > 0 && utf8.RuneCountInString(s) > f.MaxLength {
			return bad("is %d characters long; at most %d allowed", utf8.RuneCountInString(s), f.MaxLength)
		}
		if f.Required && s == "" {
			return bad("is required and must not be empty")
		}
		return s, nil
	case TypeCI, TypeKnowledge:
		s, ok := v.(string)
		if !ok {
			return bad("must be the id of a %s, got %s", refNoun(f.Type), jsonKind(v))
		}
		if s == "" || len(s) > MaxRefLength || strings.ContainsAny(s, " \t\r\n") {
			return bad("%q is not the id of a %s", s, refNoun(f.Type))
		}
		return s, nil
	case TypeInt, TypeNumber:
		n, ok := toFloat(v)
		if !ok {
			return bad("must be a number, got %s", jsonKind(v))
		}
		if f.Type == TypeInt && n != math.Trunc(n) {
			return bad("must be a whole number, got %v", n)
		}
		return n, nil
	case TypeBool:
		b, ok := v.(bool)
		if !ok {
			return bad("must be true or false, got %s", jsonKind(v))
		}
		return b, nil
	case TypeDuration:
		s, ok := v.(string)
		if !ok {
			return bad("must be a duration such as \"4h\" or \"2d\", got %s", jsonKind(v))
		}
		d, err := ParseDuration(s)
		if err != nil {
			return bad("%v", err)
		}
		return d.String(), nil
	case TypeDatetime:
		s, ok := v.(string)
		if !ok {
			return bad("must be a date and time in RFC 3339 such as \"2026-11-23T09:00:00+08:00\", got %s", jsonKind(v))
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return bad("must be a date and time in RFC 3339 such as \"2026-11-23T09:00:00+08:00\", got %q", s)
		}
		return t.Format(time.RFC3339), nil
	case TypeList:
		items, ok := v.([]any)
		if !ok {
			return bad("must be a list of strings, got %s", jsonKind(v))
		}
		out := make([]any, len(items))
		for i, item := range items {
			s, ok := item.(string)
			switch {
			case !ok:
				return bad("item %d must be a string, got %s", i, jsonKind(item))
			case len(f.Values) > 0 && !contains(f.Values, s):
				return bad("item %d: %q is not one of %v", i, s, f.Values)
			}
			out[i] = s
		}
		return out, nil
	}
	return bad("has unknown type %q", f.Type)
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case float64, int, int64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// refNoun names what a ci or knowledge field refers to, for messages.
func refNoun(fieldType string) string {
	if fieldType == TypeKnowledge {
		return "knowledge article"
	}
	return "configuration item"
}

// RefFields returns the fields of fields whose values refer to a record
// outside the process (a configuration item, a knowledge article), which the
// service checks exist before a start or an action.
func RefFields(fields []Field) []Field {
	var out []Field
	for _, f := range fields {
		if f.Type == TypeCI || f.Type == TypeKnowledge {
			out = append(out, f)
		}
	}
	return out
}
