package service

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/gate"
)

// maxComment bounds comments on actions and votes, and other free text a
// person adds to a request (a delegation's reason): about two pages. Each
// comment is written into its process's history twice (the request and its
// event), so a meeting's hundreds of votes stay within what a history holds.
const maxComment = 4000

// Comment passes free text through the gate and its bound; field names it in
// a refusal.
func Comment(field, s string) (string, error) {
	s, err := gate.Text(field, s)
	if err != nil {
		return "", err
	}
	if n := utf8.RuneCountInString(s); n > maxComment {
		return "", &engine.Error{Code: engine.EINVALID, Message: field + " too long",
			Details: []engine.Detail{{Field: field, Message: fmt.Sprintf("is %d characters long; at most %d allowed", n, maxComment)}}}
	}
	return s, nil
}

// input passes the input of a start or an action through the gate, then
// requires that every required string field holds more than blanks: "   " is
// no title and no break-glass reason. The workflow validates the rest (types,
// enums, lengths) as it always has.
func input(fields []engine.Field, in map[string]any) (map[string]any, error) {
	v, err := gate.Value("input", in)
	if err != nil {
		return nil, err
	}
	out, _ := v.(map[string]any)
	var details []engine.Detail
	for _, f := range fields {
		s, ok := out[f.Name].(string)
		if f.Required && ok && s != "" && strings.TrimSpace(s) == "" {
			details = append(details, engine.Detail{Field: "input." + f.Name, Message: "is required and must not be blank"})
		}
	}
	if len(details) > 0 {
		return nil, &engine.Error{Code: engine.EINVALID, Message: "input is not valid", Details: details}
	}
	return out, nil
}
