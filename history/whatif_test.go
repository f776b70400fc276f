package history_test

import (
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

func TestWhatIfUnderTheSameDefinitionChangesNothing(t *testing.T) {
	for name, rec := range goldenRecords(t) {
		h := rec.Horizon(time.Now())
		got, err := rec.WhatIf(&rec.Start.Definition, h)
		if err != nil {
			t.Fatal(err)
		}
		if diff := rec.Actual(h).Diff(got); len(diff) > 0 {
			t.Errorf("%s: the definition it ran gives another outcome: %v", name, diff)
		}
	}
}

// TestWhatIfShowsTheEffectOfATighterTarget cuts the resolution target to one
// second: the incident that was resolved after about a second and a half would
// have breached it.
func TestWhatIfShowsTheEffectOfATighterTarget(t *testing.T) {
	recs := goldenRecords(t)
	rec := recs["incident-breach-autoclose.json"]
	def := rec.Start.Definition
	def.SLAs = append([]engine.SLA(nil), def.SLAs...)
	for i := range def.SLAs {
		if def.SLAs[i].Name == "resolution" {
			targets := append([]engine.Target(nil), def.SLAs[i].Targets...)
			for j := range targets {
				targets[j].Target = engine.Duration(time.Second)
			}
			def.SLAs[i].Targets = targets
		}
	}
	h := rec.Horizon(time.Now())
	got, err := rec.WhatIf(&def, h)
	if err != nil {
		t.Fatal(err)
	}
	diff := strings.Join(rec.Actual(h).Diff(got), "; ")
	if !strings.Contains(diff, "breached [response] → [resolution,response]") {
		t.Fatalf("diff %q, want the resolution breach that a 1s target causes", diff)
	}
}

func TestWhatIfReportsActionsTheProposalRefuses(t *testing.T) {
	rec := goldenRecords(t)["incident-pause-resume.json"]
	def := rec.Start.Definition
	def.States = append([]engine.State(nil), def.States...)
	for i := range def.States {
		if def.States[i].Name == "in_progress" {
			var keep []engine.Action
			for _, a := range def.States[i].Actions {
				if a.Name != "wait_for_customer" {
					keep = append(keep, a)
				}
			}
			def.States[i].Actions = keep
		}
	}
	got, err := rec.WhatIf(&def, rec.Horizon(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Refused) == 0 || !strings.HasPrefix(got.Refused[0], "wait_for_customer") {
		t.Fatalf("refused %v", got.Refused)
	}
}
