package engine

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. They name what went wrong from the caller's point of view; the HTTP
// layer maps each to one status code.
const (
	EINVALID      = "invalid"      // input or definition does not validate (422)
	EBADREQUEST   = "bad_request"  // malformed request (400)
	ENOTFOUND     = "not_found"    // no such thing (404)
	ECONFLICT     = "conflict"     // not allowed in the current state (409)
	EFORBIDDEN    = "forbidden"    // authenticated, but lacking a role (403)
	EUNAUTHORIZED = "unauthorized" // no or unknown credentials (401)
	EUNAVAILABLE  = "unavailable"  // a dependency is down; retry later (503)
	EINTERNAL     = "internal"     // a bug (500)
)

// Detail is one precise problem: a field path for data, a line and column for
// definitions.
type Detail struct {
	Field   string `json:"field,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

func (d Detail) String() string {
	var b strings.Builder
	if d.Line > 0 {
		fmt.Fprintf(&b, "%d:%d: ", d.Line, d.Column)
	}
	if d.Field != "" {
		b.WriteString(d.Field + ": ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// Error is the one error type that crosses package boundaries in itilflow. Code says
// what kind of failure it is; Op says which operation failed.
type Error struct {
	Code    string   `json:"code"`
	Op      string   `json:"op,omitempty"`
	Message string   `json:"message"`
	Details []Detail `json:"details,omitempty"`
	// Allowed lists what the caller could do instead (for example the actions
	// allowed in the current state), when that helps them recover.
	Allowed []string `json:"allowed,omitempty"`
	Err     error    `json:"-"`
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op + ": ")
	}
	b.WriteString(e.Message)
	for i, d := range e.Details {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(d.String())
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any
// other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}
