package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"
)

// openapiYAML is the OpenAPI 3.1 description of this API. openapi_test.go checks
// that it names exactly the routes New registers.
//
//go:embed openapi.yaml
var openapiYAML []byte

// openAPIHandler serves the OpenAPI document as JSON. The YAML is converted once,
// here; it is embedded, so a document that does not convert is a build mistake
// (the tests catch it) and panics at start-up rather than failing every request.
func openAPIHandler() echo.HandlerFunc {
	doc, err := openAPIJSON(openapiYAML)
	if err != nil {
		panic(fmt.Sprintf("api: embedded openapi.yaml: %v", err))
	}
	return func(c echo.Context) error {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, doc)
	}
}

// openAPIJSON converts a YAML document to JSON. Mapping keys must be strings, as
// JSON needs; quote keys such as response codes ("200").
func openAPIJSON(src []byte) ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		return nil, err
	}
	v, err := jsonValue(v, "$")
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// jsonValue checks that v, decoded from YAML, has only JSON types, and turns
// mappings with non-string keys into errors naming where they are.
func jsonValue(v any, path string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			ev, err := jsonValue(e, path+"."+k)
			if err != nil {
				return nil, err
			}
			x[k] = ev
		}
		return x, nil
	case map[any]any:
		return nil, fmt.Errorf("%s: mapping key is not a string; quote it", path)
	case []any:
		for i, e := range x {
			ev, err := jsonValue(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			x[i] = ev
		}
		return x, nil
	case nil, string, bool, int, int64, uint64, float64:
		return x, nil
	}
	return nil, fmt.Errorf("%s: %T is not a JSON value; quote it", path, v)
}
