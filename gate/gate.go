// Package gate is the one check every string passes before it reaches
// PostgreSQL or a person: no NUL character (PostgreSQL's text and jsonb cannot
// hold one, and a process whose projection holds one could never be stored),
// valid UTF-8, a bounded length, and — for what people typed — Unicode NFC, so
// "é" typed two ways is one value to guards, searches and reports.
//
// The API refuses bad text at the door with the field it was in (Text, JSON,
// Param); the store refuses it again below (Check), so no caller can slip it
// past; data from outside systems (webhook answers, a directory) and from
// histories recorded before the gate existed is cleaned instead (Clean), so
// the projection can always store what a workflow holds.
package gate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxBytes bounds any one string: far above every field's own maxLength and
// the longest definition, and far below what would strain a row.
const MaxBytes = 1 << 20

// Problem says what is wrong with s, or "" when it may pass.
func Problem(s string) string {
	switch {
	case len(s) > MaxBytes:
		return fmt.Sprintf("is %d bytes long; at most %d allowed", len(s), MaxBytes)
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return "contains a NUL character (U+0000)"
		}
	}
	return ""
}

// Normal returns s in Unicode normal form C.
func Normal(s string) string { return norm.NFC.String(s) }

// CleanString replaces what the store cannot hold — NUL characters and bytes
// that are not UTF-8 — with U+FFFD, and cuts s to MaxBytes.
func CleanString(s string) string {
	if Problem(s) == "" {
		return s
	}
	s = string([]rune(s)) // invalid bytes become U+FFFD
	out := make([]rune, 0, len(s))
	n := 0
	for _, r := range s {
		if r == 0 {
			r = utf8.RuneError
		}
		if n += utf8.RuneLen(r); n > MaxBytes {
			break
		}
		out = append(out, r)
	}
	return string(out)
}

// Clean returns v with every string, map key included, passed through
// CleanString; it reports whether anything changed. Maps and lists are
// copied, so a value shared with its caller is never changed under them.
func Clean(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		c := CleanString(x)
		return c, c != x
	case map[string]any:
		out, changed := make(map[string]any, len(x)), false
		for k, e := range x {
			ck, kc := Clean(k)
			ce, ec := Clean(e)
			out[ck.(string)] = ce
			changed = changed || kc || ec
		}
		return out, changed
	case []any:
		out, changed := make([]any, len(x)), false
		for i, e := range x {
			var c bool
			out[i], c = Clean(e)
			changed = changed || c
		}
		return out, changed
	case []string:
		out, changed := make([]string, len(x)), false
		for i, e := range x {
			out[i] = CleanString(e)
			changed = changed || out[i] != e
		}
		return out, changed
	}
	return v, false
}

// CleanJSON returns v with every string passed through CleanString, by way of
// its JSON form: a value of any type the projection stores (a view, events)
// whose text the database cannot hold. It decodes and encodes only when there
// is something to clean, and reports whether there was.
func CleanJSON[T any](v T) (T, bool, error) {
	raw, err := json.Marshal(v)
	if err != nil || JSON(raw) == nil {
		return v, false, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers come back exactly as they were
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return v, false, err
	}
	clean, _ := Clean(generic)
	if raw, err = json.Marshal(clean); err != nil {
		return v, false, err
	}
	var out T
	return out, true, json.Unmarshal(raw, &out)
}
