package engine

import (
	"os"
	"path/filepath"
	"testing"
)

// TestShippedDefinitionsAreInStep: the indentation check finds nothing in
// well-formed YAML, so what it names on an error is worth reading.
func TestShippedDefinitionsAreInStep(t *testing.T) {
	files, _ := filepath.Glob("../definitions/*.yaml")
	if len(files) < 10 {
		t.Fatalf("found %d definition files", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := misindented(string(src)); len(got) > 0 {
			t.Errorf("%s: %v", f, got)
		}
	}
}

// TestMisindentedLinesAreNamed: a syntax error caused by indentation names the
// line at fault, with the parser's own message after it.
func TestMisindentedLinesAreNamed(t *testing.T) {
	const head = "name: quick\ninitial: new\nstates:\n  new:\n    actions:\n"
	for _, tc := range []struct{ name, src, want string }{
		{"one space too many", head + "       go: {to: done}\n      stay: {to: new}\n  done: {final: true}\n",
			"7:7: line 7 is indented 6 spaces, which lines up with no block above it (line 6 is at 7): check the indentation of both"},
		{"a key under a value", head + "      go: {to: done}\n        roles: [a]\n  done: {final: true}\n",
			"7:9: line 7 is indented 8 spaces, more than line 6 above it (6), which does not open a block: check the indentation"},
		{"a tab", head + "      go: {to: done}\n\t  stay: {to: new}\n  done: {final: true}\n",
			"7:1: line 7 is indented with a tab: YAML indents with spaces only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src))
			e, ok := err.(*Error)
			if !ok || len(e.Details) != 2 {
				t.Fatalf("got %v, want the line at fault and the parser's message", err)
			}
			if got := e.Details[0].String(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
