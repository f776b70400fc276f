package engine_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/itilflow/itilflow/engine"
)

var updateSchema = flag.Bool("update-schema", false, "rewrite docs/process.schema.json")

// TestSchemaFileIsCurrent keeps the committed schema equal to the generated one.
func TestSchemaFileIsCurrent(t *testing.T) {
	b, err := json.MarshalIndent(engine.Schema(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	if *updateSchema {
		if err := os.WriteFile("../docs/process.schema.json", b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile("../docs/process.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, b) {
		t.Fatal("docs/process.schema.json is out of date: go test ./engine -run TestSchemaFileIsCurrent -update-schema")
	}
}

// TestReferenceDocumentsEveryKey requires a table row for every key the parser
// accepts, in the reference section of its kind.
func TestReferenceDocumentsEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../docs/process-language.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{}
	for _, part := range strings.Split(string(doc), "\n### ")[1:] {
		heading, body, _ := strings.Cut(part, "\n")
		if start := strings.Index(heading, "`"); start >= 0 {
			if end := strings.Index(heading[start+1:], "`"); end >= 0 {
				sections[heading[start+1:start+1+end]] = body
			}
		}
	}
	kinds := engine.Keys()
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, kind := range names {
		body, ok := sections[kind]
		if !ok {
			t.Errorf("no section ### `%s` in docs/process-language.md", kind)
			continue
		}
		for _, key := range kinds[kind] {
			if !strings.Contains(body, "| `"+key+"` |") {
				t.Errorf("section `%s` does not document key `%s`", kind, key)
			}
		}
	}
}
