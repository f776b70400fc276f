package engine_test

import (
	"encoding/json"
	"testing"

	"github.com/itilflow/itilflow/engine"
)

// TestSharedDefinitionsAreKeptOnce: two workflows' copies of one published
// version are one definition with one set of compiled expressions; a
// definition that differs in anything, its level included, is its own.
func TestSharedDefinitionsAreKeptOnce(t *testing.T) {
	def := mustParse(t, approvalDef)
	raw, _ := json.Marshal(def)
	decode := func() *engine.Definition {
		var d engine.Definition
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		return &d
	}
	shared := engine.NewShared()
	a, b := shared.Definition(decode()), shared.Definition(decode())
	if a != b || !engine.SameExprs(a, b) {
		t.Fatal("two copies of one version are kept twice")
	}
	other := decode()
	other.Level--
	if c := shared.Definition(other); c == a || engine.SameExprs(a, c) {
		t.Fatal("a definition compiled at another level shares the first")
	}
	renamed := decode()
	renamed.Title += " (renamed)"
	if c := shared.Definition(renamed); c == a {
		t.Fatal("a definition with another title shares the first")
	}
	if d := decode(); (*engine.Shared)(nil).Definition(d) != d {
		t.Fatal("without a set, a definition is its own")
	}
}
