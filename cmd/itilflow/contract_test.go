package main

// The integration tests hold the API to its OpenAPI document: apiClient checks
// every request a test sends and every answer it gets with kin-openapi's
// openapi3filter, so a field a handler adds, renames or retypes fails the test
// that reads it unless api/openapi.yaml changes with it.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"gopkg.in/yaml.v3"
)

// contractFile is the document the binary embeds and serves.
const contractFile = "../../api/openapi.yaml"

// contract is the document, loaded once for every test of the package, with
// its objects closed (strict).
var contract = sync.OnceValues(func() (*contractChecker, error) {
	// A graph as DOT is text, as kin-openapi reads text/plain.
	openapi3filter.RegisterBodyDecoder("text/vnd.graphviz", openapi3filter.PlainBodyDecoder)
	src, err := os.ReadFile(contractFile)
	if err != nil {
		return nil, err
	}
	// The parts of allOf are copied from the document as written, untouched
	// by the walk that closes the rest.
	var tree, written map[string]any
	if err := yaml.Unmarshal(src, &tree); err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(src, &written); err != nil {
		return nil, err
	}
	strict(written, tree, false)
	closed, err := json.Marshal(tree)
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(closed)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	errorBody := doc.Components.Schemas["ErrorBody"]
	if errorBody == nil {
		return nil, errors.New("no ErrorBody schema")
	}
	return &contractChecker{router: router, errorBody: errorBody.Value}, nil
})

// strict closes every object the document describes by its properties: the
// document leaves them open, so that clients ignore fields added later (as
// it says), but the server must send exactly what it documents, or a field a
// handler adds or renames would go unnoticed. An object composed with allOf
// is closed as a whole (unevaluatedProperties), its parts left open: a closed
// part would refuse the other parts' fields. Objects that declare
// additionalProperties (free-form input, variables) stay as they are.
func strict(written, node any, part bool) {
	switch n := node.(type) {
	case map[string]any:
		_, hasAdditional := n["additionalProperties"]
		switch parts, _ := n["allOf"].([]any); {
		case parts != nil:
			for i, p := range parts {
				if ref, ok := p.(map[string]any)["$ref"].(string); ok {
					parts[i] = openCopy(written, ref)
				}
				strict(written, parts[i], true)
			}
			if !hasAdditional {
				n["unevaluatedProperties"] = false
			}
		case n["properties"] != nil && !hasAdditional && !part:
			n["additionalProperties"] = false
		}
		for k, v := range n {
			if k != "allOf" {
				strict(written, v, false)
			}
		}
	case []any:
		for _, v := range n {
			strict(written, v, false)
		}
	}
}

// openCopy is a copy of the component ref names ("#/components/schemas/View")
// in the document as written, for a part of an allOf.
func openCopy(root any, ref string) any {
	node := root
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		node = node.(map[string]any)[tok]
	}
	b, _ := json.Marshal(node)
	var c any
	_ = json.Unmarshal(b, &c)
	return c
}

// contractChecker checks exchanges against the document.
type contractChecker struct {
	router    routers.Router
	errorBody *openapi3.Schema
}

// exchange is one request on its way, with the operation the document gives
// it (input is nil for a path or method the document does not have).
type exchange struct {
	req   *http.Request
	input *openapi3filter.RequestValidationInput
}

// route finds the request's operation.
func (k *contractChecker) route(req *http.Request) exchange {
	route, params, err := k.router.FindRoute(req)
	if err != nil {
		return exchange{req: req}
	}
	return exchange{req: req, input: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		// Who may call is the server's to decide and the tests' to check:
		// the contract checks only the shape of what is sent.
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}}
}

// contentType is what the document says a body is, for tests that send one
// without saying: JSON when the operation takes JSON, else its first media
// type (a definition's YAML).
func (x exchange) contentType() string {
	if x.input == nil || x.input.Route.Operation.RequestBody == nil || x.input.Route.Operation.RequestBody.Value == nil {
		return "application/json"
	}
	content := x.input.Route.Operation.RequestBody.Value.Content
	for _, mt := range []string{"application/json", "application/yaml", "text/plain"} {
		if content.Get(mt) != nil {
			return mt
		}
	}
	return "application/json"
}

// checkRequest validates the request as the document describes it, reading
// its body from body so that the request can still be sent.
func (k *contractChecker) checkRequest(x exchange, body []byte) error {
	if x.input == nil {
		return errors.New("the document has no such operation")
	}
	r := x.req.Clone(x.req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	in := *x.input
	in.Request = r
	return openapi3filter.ValidateRequest(r.Context(), &in)
}

// checkResponse validates an answer: a documented status, its headers and
// its body. An answer to a path or method the document does not have must be
// the error of an unknown route.
func (k *contractChecker) checkResponse(x exchange, status int, header http.Header, body []byte) error {
	if x.input == nil {
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			return fmt.Errorf("answered %d to a route the document does not have", status)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Errorf("the error is not JSON: %w", err)
		}
		return k.errorBody.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors())
	}
	return openapi3filter.ValidateResponse(x.req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: x.input, Status: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}})
}

// contractError shortens a validation error to its useful lines.
func contractError(err error) string {
	s := err.Error()
	if len(s) > 2000 {
		s = s[:2000] + "…"
	}
	return strings.TrimSpace(s)
}

// TestContractHoldsAnswersToTheDocument checks the checker itself, without a
// stack: an answer as documented passes; a field added, renamed or retyped, or
// an undocumented status, does not.
func TestContractHoldsAnswersToTheDocument(t *testing.T) {
	k, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	vote := `{"id":"cab-review-000003","step":"meeting","decision":"approve","outcome":"pending","state":"meeting",
		"tally":{"approve":1,"reject":0,"needed":3},
		"process":{"id":"cab-review-000003","definition":"cab-review","version":1,"state":"meeting","input":{},"slas":[],
			"started_at":"2026-11-29T09:00:00Z","started_by":"carl.change","seq":7}}`
	for _, tc := range []struct {
		name, body string
		status     int
		ok         bool
	}{
		{"AsDocumented", vote, 200, true},
		{"FieldAdded", strings.Replace(vote, `"step"`, `"voter":"cara.cab","step"`, 1), 200, false},
		{"FieldRenamed", strings.Replace(vote, `"outcome"`, `"result"`, 1), 200, false},
		{"FieldRetyped", strings.Replace(vote, `"approve":1`, `"approve":"1"`, 1), 200, false},
		{"NestedFieldAdded", strings.Replace(vote, `"seq":7`, `"seq":7,"secret":true`, 1), 200, false},
		{"UndocumentedStatus", vote, 202, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", "http://127.0.0.1:8080/api/v1/processes/cab-review-000003/approvals/meeting", strings.NewReader(`{"decision":"approve"}`))
			req.Header.Set("Content-Type", "application/json")
			x := k.route(req)
			if err := k.checkRequest(x, []byte(`{"decision":"approve"}`)); err != nil {
				t.Fatalf("request: %v", err)
			}
			h := http.Header{"Content-Type": {"application/json"}}
			err := k.checkResponse(x, tc.status, h, []byte(tc.body))
			if (err == nil) != tc.ok {
				t.Fatalf("checkResponse = %v, want ok %v", err, tc.ok)
			}
		})
	}
	// A process is composed (allOf View and its actions): closed as a whole.
	process := `{"id":"incident-000001","definition":"incident","version":1,"state":"new","input":{},"slas":[],
		"started_at":"2026-11-29T09:00:00Z","started_by":"rita.requester","seq":1,"actions":[]}`
	req, _ := http.NewRequest("GET", "http://127.0.0.1:8080/api/v1/processes/incident-000001", nil)
	x := k.route(req)
	h := http.Header{"Content-Type": {"application/json"}}
	if err := k.checkResponse(x, 200, h, []byte(process)); err != nil {
		t.Errorf("a process as documented: %v", err)
	}
	if err := k.checkResponse(x, 200, h, []byte(strings.Replace(process, `"actions"`, `"owner":"x","actions"`, 1))); err == nil {
		t.Error("a process with a field the document lacks passed")
	}
}
