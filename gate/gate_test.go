package gate_test

import (
	"strings"
	"testing"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/gate"
)

func TestJSONNamesTheBadString(t *testing.T) {
	cases := []struct {
		name, body, field, problem string
	}{
		{"NULInAValue", `{"input":{"title":"a\u0000b"}}`, "input.title", "NUL"},
		{"NULInAKey", `{"input":{"a\u0000":"x"}}`, "input.a\x00", "NUL"},
		{"NULInAList", `{"items":["ok","\u0000"]}`, "items[1]", "NUL"},
		{"InvalidUTF8", "{\"comment\":\"caf\xe9\"}", "comment", "UTF-8"},
		{"InvalidUTF8Deep", "{\"input\":{\"cis\":[\"db\",\"\xff\"]}}", "input.cis[1]", "UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := gate.JSON([]byte(c.body))
			e, ok := err.(*engine.Error)
			if !ok || e.Code != engine.EINVALID || len(e.Details) != 1 {
				t.Fatalf("got %v, want one invalid field", err)
			}
			if e.Details[0].Field != c.field || !strings.Contains(e.Details[0].Message, c.problem) {
				t.Fatalf("got %+v, want field %q about %s", e.Details[0], c.field, c.problem)
			}
		})
	}
	for _, ok := range []string{`{"title":"Mail down","n":1,"l":[true,null]}`, `{"t":"\\u0000 is written so"}`, `not json`, ``} {
		if err := gate.JSON([]byte(ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func TestTextIsNormalised(t *testing.T) {
	got, err := gate.Text("title", "Cafe\u0301")
	if err != nil || got != "Caf\u00e9" {
		t.Fatalf("got %q, %v; want the composed form", got, err)
	}
	if _, err := gate.Text("title", strings.Repeat("x", gate.MaxBytes+1)); engine.ErrorCode(err) != engine.EINVALID {
		t.Fatalf("an unbounded string passed: %v", err)
	}
	v, err := gate.Value("input", map[string]any{"a": []any{"e\u0301"}, "n": 1.5})
	m := v.(map[string]any)
	if err != nil || m["a"].([]any)[0] != "\u00e9" || m["n"] != 1.5 {
		t.Fatalf("nested strings not normalised: %q %v", m, err)
	}
	_, err = gate.Value("input", map[string]any{"cis": []any{"ok", "a\x00"}})
	if e, ok := err.(*engine.Error); !ok || e.Details[0].Field != "input.cis[1]" {
		t.Fatalf("a NUL deep in the input: %v", err)
	}
}

func TestCleanReplacesWhatTheStoreCannotHold(t *testing.T) {
	in := map[string]any{"title": "a\x00b", "list": []any{"ok", "x\xffy"}, "n": 1.0}
	out, changed := gate.Clean(in)
	m := out.(map[string]any)
	if !changed || m["title"] != "a\ufffdb" || m["list"].([]any)[1] != "x\ufffdy" || m["n"] != 1.0 {
		t.Fatalf("cleaned %q (changed %v)", m, changed)
	}
	if in["title"] != "a\x00b" {
		t.Fatal("Clean changed its argument")
	}
	if _, changed := gate.Clean(map[string]any{"fine": "é"}); changed {
		t.Fatal("clean text reported as changed")
	}
	if p := gate.Problem(gate.CleanString("\x00\xff" + strings.Repeat("é", gate.MaxBytes))); p != "" {
		t.Fatalf("CleanString left a problem: %s", p)
	}
}
