package scenario_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/scenario"
)

// review calls a CMDB webhook when a problem is logged, raises a change once the
// cause is known, and closes when the change ends.
const review = `
name: review
input:
  title: {type: string, required: true}
variables:
  ci: {type: string}
initial: logged
states:
  logged:
    on_enter:
      - webhook:
          url: https://cmdb.example/lookup
          body: {title: "= input.title"}
          retries: 1
          result: {ci: "= string(response.body.ci)"}
          on_failure: no_cmdb
    actions:
      cause_known: {to: changing}
      no_cmdb: {to: manual}
  manual:
    actions:
      cause_known: {to: changing}
  changing:
    on_enter:
      - start: {process: change, input: {reason: "= input.title"}, on_end: change_done}
    actions:
      change_done: {to: closed}
  closed: {final: true}
`

func runFile(t *testing.T, tests string) []scenario.Result {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "review.yaml"), []byte(review), 0o644)
	os.WriteFile(filepath.Join(dir, "review.test.yaml"), []byte(tests), 0o644)
	f, err := scenario.Load(filepath.Join(dir, "review.test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	def, err := engine.Parse([]byte(review))
	if err != nil {
		t.Fatal(err)
	}
	return f.Run(def)
}

func TestScenarioWebhooksAndStartedProcesses(t *testing.T) {
	results := runFile(t, `
webhooks:
  https://cmdb.example/lookup: {status: 200, body: {ci: mail-01}}
tests:
  - name: the CMDB answers, a change is started and its end closes the problem
    input: {title: Mail queue stuck}
    steps:
      - at: 1m
        expect: {state: logged, vars: {ci: mail-01}, events: [webhook_called], not_events: [webhook_failed]}
      - {at: 10m, action: cause_known}
      - at: 11m
        expect: {state: changing, started: [change, {process: change, input: {reason: Mail queue stuck}}], events: [subprocess_started]}
      - {at: 2h, child_ended: {process: change, state: closed}}
      - at: 2h
        expect: {state: closed, ended: true, events: [subprocess_ended]}
  - name: a failing CMDB takes on_failure
    input: {title: Mail queue stuck}
    webhooks:
      https://cmdb.example/lookup: {status: 503, body: {error: down}}
    steps:
      - at: 1m
        expect: {state: manual, events: [webhook_failed], not_events: [webhook_called]}
`)
	for _, r := range results {
		if !r.Passed() {
			t.Errorf("%s:\n%s", r.Name, strings.Join(r.Failures, "\n"))
		}
	}
}

func TestScenarioNamesUnansweredWebhooksAndMissingStarts(t *testing.T) {
	results := runFile(t, `
tests:
  - name: no answers
    input: {title: Mail queue stuck}
    steps:
      - at: 1m
        expect: {state: manual, started: [change]}
      - {at: 2m, child_ended: {process: change, state: closed}}
`)
	got := strings.Join(results[0].Failures, "\n")
	for _, want := range []string{
		"webhook POST https://cmdb.example/lookup has no answer: give one under webhooks: in the scenario file",
		"step 1 (at 1m): no change process was started by then",
		"step 2 (at 2m): child_ended: no change process was started by then",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing failure %q in:\n%s", want, got)
		}
	}
}

func TestScenarioNamesTheInputOfAStart(t *testing.T) {
	results := runFile(t, `
webhooks:
  https://cmdb.example/lookup: {status: 200, body: {ci: mail-01}}
tests:
  - name: a start with other input
    input: {title: Mail queue stuck}
    steps:
      - {at: 10m, action: cause_known}
      - at: 11m
        expect: {started: [{process: change, input: {reason: Mail queue stuck, title: x}}]}
`)
	got := strings.Join(results[0].Failures, "\n")
	want := "step 2 (at 11m): no change process was started with input {reason: Mail queue stuck, title: x} by then; it was started with {reason: Mail queue stuck}"
	if got != want {
		t.Errorf("got failures:\n%s\nwant:\n%s", got, want)
	}
}

func TestLoadRejectsUnknownKeysOfStarted(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.test.yaml")
	os.WriteFile(p, []byte("tests:\n  - name: a\n    steps:\n      - at: 1m\n        expect:\n          started: [{process: change, inptu: {}}]\n"), 0o644)
	if _, err := scenario.Load(p); err == nil || !strings.Contains(err.Error(), "line 6") || !strings.Contains(err.Error(), "inptu") {
		t.Fatalf("got %v", err)
	}
}
