// Package scenario runs process owners' scenario tests: YAML files that give a
// start time, input, actions at given offsets and what must be true at given
// offsets (state, SLA clocks, variables, events, notifications). They run the real
// interpreter workflow in the Temporal SDK's time-skipping test environment, so a
// week-long observation period takes milliseconds and a process owner can prove a
// changed definition without writing Go.
//
// Steps that reach outside the process are stood in for, not carried out:
//
//   - A start step's process is recorded, not run: it gets the id
//     "<process>-scenario-N" (N counts the starts of the scenario from 1), and
//     shows as a subprocess_started event; expect it with `started:`, by
//     name or as {process, input} to check the input it was given. Its end
//     is simulated by a step `child_ended: {process: change, state: closed}`,
//     which the process takes as it would the real child's end (on_end).
//   - A webhook step gets the answer the file gives for its URL under
//     `webhooks:` (top level, or per test, which wins for the same URL):
//     `{status: 200, body: {ticket: CHG-1}}`, status defaulting to 200. A
//     status outside 2xx fails the call as the real one would (retries, then
//     on_failure). A URL with no answer fails the call, and the scenario.
//   - A collect step gets the test's `agenda:` (items with id, title,
//     started_by, excluded, state — default authorising); expect the
//     decisions a meeting released with `released: {id: approved}`. A
//     process whose approval has a board is given a meeting's decision with
//     a step `released: {outcome: approved, votes: [{by: ann, decision:
//     approve, comment: ...}]}`.
//   - A rule's count finds the test's `counted:` (ids of the other
//     processes on the item, oldest first; none when absent).
//   - Roles and groups that approvers resolve to people are looked up in the
//     file's `directory:` (name → user ids).
package scenario

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/itilflow/itilflow/engine"
)

// File is one scenario test file, e.g. definitions/incident.test.yaml.
type File struct {
	// Definition is the definition under test, relative to this file; default:
	// the file's name without ".test" (incident.test.yaml → incident.yaml).
	Definition string `yaml:"definition"`
	// Webhooks answers the webhook steps of every test, by URL.
	Webhooks map[string]WebhookAnswer `yaml:"webhooks"`
	// Directory gives the members of roles and groups that approvers resolve.
	Directory map[string][]string `yaml:"directory"`
	Tests     []Test              `yaml:"tests"`

	path string
}

// Test is one scenario.
type Test struct {
	Name string `yaml:"name"`
	// Start is when the process starts (RFC 3339); default Monday 2026-01-05 09:00 UTC.
	Start string         `yaml:"start"`
	Input map[string]any `yaml:"input"`
	Steps []Step         `yaml:"steps"`
	// Until runs the process on after the last step, up to this offset, so timers
	// can fire; the run also stops when the process ends.
	Until string `yaml:"until"`
	// Webhooks answers webhook steps by URL, over the file's answers.
	Webhooks map[string]WebhookAnswer `yaml:"webhooks"`
	// Agenda is what collect steps gather.
	Agenda []AgendaItem `yaml:"agenda"`
	// Counted is what a rule's count finds: the ids of the other processes
	// on the same configuration item, oldest first.
	Counted []string `yaml:"counted"`
}

// AgendaItem is a process a collect step gathers in a scenario.
type AgendaItem struct {
	ID        string   `yaml:"id"`
	Title     string   `yaml:"title"`
	State     string   `yaml:"state"`
	StartedBy string   `yaml:"started_by"`
	Excluded  []string `yaml:"excluded"`
}

// Release gives the process a meeting's decision (engine.Release). The state
// and board default to the first state whose approval names a board.
type Release struct {
	Outcome string `yaml:"outcome"`
	Meeting string `yaml:"meeting"`
	State   string `yaml:"state"`
	Board   string `yaml:"board"`
	Votes   []struct {
		By       string `yaml:"by"`
		Decision string `yaml:"decision"`
		Comment  string `yaml:"comment"`
	} `yaml:"votes"`
}

// WebhookAnswer is what a webhook answers in a scenario: a status (default 200)
// and a body, sent as JSON.
type WebhookAnswer struct {
	Status int `yaml:"status"`
	Body   any `yaml:"body"`
}

// ChildEnd simulates the end of a process that a start step started: the
// latest one of Process, ending in State.
type ChildEnd struct {
	Process string `yaml:"process"`
	State   string `yaml:"state"`
}

// Step is an action or an expectation at an offset from the start.
type Step struct {
	At      string         `yaml:"at"`
	Action  string         `yaml:"action"`
	By      string         `yaml:"by"`
	As      []string       `yaml:"as"`
	Input   map[string]any `yaml:"input"`
	Comment string         `yaml:"comment"`
	// For is the approver a vote is cast for, under a delegation to By.
	For string `yaml:"for"`
	// Item is the agenda item a meeting's vote is for.
	Item string `yaml:"item"`
	// Released gives the process a meeting's decision.
	Released *Release `yaml:"released"`
	// Refused expects the action to be refused with this code: forbidden,
	// conflict, invalid or not_found.
	Refused string `yaml:"refused"`
	// ChildEnded ends a process the scenario's start steps started.
	ChildEnded *ChildEnd `yaml:"child_ended"`
	Expect     *Expect   `yaml:"expect"`
}

// Expect is what must hold at a step's instant.
type Expect struct {
	State string               `yaml:"state"`
	Ended *bool                `yaml:"ended"`
	Vars  map[string]any       `yaml:"vars"`
	SLAs  map[string]SLAExpect `yaml:"slas"`
	// Events lists event types that must have happened by then.
	Events []string `yaml:"events"`
	// NotEvents lists event types that must not have happened by then.
	NotEvents []string `yaml:"not_events"`
	// Notified lists roles or users that must have been notified by then.
	Notified []string `yaml:"notified"`
	// Started lists processes that start steps must have started by then: a
	// definition name, or {process, input} to check the input it was given too.
	Started []StartExpect `yaml:"started"`
	// Released maps agenda items to the outcome a meeting must have released
	// to them by then.
	Released map[string]string `yaml:"released"`
}

// StartExpect is a process a start step must have started: its definition and,
// when Input is given, the values of those input fields (fields not named are
// not checked), so a scenario proves what a start step's input mapping gives.
type StartExpect struct {
	Process string         `yaml:"process"`
	Input   map[string]any `yaml:"input"`
}

// UnmarshalYAML reads a definition name or a {process, input} mapping,
// refusing unknown keys like the rest of the file.
func (s *StartExpect) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&s.Process)
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: started: want a process name or {process, input}", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k != "process" && k != "input" {
			return fmt.Errorf("line %d: started: field %s not found: want process and input", n.Content[i].Line, k)
		}
	}
	type plain StartExpect
	if err := n.Decode((*plain)(s)); err != nil {
		return err
	}
	if s.Process == "" {
		return fmt.Errorf("line %d: started: name the process", n.Line)
	}
	return nil
}

// SLAExpect is what must hold of one SLA clock.
type SLAExpect struct {
	Status   string `yaml:"status"`
	Breached *bool  `yaml:"breached"`
	Due      string `yaml:"due"`
}

var defaultStart = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// Load reads a scenario file strictly: an unknown key is an error with its line.
func Load(path string) (*File, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src)
}

// Parse reads scenario tests from src as Load reads a file named path (the
// definition under test defaults to the one beside it); the console runs a
// draft's tests this way, with the draft itself as the definition.
func Parse(path string, src []byte) (*File, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.path = path
	if f.Definition == "" {
		f.Definition = strings.TrimSuffix(filepath.Base(path), ".test.yaml") + ".yaml"
	}
	if len(f.Tests) == 0 {
		return nil, fmt.Errorf("%s: no tests", path)
	}
	return &f, nil
}

// DefinitionPath is the definition file under test.
func (f *File) DefinitionPath() string { return filepath.Join(filepath.Dir(f.path), f.Definition) }

// offset reads a step offset: a duration such as 40m or 1d2h, or 0.
func offset(s string) (time.Duration, error) {
	if s == "" || s == "0" || s == "0s" {
		return 0, nil
	}
	d, err := engine.ParseDuration(s)
	return time.Duration(d), err
}

func (t Test) start() (time.Time, error) {
	if t.Start == "" {
		return defaultStart, nil
	}
	return time.Parse(time.RFC3339, t.Start)
}
