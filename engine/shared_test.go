package engine_test

import (
	"encoding/json"
	"testing"

	"github.com/itilflow/itilflow/engine"
)

// TestSharedExpressionsAreCompiledOnce: two workflows' copies of one
// published version share their compiled expressions, and decide alike.
func TestSharedExpressionsAreCompiledOnce(t *testing.T) {
	def := mustParse(t, approvalDef)
	raw, _ := json.Marshal(def)
	var a, b engine.Definition
	json.Unmarshal(raw, &a)
	json.Unmarshal(raw, &b)
	shared := engine.NewShared()
	shared.Share(&a, "sha256:x")
	shared.Share(&b, "sha256:x")
	if !engine.SameExprs(&a, &b) {
		t.Fatal("two copies of one version compile their expressions twice")
	}
	var c engine.Definition
	json.Unmarshal(raw, &c)
	shared.Share(&c, "sha256:other")
	if engine.SameExprs(&a, &c) {
		t.Fatal("another version shares the expressions of the first")
	}
}
