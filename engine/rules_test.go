package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

const ruleDefinition = `name: fault
input:
  ci: {type: ci}
  note: {type: string}
variables:
  seen: {type: list}
initial: open
states:
  open: {actions: {close: {to: closed}}}
  closed: {final: true}
rules:
  repeated:
    count: {process: fault, ci: CIFIELD, within: 30d}
    at_least: AT
    into: seen
    do:
      - start: {process: problem, once: "= 'rep/' + input.ci + '/' + vars.seen[0]", input: {incidents: "= vars.seen"}}
      - {notify: {role: service-manager}, when: "size(vars.seen) >= 4"}
`

func ruleDef(ciField, atLeast string) string {
	return strings.NewReplacer("CIFIELD", ciField, "AT", atLeast).Replace(ruleDefinition)
}

func TestRules(t *testing.T) {
	t.Run("RefusesACountOnAFieldThatIsNotACI", func(t *testing.T) {
		if _, err := engine.Parse([]byte(ruleDef("note", "3"))); err == nil || !strings.Contains(err.Error(), `count ci names "note", which is not an input field of type ci`) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("CountsWithinInWallClockTimeWhateverTheCalendar", func(t *testing.T) {
		src := strings.Replace(ruleDef("ci", "3"), "name: fault\n", "name: fault\ncalendar: 5x8\n", 1)
		cals, err := engine.ParseCalendars([]byte("calendars:\n  5x8:\n    timezone: UTC\n    hours: {mon: [09:00-17:00], tue: [09:00-17:00], wed: [09:00-17:00], thu: [09:00-17:00], fri: [09:00-17:00]}\n"))
		if err != nil {
			t.Fatal(err)
		}
		def, err := engine.ParseWith([]byte(src), cals)
		if err != nil {
			t.Fatal(err)
		}
		if got := time.Duration(def.Rules[0].Count.Within); got != 30*24*time.Hour {
			t.Fatalf("within %v, want 720h", got)
		}
		if _, err := engine.ParseWith([]byte(strings.Replace(src, "within: 30d", "within: 20wd", 1)), cals); err == nil || !strings.Contains(err.Error(), "working days") {
			t.Fatalf("within in working days: %v", err)
		}
	})
	t.Run("RefusesAThresholdBelowTwo", func(t *testing.T) {
		if _, err := engine.Parse([]byte(ruleDef("ci", "1"))); err == nil || !strings.Contains(err.Error(), "at_least counts this process too") {
			t.Fatalf("%v", err)
		}
	})
	def, err := engine.Parse([]byte(ruleDef("ci", "3")))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	start := func(t *testing.T, ci string) *engine.Instance {
		in, err := engine.Start(def, "fault-3", 1, map[string]any{"ci": ci}, engine.Actor{ID: "ann"}, "", now)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	t.Run("AsksForTheCountOnlyWithAnItem", func(t *testing.T) {
		if in := start(t, "sw-1"); len(in.Effects) != 1 || in.Effects[0].Count == nil || !in.Effects[0].Count.Since.Equal(now.Add(-30*24*time.Hour)) {
			t.Fatalf("%+v", in.Effects)
		}
		in, err := engine.Start(def, "fault-4", 1, map[string]any{}, engine.Actor{ID: "ann"}, "", now)
		if err != nil || len(in.Effects) != 0 {
			t.Fatalf("%+v %v", in.Effects, err)
		}
	})
	t.Run("FiresOnTheThirdWithOneNameForTheOccurrence", func(t *testing.T) {
		in := start(t, "sw-1")
		in.CompleteCount(def, in.Effects[0].ID, []string{"fault-1", "fault-2"}, "", now.Add(time.Second))
		if len(in.Effects) != 1 || in.Effects[0].Start == nil || in.Effects[0].Start.Once != "rep/sw-1/fault-1" {
			t.Fatalf("%+v", in.Effects)
		}
		if got := in.Effects[0].Start.Input["incidents"]; len(got.([]any)) != 3 {
			t.Fatalf("incidents %v", got)
		}
	})
	t.Run("DoesNotFireOnTheSecond", func(t *testing.T) {
		in := start(t, "sw-1")
		in.CompleteCount(def, in.Effects[0].ID, []string{"fault-1"}, "", now.Add(time.Second))
		if len(in.Effects) != 0 {
			t.Fatalf("%+v", in.Effects)
		}
		last := in.Pending[len(in.Pending)-1]
		if last.Type != engine.EventRuleEvaluated || last.Data["fired"] != false || last.Data["count"] != 2 {
			t.Fatalf("%+v", last)
		}
	})
	t.Run("StepsRunOnlyWhenTheirConditionHolds", func(t *testing.T) {
		notified := func(in *engine.Instance) bool {
			for _, e := range in.Pending {
				if e.Type == engine.EventNotification && e.Data["role"] == "service-manager" {
					return true
				}
			}
			return false
		}
		in := start(t, "sw-1")
		in.CompleteCount(def, in.Effects[0].ID, []string{"fault-1", "fault-2"}, "", now.Add(time.Second))
		if notified(in) {
			t.Fatal("the fourth-fault step ran on the third")
		}
		in = start(t, "sw-1")
		in.CompleteCount(def, in.Effects[0].ID, []string{"fault-0", "fault-1", "fault-2"}, "", now.Add(time.Second))
		if !notified(in) {
			t.Fatal("the fourth-fault step did not run on the fourth")
		}
	})
	t.Run("RefusesAStepThatIsOnlyACondition", func(t *testing.T) {
		src := strings.Replace(ruleDef("ci", "3"), `      - {notify: {role: service-manager}, when: "size(vars.seen) >= 4"}`, `      - {when: "true"}`, 1)
		if _, err := engine.Parse([]byte(src)); err == nil || !strings.Contains(err.Error(), "a step has exactly one of") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("RefusesAConditionThatIsNotBool", func(t *testing.T) {
		src := strings.Replace(ruleDef("ci", "3"), `when: "size(vars.seen) >= 4"`, `when: "size(vars.seen)"`, 1)
		if _, err := engine.Parse([]byte(src)); err == nil || !strings.Contains(err.Error(), "when") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("RecordsAFailedCount", func(t *testing.T) {
		in := start(t, "sw-1")
		in.CompleteCount(def, in.Effects[0].ID, nil, "database down", now.Add(time.Second))
		if last := in.Pending[len(in.Pending)-1]; last.Type != engine.EventStepFailed {
			t.Fatalf("%+v", last)
		}
	})
}
