package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/gate"
)

// decodeJSON reads the request body into v. An empty body leaves v as it is;
// malformed JSON and unknown fields are refused with the position or field name.
func decodeJSON(c echo.Context, v any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return &engine.Error{Code: engine.EBADREQUEST, Message: "cannot read request body", Err: err}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	// Every string of every body passes the gate, named by its path.
	if err := gate.JSON(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return engine.Errorf(engine.EBADREQUEST, "malformed JSON at byte %d: %v", syn.Offset, err)
		case errors.As(err, &typ):
			return &engine.Error{Code: engine.EBADREQUEST, Message: "wrong JSON type", Details: []engine.Detail{{Field: typ.Field, Message: fmt.Sprintf("must be %s, got %s", typ.Type, typ.Value)}}}
		}
		return engine.Errorf(engine.EBADREQUEST, "malformed JSON: %v", err)
	}
	if dec.More() {
		return engine.Errorf(engine.EBADREQUEST, "malformed JSON: more than one value in the body")
	}
	return nil
}

// gateParams refuses a request whose path or query parameters hold text that
// cannot be stored or shown (a NUL, bytes that are not UTF-8), naming the
// parameter, before any handler looks them up.
func gateParams(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := gate.Params(c.ParamNames(), c.ParamValues(), c.QueryParams()); err != nil {
			return err
		}
		return next(c)
	}
}

// plainJSON turns json.Number values (kept to avoid silent float rounding of big
// integers) into float64, the form workflow payloads use.
func plainJSON(m map[string]any) map[string]any {
	for k, v := range m {
		m[k] = plainValue(v)
	}
	return m
}

func plainValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return f
	case map[string]any:
		return plainJSON(x)
	case []any:
		for i := range x {
			x[i] = plainValue(x[i])
		}
	}
	return v
}

// intParam reads an optional integer query parameter within [min, max].
func intParam(c echo.Context, name string, def, min, max int) (int, error) {
	s := c.QueryParam(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, &engine.Error{Code: engine.EBADREQUEST, Message: "bad query parameter",
			Details: []engine.Detail{{Field: name, Message: fmt.Sprintf("must be a whole number from %d to %d", min, max)}}}
	}
	return n, nil
}
