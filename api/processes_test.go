package api

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/itilflow/itilflow/engine"
)

// filterDefinition has, in its second version, a state its first lacks.
const filterDefinition = `name: incident
input:
  title: {type: string, required: true}
initial: new
states:
  new:
    actions:
      close: {to: closed}
  closed: {final: true}
`

func TestProcessListFiltersNameWhatExists(t *testing.T) {
	a := newAdminTest(t)
	ctx := context.Background()
	for _, src := range []string{filterDefinition, strings.Replace(filterDefinition, "close: {to: closed}", "close: {to: closed}\n      hold: {to: on_hold}\n  on_hold:\n    actions:\n      close: {to: closed}", 1)} {
		def, err := engine.Parse([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.store.PublishDefinition(ctx, def, []byte(src), "pat.owner", ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, query string
		status      int
		want        []string
	}{
		{"UnknownStateSuggestsTheNearest", "?state=clsoed", 422, []string{`unknown state "clsoed" (did you mean "closed"?)`, "field:state"}},
		{"UnknownDefinitionSuggestsTheNearest", "?definition=incidnet", 422, []string{`unknown definition "incidnet" (did you mean "incident"?)`, "field:definition"}},
		{"UnknownStateOfADefinitionNamesIt", "?definition=incident&state=x", 422, []string{`unknown state of incident "x" (known: closed, new, on_hold)`}},
		{"BothUnknownNamesTheDefinition", "?definition=nothing&state=nowhere", 422, []string{`unknown definition "nothing" (known: incident)`}},
		{"AStateOfAnEarlierVersionIsKnown", "?definition=incident&state=on_hold", 200, nil},
		{"AKnownStateOfAnyDefinition", "?state=new", 200, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := a.with(t)
			got, out, _ := a.call("GET", "/api/v1/processes"+tc.query, "ada.admin", nil)
			if got != tc.status {
				t.Fatalf("status %d, want %d: %v", got, tc.status, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(fmt.Sprint(out), w) {
					t.Errorf("%v does not mention %s", out, w)
				}
			}
		})
	}
}
