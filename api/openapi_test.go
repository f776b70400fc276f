package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// testServer is the API with its real routes and no dependencies: registering
// routes touches neither the store nor Temporal, and neither do the requests
// these tests make (the public documents, and protected routes refused for want
// of a token).
func testServer(t *testing.T) *Server {
	t.Helper()
	s := New(nil, nil, nil, slog.New(slog.DiscardHandler))
	s.echo.Logger.SetOutput(io.Discard) // Recover's stack traces
	return s
}

// openAPIDoc fetches the served document the way a client does.
func openAPIDoc(t *testing.T, s *Server) map[string]any {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json without a token: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get(echo.HeaderContentType); !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf(`"openapi" = %v, want 3.x`, doc["openapi"])
	}
	return doc
}

var httpMethods = []string{
	http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete,
	http.MethodOptions, http.MethodHead, http.MethodPatch, http.MethodTrace,
}

var echoParam = regexp.MustCompile(`:([^/]+)`)

// apiRoutes are the routes the server answers, as "METHOD /path/{param}". Echo's
// own entries (the group's route-not-found catch-alls) are left out.
func apiRoutes(e *echo.Echo) []string {
	var out []string
	for _, r := range e.Routes() {
		if !slices.Contains(httpMethods, r.Method) {
			continue
		}
		out = append(out, r.Method+" "+echoParam.ReplaceAllString(r.Path, "{$1}"))
	}
	sort.Strings(out)
	return slices.Compact(out)
}

type operation struct {
	path, method string
	op           map[string]any
	pathParams   []any // the path item's parameters
}

func (o operation) key() string { return strings.ToUpper(o.method) + " " + o.path }

func operations(t *testing.T, doc map[string]any) []operation {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatal(`the document has no "paths"`)
	}
	var out []operation
	for path, item := range paths {
		item, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("paths[%q] is not an object", path)
		}
		params, _ := item["parameters"].([]any)
		for _, m := range httpMethods {
			m = strings.ToLower(m)
			if op, ok := item[m].(map[string]any); ok {
				out = append(out, operation{path: path, method: m, op: op, pathParams: params})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// compareRoutes returns the routes without an operation and the operations
// without a route.
func compareRoutes(routes, documented []string) (undocumented, unrouted []string) {
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			undocumented = append(undocumented, r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			unrouted = append(unrouted, d)
		}
	}
	return undocumented, unrouted
}

func operationKeys(ops []operation) []string {
	keys := make([]string, len(ops))
	for i, o := range ops {
		keys[i] = o.key()
	}
	return keys
}

// TestOpenAPICoversRoutes fails when a route has no operation in openapi.yaml, or
// an operation names a route the server does not have.
func TestOpenAPICoversRoutes(t *testing.T) {
	s := testServer(t)
	routes := apiRoutes(s.echo)
	if len(routes) < 20 {
		t.Fatalf("only %d routes found: %v", len(routes), routes)
	}
	undocumented, unrouted := compareRoutes(routes, operationKeys(operations(t, openAPIDoc(t, s))))
	for _, r := range undocumented {
		t.Errorf("route %s has no operation in api/openapi.yaml", r)
	}
	for _, r := range unrouted {
		t.Errorf("api/openapi.yaml documents %s, which is not a route", r)
	}
}

// TestOpenAPICompareCatchesDrift checks the comparison itself on a route added
// after the document was written.
func TestOpenAPICompareCatchesDrift(t *testing.T) {
	s := testServer(t)
	s.echo.DELETE("/api/v1/processes/:id", func(echo.Context) error { return nil })
	undocumented, unrouted := compareRoutes(apiRoutes(s.echo), operationKeys(operations(t, openAPIDoc(t, s))))
	if !slices.Equal(undocumented, []string{"DELETE /api/v1/processes/{id}"}) || len(unrouted) != 0 {
		t.Errorf("undocumented = %v, unrouted = %v; want the DELETE alone undocumented", undocumented, unrouted)
	}
	_, unrouted = compareRoutes([]string{"GET /healthz"}, []string{"GET /healthz", "GET /gone"})
	if !slices.Equal(unrouted, []string{"GET /gone"}) {
		t.Errorf("unrouted = %v, want [GET /gone]", unrouted)
	}
}

var templateParam = regexp.MustCompile(`\{([^}]+)\}`)

// TestOpenAPIOperations checks each operation: an id (unique), a summary,
// responses, every path parameter declared, and a security declaration that
// matches what the server does to a request without a token.
func TestOpenAPIOperations(t *testing.T) {
	s := testServer(t)
	doc := openAPIDoc(t, s)
	ids := map[string]string{}
	for _, o := range operations(t, doc) {
		t.Run(o.key(), func(t *testing.T) {
			id, _ := o.op["operationId"].(string)
			switch {
			case id == "":
				t.Error("no operationId")
			case ids[id] != "":
				t.Errorf("operationId %q is also %s", id, ids[id])
			}
			ids[id] = o.key()
			if s, _ := o.op["summary"].(string); s == "" {
				t.Error("no summary")
			}
			responses, _ := o.op["responses"].(map[string]any)
			if len(responses) == 0 {
				t.Fatal("no responses")
			}

			declared := map[string]bool{}
			for _, p := range append(slices.Clone(o.pathParams), anySlice(o.op["parameters"])...) {
				p := resolve(t, doc, p)
				if p["in"] == "path" {
					name, _ := p["name"].(string)
					declared[name] = true
					if p["required"] != true {
						t.Errorf("path parameter %s is not required: true", name)
					}
				}
			}
			for _, m := range templateParam.FindAllStringSubmatch(o.path, -1) {
				if !declared[m[1]] {
					t.Errorf("path parameter {%s} is not declared", m[1])
				}
			}

			sec, hasSec := o.op["security"].([]any)
			public := hasSec && len(sec) == 0
			rec := httptest.NewRecorder()
			path := templateParam.ReplaceAllString(o.path, "x")
			s.ServeHTTP(rec, httptest.NewRequest(strings.ToUpper(o.method), path, nil))
			refused := rec.Code == http.StatusUnauthorized
			switch {
			case public && refused:
				t.Errorf("documented as public (security: []) but answers 401 without a token")
			case !public && !refused:
				t.Errorf("answers %d without a token; document it with security: []", rec.Code)
			case !public && responses["401"] == nil:
				t.Error("needs a token but documents no 401 response")
			}
		})
	}
}

// TestOpenAPIRefs checks that every $ref points into the document.
func TestOpenAPIRefs(t *testing.T) {
	doc := openAPIDoc(t, testServer(t))
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				if lookup(doc, ref) == nil {
					t.Errorf("%s: $ref %q points to nothing", at, ref)
				}
			}
			for k, e := range x {
				walk(e, at+"/"+k)
			}
		case []any:
			for _, e := range x {
				walk(e, at+"[]")
			}
		}
	}
	walk(doc, "#")
}

func TestOpenAPIJSONRefusesNonStringKeys(t *testing.T) {
	if _, err := openAPIJSON([]byte("responses:\n  200: {description: ok}\n")); err == nil {
		t.Error("an unquoted numeric key converted; want an error asking to quote it")
	}
	got, err := openAPIJSON([]byte("a:\n  \"200\": [1, x, true, null]\n"))
	if err != nil || string(got) != `{"a":{"200":[1,"x",true,null]}}` {
		t.Errorf("openAPIJSON = %s, %v", got, err)
	}
}

func anySlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// resolve follows a $ref (one level) and returns the object.
func resolve(t *testing.T, doc map[string]any, v any) map[string]any {
	t.Helper()
	m, _ := v.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		target, _ := lookup(doc, ref).(map[string]any)
		if target == nil {
			t.Fatalf("$ref %q points to nothing", ref)
		}
		return target
	}
	return m
}

// lookup resolves a local JSON pointer reference ("#/components/schemas/View").
func lookup(doc map[string]any, ref string) any {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var cur any = doc
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[tok]; !ok {
			return nil
		}
	}
	return cur
}
