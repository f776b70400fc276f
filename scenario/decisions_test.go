package scenario_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/history"
	"github.com/itilflow/itilflow/scenario"
)

// The engine's decisions are pinned per level. A definition is compiled at
// one engine level and keeps it (engine.Definition.Level), so a process of an
// old version must go on deciding as it did when its history was recorded:
// otherwise the history no longer replays. testdata/decisions/level-N.txt
// holds, for every level N the engine has, what each shipped scenario, each
// scenario under testdata/scenarios and each golden history decides when its
// definition is forced to level N. TestDecisionsAtEveryLevel decides them
// again and fails on any difference, so a change of behaviour that forgot its
// level is caught even when no golden history has its shape.

var updateDecisions = flag.Bool("update-decisions", false,
	"record the decisions testdata/decisions does not hold yet (a new level, a new scenario or golden history, a scenario whose inputs changed); never re-record a decision that changed")

const decisionsDir = "../testdata/decisions"

// entry is what one scenario or history decides at one level. Inputs
// fingerprints what it was decided from (the compiled definition, without
// its level, and the scenario or the history), so a scenario that changed is
// told from an engine that did.
type entry struct {
	key    string
	inputs string
	lines  []string
}

// source is a scenario file or a golden history, which it decides at a level.
type source func(t *testing.T, level int) []entry

func TestDecisionsAtEveryLevel(t *testing.T) {
	sources := decisionSources(t)
	var changed []string
	for level := 0; level <= engine.CurrentLevel; level++ {
		t.Run(fmt.Sprintf("Level%d", level), func(t *testing.T) {
			var current []entry
			for _, s := range sources {
				current = append(current, s(t, level)...)
			}
			changed = append(changed, checkDecisions(t, level, current)...)
		})
	}
	if len(changed) > 0 {
		t.Errorf(`the engine now decides differently at a level it has already shipped:

%s

Definitions published at that level, and the processes that run them, would
change behaviour, and their histories would no longer replay (CONTRIBUTING.md,
"The patching rule"). Gate the change instead: add a Level… constant in
engine/definition.go, raise CurrentLevel, branch on def.Level >= it, and record
the new level with
    go test ./scenario -run TestDecisionsAtEveryLevel -update-decisions
which never re-records what an existing level decides.`, strings.Join(changed, "\n\n"))
	}
}

// checkDecisions compares what the engine decides at level with what
// testdata/decisions records, reporting each difference (returned, for one
// explanation at the end) and what is missing or stale; with
// -update-decisions it records what is missing or stale instead.
func checkDecisions(t *testing.T, level int, current []entry) (changed []string) {
	path := filepath.Join(decisionsDir, fmt.Sprintf("level-%d.txt", level))
	recorded, err := readDecisions(path)
	if errors.Is(err, fs.ErrNotExist) && !*updateDecisions {
		t.Errorf("%s does not exist: a new level? Record what it decides with -update-decisions", path)
		return nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var out []entry
	var added, stale []string
	for _, now := range current {
		was, ok := recorded[now.key]
		delete(recorded, now.key)
		switch {
		case !ok:
			added = append(added, now.key)
			out = append(out, now)
		case was.inputs != now.inputs:
			stale = append(stale, now.key)
			out = append(out, now)
		default:
			if d := firstDifference(was.lines, now.lines); d != "" {
				changed = append(changed, fmt.Sprintf("level %d, %s: %s", level, now.key, d))
			}
			out = append(out, was) // never re-recorded
		}
	}
	gone := make([]string, 0, len(recorded))
	for key := range recorded {
		gone = append(gone, key)
	}
	slices.Sort(gone)
	if len(added)+len(stale)+len(gone) == 0 {
		return changed
	}
	if !*updateDecisions {
		for _, key := range added {
			t.Errorf("%s: not recorded for level %d: record it with -update-decisions", key, level)
		}
		for _, key := range stale {
			t.Errorf("%s: its definition or scenario changed since its decisions at level %d were recorded: record them again with -update-decisions (a changed scenario is not a change of the engine)", key, level)
		}
		for _, key := range gone {
			t.Errorf("%s: recorded for level %d but no longer run: renamed or removed? -update-decisions forgets it", key, level)
		}
		return changed
	}
	if err := writeDecisions(path, level, out); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: recorded %d new, %d changed scenarios; forgot %d", path, len(added), len(stale), len(gone))
	return changed
}

// firstDifference describes the first event where two decision lists differ,
// or returns "".
func firstDifference(recorded, now []string) string {
	for i := 0; i < max(len(recorded), len(now)); i++ {
		was, is := "(nothing)", "(nothing)"
		if i < len(recorded) {
			was = recorded[i]
		}
		if i < len(now) {
			is = now[i]
		}
		if was != is {
			return fmt.Sprintf("event %d differs\n  recorded: %s\n  now:      %s", i+1, was, is)
		}
	}
	return ""
}

// decisionSources are the shipped scenario files, those under
// testdata/scenarios, and the golden histories, in a stable order.
func decisionSources(t *testing.T) []source {
	var out []source
	for _, glob := range []string{"../definitions/*.test.yaml", "../testdata/scenarios/*.test.yaml"} {
		files, _ := filepath.Glob(glob)
		if len(files) == 0 {
			t.Fatalf("no scenario files in %s", glob)
		}
		for _, file := range files {
			out = append(out, scenarioSource(t, file))
		}
	}
	files, _ := filepath.Glob("../testdata/histories/*.json")
	if len(files) == 0 {
		t.Fatal("no golden histories")
	}
	chains, err := history.ReadFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(chains))
	for name := range chains {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		out = append(out, historySource(t, "../testdata/histories/"+name, chains[name]))
	}
	return out
}

// scenarioSource runs each scenario of file with its definition forced to
// the level; what the scenario expects is not checked (it holds at the
// current level only).
func scenarioSource(t *testing.T, file string) source {
	f, def := load(t, file)
	name := strings.TrimPrefix(filepath.ToSlash(file), "../")
	unlevelled := *def
	unlevelled.Level = 0
	return func(t *testing.T, level int) []entry {
		at := *def
		at.Level = level
		var out []entry
		for i, r := range f.Run(&at) {
			lines := decisionLines(r.Events)
			for _, msg := range r.Failures {
				if strings.HasPrefix(msg, "the process failed") {
					lines = append(lines, "! "+msg)
				}
			}
			key := name + ": " + r.Name
			if slices.ContainsFunc(out, func(e entry) bool { return e.key == key }) {
				t.Fatalf("%s: two scenarios are named %q: the decisions test tells them apart by name", name, r.Name)
			}
			out = append(out, entry{key: key, inputs: fingerprint(unlevelled, f.Webhooks, f.Directory, withoutExpectations(f.Tests[i])), lines: lines})
		}
		return out
	}
}

// withoutExpectations is what a scenario does, not what it checks: a changed
// expectation changes no decision.
func withoutExpectations(t scenario.Test) scenario.Test {
	t.Steps = slices.Clone(t.Steps)
	for i := range t.Steps {
		t.Steps[i].Expect = nil
	}
	return t
}

// historySource decides again what a golden history's process decided — all
// its runs, when it continued as new — from what came from outside it
// (actions, the outcomes of its effects), with its definition forced to the
// level.
func historySource(t *testing.T, file string, chain history.Chain) source {
	rec, err := history.Decode(chain.Runs...)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var src string
	for _, f := range chain.Files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src += string(b)
	}
	key := strings.TrimPrefix(filepath.ToSlash(file), "../")
	return func(t *testing.T, level int) []entry {
		return []entry{{key: key, inputs: fingerprint(src), lines: redecide(rec, level)}}
	}
}

// redecide runs the engine over a recorded process as engine.Rebuild does,
// without comparing: at another level it may decide otherwise. What it could
// not apply is listed after the events.
func redecide(rec history.Record, level int) []string {
	def := rec.Start.Definition
	def.Level = level
	first := rec.Events[0]
	in, err := engine.Start(&def, rec.Start.ID, rec.Start.Version, rec.Start.Input, engine.Actor{ID: first.Actor}, first.RequestID, first.At)
	if err != nil {
		return []string{"! the recorded start is refused: " + err.Error()}
	}
	var lines []string
	for _, e := range rec.Events {
		if err := in.ApplyRecorded(&def, e); err != nil {
			lines = append(lines, fmt.Sprintf("! recorded %s at %s cannot be applied: %v", e.Type, offset(first.At, e.At), err))
		}
	}
	in.Advance(&def, rec.Events[len(rec.Events)-1].At)
	return append(decisionLinesFrom(first.At, in.Pending), lines...)
}

func decisionLines(events []engine.Event) []string {
	if len(events) == 0 {
		return nil
	}
	return decisionLinesFrom(events[0].At, events)
}

// decisionLinesFrom writes one line per event: when (from the start), what,
// who, and its data as JSON with sorted keys. Seq is the line's place and
// request ids are not decisions.
func decisionLinesFrom(start time.Time, events []engine.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s", offset(start, e.At), e.Type)
		if e.Action != "" {
			b.WriteString(" " + e.Action)
		}
		if e.From != "" || e.To != "" {
			fmt.Fprintf(&b, " %s→%s", e.From, e.To)
		}
		if e.SLA != "" {
			b.WriteString(" sla=" + e.SLA)
		}
		if e.Actor != engine.System.ID {
			b.WriteString(" by=" + e.Actor)
		}
		if e.Comment != "" {
			fmt.Fprintf(&b, " comment=%q", e.Comment)
		}
		if len(e.Data) > 0 {
			b.WriteString(" " + canonicalJSON(e.Data))
		}
		out[i] = b.String()
	}
	return out
}

func offset(start, at time.Time) string { return "+" + engine.Duration(at.Sub(start)).String() }

// canonicalJSON writes v as JSON once it has been through JSON, as events
// that crossed the projection activity have: the same data reads the same
// whichever way it came.
func canonicalJSON(v any) string {
	b, _ := json.Marshal(v)
	var plain any
	_ = json.Unmarshal(b, &plain)
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(plain)
	return strings.TrimSpace(out.String())
}

func fingerprint(parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		b, _ := json.Marshal(p)
		h.Write(b)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// readDecisions reads a level's file: entries headed "=== key", then
// "# inputs <fingerprint>", then one line per event.
func readDecisions(path string) (map[string]entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]entry{}
	var cur *entry
	flush := func() {
		if cur != nil {
			out[cur.key] = *cur
		}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "=== "):
			flush()
			cur = &entry{key: strings.TrimPrefix(line, "=== ")}
		case cur == nil || line == "":
		case strings.HasPrefix(line, "# inputs "):
			cur.inputs = strings.TrimPrefix(line, "# inputs ")
		default:
			cur.lines = append(cur.lines, line)
		}
	}
	flush()
	return out, sc.Err()
}

func writeDecisions(path string, level int, entries []entry) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, `# What the engine decides at level %d (engine.Definition.Level): every
# scenario and golden history run with its definition forced to this level.
# Recorded by go test ./scenario -run TestDecisionsAtEveryLevel -update-decisions,
# which never changes what is recorded here; do not edit by hand. A diff of
# two levels' files shows what the newer level changed.
`, level)
	for _, e := range entries {
		fmt.Fprintf(&b, "\n=== %s\n# inputs %s\n", e.key, e.inputs)
		for _, l := range e.lines {
			b.WriteString(l + "\n")
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
