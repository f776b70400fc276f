package console

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/itilflow/itilflow/engine"
)

// formField is one control of a form built from a field of a definition's
// input schema: a start's input, an action's.
type formField struct {
	// Name is the field's name, sent with the form; Label what people read.
	Name, Label string
	Control     string // text, textarea, select, checkbox, number, lines
	Required    bool
	Options     []string
	Value       string
	Values      []string // chosen options of a list
	Error       string
	MaxLength   int
	// Hint says what the control takes when its type alone does not.
	Hint string
}

// formFields builds the controls of fields, filled with what the person sent
// (after a refusal) and the problem the service named beside each, labelled
// by n.
func formFields(fields []engine.Field, sent url.Values, errs map[string]string, n names) []formField {
	out := make([]formField, 0, len(fields))
	for _, f := range fields {
		ff := formField{Name: f.Name, Label: n.Field(f.Name), Required: f.Required, MaxLength: f.MaxLength, Error: errs[f.Name], Value: sent.Get(f.Name)}
		switch f.Type {
		case engine.TypeText:
			ff.Control = "textarea"
		case engine.TypeEnum:
			ff.Control, ff.Options = "select", f.Values
		case engine.TypeBool:
			ff.Control = "checkbox"
		case engine.TypeInt, engine.TypeNumber:
			ff.Control = "number"
		case engine.TypeList:
			ff.Control, ff.Options, ff.Values = "lines", f.Values, sent[f.Name]
			if len(f.Values) > 0 {
				ff.Control = "multi"
			}
		case engine.TypeDatetime:
			ff.Control, ff.Hint = "text", "hint.datetime"
		case engine.TypeDuration:
			ff.Control, ff.Hint = "text", "hint.duration"
		case engine.TypeUser:
			ff.Control, ff.Hint = "text", "hint.user"
		case engine.TypeCI:
			ff.Control, ff.Hint = "text", "hint.ci"
		case engine.TypeKnowledge:
			ff.Control, ff.Hint = "text", "hint.knowledge"
		default:
			ff.Control = "text"
		}
		if ff.Value == "" && f.Default != nil && sent == nil {
			ff.Value = defaultText(f.Default)
		}
		out = append(out, ff)
	}
	return out
}

func defaultText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	}
	return ""
}

// formInput reads a form into the input of fields, typed as the API's JSON
// would be. A field left empty is left out (its default applies, or the
// service says it is required); a number that does not parse is passed on as
// text, for the service to name.
func formInput(fields []engine.Field, form url.Values) map[string]any {
	in := map[string]any{}
	for _, f := range fields {
		raw := form[f.Name]
		v := strings.TrimSpace(form.Get(f.Name))
		switch f.Type {
		case engine.TypeBool:
			// The form sends a hidden "off" before the checkbox, so an
			// unchecked box is false, not absent.
			if len(raw) > 0 {
				in[f.Name] = slices.Contains(raw, "on")
			}
			continue
		case engine.TypeList:
			var items []any
			for _, r := range raw {
				for _, line := range strings.Split(r, "\n") {
					if line = strings.TrimSpace(line); line != "" {
						items = append(items, line)
					}
				}
			}
			if len(items) > 0 {
				in[f.Name] = items
			}
			continue
		}
		if v == "" {
			continue
		}
		switch f.Type {
		case engine.TypeInt, engine.TypeNumber:
			if n, err := strconv.ParseFloat(v, 64); err == nil {
				in[f.Name] = n
				continue
			}
		case engine.TypeText:
			v = form.Get(f.Name) // keep a text's own lines and spaces
		}
		in[f.Name] = v
	}
	return in
}
