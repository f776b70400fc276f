package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/itilflow/itilflow/engine"
)

// Text checks a string a person sent in a request body and returns it in
// normal form C; a bad one is EINVALID (422) naming field.
func Text(field, s string) (string, error) {
	if p := Problem(s); p != "" {
		return "", invalid(field, p)
	}
	return Normal(s), nil
}

// Param checks a path or query parameter: a bad one is EBADREQUEST (400)
// naming it. Parameters are names and ids, not prose, so they are not
// normalised (an id is looked up exactly as it was given).
func Param(name, s string) error {
	if p := Problem(s); p != "" {
		return &engine.Error{Code: engine.EBADREQUEST, Op: "gate.Param", Message: "bad parameter",
			Details: []engine.Detail{{Field: name, Message: p}}}
	}
	return nil
}

func invalid(field, problem string) error {
	return &engine.Error{Code: engine.EINVALID, Op: "gate.Text", Message: "text that cannot be stored",
		Details: []engine.Detail{{Field: field, Message: problem}}}
}

// JSON checks every string of a JSON document — keys and values, at any
// depth — before it is decoded, and names the first bad one by its path
// (input.title, items[2]). encoding/json would quietly turn bytes that are not
// UTF-8 into U+FFFD; here they are refused like NUL. Malformed JSON is left
// for the decoder to report.
func JSON(body []byte) error {
	if utf8.Valid(body) && !bytes.Contains(body, []byte(`\u0000`)) && len(body) <= MaxBytes {
		return nil // the common case: nothing to find
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	w := walker{dec: dec, body: body}
	if err := w.value(""); err != nil && !errors.Is(err, errMalformed) {
		return err
	}
	return nil
}

var errMalformed = errors.New("malformed JSON")

type walker struct {
	dec  *json.Decoder
	body []byte
}

// value walks one JSON value at path, checking its strings.
func (w *walker) value(path string) error {
	start := w.dec.InputOffset()
	tok, err := w.dec.Token()
	if err != nil {
		return errMalformed
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			for w.dec.More() {
				kstart := w.dec.InputOffset()
				k, err := w.dec.Token()
				if err != nil {
					return errMalformed
				}
				key, _ := k.(string)
				sub := key
				if path != "" {
					sub = path + "." + key
				}
				if err := w.check(sub, key, kstart); err != nil {
					return err
				}
				if err := w.value(sub); err != nil {
					return err
				}
			}
		case '[':
			for i := 0; w.dec.More(); i++ {
				if err := w.value(path + "[" + strconv.Itoa(i) + "]"); err != nil {
					return err
				}
			}
		}
		if _, err := w.dec.Token(); err != nil { // the closing delimiter
			return errMalformed
		}
	case string:
		return w.check(path, t, start)
	}
	return nil
}

// check looks at a string token: the decoded text for NUL and length, the raw
// bytes since start for bytes that are not UTF-8 (which decoding hides).
func (w *walker) check(path, s string, start int64) error {
	raw := w.body[start:w.dec.InputOffset()]
	if !utf8.Valid(raw) {
		return invalid(fieldName(path), "is not valid UTF-8")
	}
	if p := Problem(s); p != "" {
		return invalid(fieldName(path), p)
	}
	return nil
}

func fieldName(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// Value checks every string in v — a value decoded from a request: strings,
// maps, lists — and puts it in normal form C, for the input of a start or an
// action whichever door it came through; a bad one is EINVALID naming its path
// under field (input.title, input.cis[1]).
func Value(field string, v any) (any, error) {
	switch x := v.(type) {
	case string:
		return Text(field, x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			sub := k
			if field != "" {
				sub = field + "." + k
			}
			if p := Problem(k); p != "" {
				return nil, invalid(sub, "its name "+p)
			}
			c, err := Value(sub, e)
			if err != nil {
				return nil, err
			}
			out[Normal(k)] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := Value(field+"["+strconv.Itoa(i)+"]", e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	return v, nil
}

// Params checks a request's path parameters (names and values side by side,
// as routers keep them) and its query, naming the first bad one.
func Params(names, values []string, query url.Values) error {
	for i, name := range names {
		if i < len(values) {
			if err := Param(name, values[i]); err != nil {
				return err
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(query)) {
		if err := Param("query parameter name", name); err != nil {
			return err
		}
		for _, v := range query[name] {
			if err := Param(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// Form checks every value of a form a person sent, as Text does, and returns
// the form with each value in normal form C; a bad one is EINVALID naming its
// field. The first bad field is the same for the same form.
func Form(form url.Values) (url.Values, error) {
	out := make(url.Values, len(form))
	for _, name := range slices.Sorted(maps.Keys(form)) {
		if _, err := Text("form field name", name); err != nil {
			return nil, err
		}
		for _, v := range form[name] {
			s, err := Text(name, v)
			if err != nil {
				return nil, err
			}
			out[name] = append(out[name], s)
		}
	}
	return out, nil
}
