package console

import (
	"slices"
	"testing"
)

func TestCISections(t *testing.T) {
	rows := []queueRow{{ID: "change-normal-7"}, {ID: "incident-3"}, {ID: "problem-2"}, {ID: "incident-1"}, {ID: "major-incident-4"}, {ID: "release-5"}}
	defs := []string{"change-normal", "incident", "problem", "incident", "major-incident", "release"}
	got := ciSections(rows, defs)
	var keys []string
	for _, s := range got {
		keys = append(keys, s.Key)
	}
	t.Run("IncidentsProblemsChangesThenOther", func(t *testing.T) {
		if !slices.Equal(keys, []string{sectionIncidents, sectionProblems, sectionChanges, sectionOther}) {
			t.Fatalf("sections %v", keys)
		}
	})
	t.Run("KeepsTheNewestFirstOrderWithinASection", func(t *testing.T) {
		if ids := []string{got[0].Rows[0].ID, got[0].Rows[1].ID, got[0].Rows[2].ID}; !slices.Equal(ids, []string{"incident-3", "incident-1", "major-incident-4"}) {
			t.Fatalf("incidents %v", ids)
		}
	})
	t.Run("LeavesOutEmptySections", func(t *testing.T) {
		if s := ciSections(rows[1:2], defs[1:2]); len(s) != 1 || s[0].Key != sectionIncidents {
			t.Fatalf("%+v", s)
		}
	})
}
