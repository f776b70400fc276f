package console

import (
	"errors"
	"reflect"
	"testing"

	"github.com/itilflow/itilflow/engine"
)

func TestNumberedFlagsTheLinesOfProblems(t *testing.T) {
	got := numbered("name: x\n\ninitial: a\n", []problem{{Line: 3, Column: 10, Text: "no such state"}})
	want := []sourceLine{{N: 1, Text: "name: x"}, {N: 2}, {N: 3, Text: "initial: a", Flagged: true}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%+v, want %+v", got, want)
	}
}

func TestProblemsOfARefusedDefinition(t *testing.T) {
	err := &engine.Error{Code: engine.EINVALID, Message: "definition has problems", Details: []engine.Detail{
		{Field: "states.new.actions.go.to", Line: 31, Column: 25, Message: `unknown state "b"`},
		{Line: 1, Column: 1, Message: "too deep"},
	}}
	want := []problem{{Line: 31, Column: 25, Text: `states.new.actions.go.to: unknown state "b"`}, {Line: 1, Column: 1, Text: "too deep"}}
	if got := problemsOf(err); !reflect.DeepEqual(got, want) {
		t.Fatalf("%+v, want %+v", got, want)
	}
	// A problem of the whole text has no place.
	whole := engine.Errorf(engine.EINVALID, "definition too complex to check within 5s")
	if got := problemsOf(whole); len(got) != 1 || got[0].Line != 0 || got[0].Text != whole.Message {
		t.Fatalf("%+v", got)
	}
	if got := problemsOf(errors.New("odd")); len(got) != 1 || got[0].Text != "odd" {
		t.Fatalf("%+v", got)
	}
}

func TestDiffLinesHaveTheirKinds(t *testing.T) {
	got := diffLines("--- x v1\n+++ x v2\n@@ -1,2 +1,2 @@\n name: x\n--- a YAML separator removed\n+title: X\n")
	want := []diffLine{{"file", "--- x v1"}, {"file", "+++ x v2"}, {"hunk", "@@ -1,2 +1,2 @@"}, {"", " name: x"},
		{"del", "--- a YAML separator removed"}, {"add", "+title: X"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%+v, want %+v", got, want)
	}
	if diffLines("") != nil {
		t.Fatal("an empty diff has lines")
	}
}
