package api

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

// TestOpenAPIValidates loads the document with kin-openapi, a validator no one
// here wrote, and requires no error: conflicting path templates, schemas with
// keys no schema has, $refs that point nowhere, 3.0-only forms in a 3.1 document.
func TestOpenAPIValidates(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(openapiYAML)
	if err != nil {
		t.Fatalf("loading api/openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableMultiError(), openapi3.EnableExamplesValidation()); err != nil {
		for _, e := range strings.Split(err.Error(), " | ") {
			t.Error(e)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			has4xx := false
			for code := range op.Responses.Map() {
				has4xx = has4xx || strings.HasPrefix(code, "4")
			}
			if !has4xx {
				t.Errorf("%s %s documents no 4xx response", method, path)
			}
		}
	}
}

// TestOpenAPIHasNoNullValues catches YAML that means something else than it
// says: in a flow mapping, `{ description: Users, sorted. }` is a description
// "Users" and a key "sorted." with no value. The document never means null.
func TestOpenAPIHasNoNullValues(t *testing.T) {
	var root yaml.Node
	if err := yaml.Unmarshal(openapiYAML, &root); err != nil {
		t.Fatal(err)
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if v := n.Content[i+1]; v.Tag == "!!null" {
					t.Errorf("api/openapi.yaml:%d:%d: key %q has no value; quote a text with a comma inside { }",
						n.Content[i].Line, n.Content[i].Column, n.Content[i].Value)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&root)
}

// redoclyCLI is the Redocly CLI the lint runs, pinned so that a new release's
// rules do not fail a build nobody changed.
const redoclyCLI = "@redocly/cli@2.77.0"

// TestOpenAPILintsWithRedocly runs `redocly lint` (recommended rules) on the
// document when ITILFLOW_REDOCLY=1, and requires no error. It needs npx and
// the npm registry, which not every machine that runs go test has, so it is
// opt-in: scripts/test turns it on in CI when npx is there. Warnings are
// logged, not failed: the one left (info-license) asks for a licence the
// project has not chosen.
func TestOpenAPILintsWithRedocly(t *testing.T) {
	if os.Getenv("ITILFLOW_REDOCLY") != "1" {
		t.Skip("set ITILFLOW_REDOCLY=1 to lint with Redocly (needs npx and the npm registry)")
	}
	npx, err := exec.LookPath("npx")
	if err != nil {
		t.Fatalf("ITILFLOW_REDOCLY=1 but npx is not on PATH: %v", err)
	}
	out, err := exec.Command(npx, "--yes", redoclyCLI, "lint", "--format", "codeframe", "openapi.yaml").CombinedOutput()
	t.Logf("redocly lint:\n%s", out)
	if err != nil {
		t.Fatalf("redocly lint api/openapi.yaml: %v", err)
	}
}
