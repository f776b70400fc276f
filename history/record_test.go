package history_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/history"
)

func goldenRecords(t *testing.T) map[string]history.Record {
	files, _ := filepath.Glob("../testdata/histories/*.json")
	if len(files) < 4 {
		t.Fatalf("found %d golden histories", len(files))
	}
	chains, err := history.ReadFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]history.Record{}
	for name, chain := range chains {
		rec, err := history.Decode(chain.Runs...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = rec
	}
	return out
}

// TestAsOfAgreesWithTimeline checks, at the instant of every event of every golden
// history, that the reconstructed state agrees with what the timeline says.
func TestAsOfAgreesWithTimeline(t *testing.T) {
	for name, rec := range goldenRecords(t) {
		t.Run(name, func(t *testing.T) {
			tl := rec.Timeline()
			if tl.Definition == "" || tl.Definition != rec.Start.Definition.Name || tl.Version < 1 || len(tl.Entries) != len(rec.Events) {
				t.Fatalf("timeline header %+v with %d entries", tl, len(tl.Entries))
			}
			for _, e := range tl.Entries {
				at := e.At
				v, err := rec.AsOf(at)
				if err != nil {
					t.Fatalf("as of event %d (%s): %v", e.Seq, e.Kind, err)
				}
				// What the timeline says at that instant: everything up to the last
				// entry at or before it.
				var upto []history.Entry
				for _, x := range tl.Entries {
					if !x.At.After(at) {
						upto = append(upto, x)
					}
				}
				lastEntry := upto[len(upto)-1]
				if v.State != lastEntry.State || v.Seq != int64(len(upto)) {
					t.Fatalf("at event %d: as_of says %s after %d events, timeline %s after %d", e.Seq, v.State, v.Seq, lastEntry.State, len(upto))
				}
				for _, sla := range v.SLAs {
					// A clock is pending until its sla_started (at the process start
					// unless its SLA waits for a state or condition).
					status, breached := engine.ClockPending, false
					for _, x := range upto {
						if x.SLA != sla.Name {
							continue
						}
						switch x.Kind {
						case engine.EventSLAStarted:
							status = engine.ClockRunning
						case engine.EventSLAPaused:
							status = engine.ClockPaused
						case engine.EventSLAResumed:
							status = engine.ClockRunning
						case engine.EventSLAStopped:
							status = engine.ClockStopped
						case engine.EventSLABreached:
							breached = true
						}
					}
					if sla.Status != status || sla.Breached != breached {
						t.Fatalf("at event %d: SLA %s as_of %s/breached=%v, timeline %s/breached=%v", e.Seq, sla.Name, sla.Status, sla.Breached, status, breached)
					}
				}
			}
		})
	}
}

func TestAsOfBeforeStartIsNotFound(t *testing.T) {
	for _, rec := range goldenRecords(t) {
		_, err := rec.AsOf(rec.Events[0].At.Add(-time.Second))
		if engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Fatalf("got %v", err)
		}
		return
	}
}

// TestAsOfRefusesARecordThatDisagrees alters a recorded breach time: the engine
// re-derives the true one, and the reconstruction must refuse to answer.
func TestAsOfRefusesARecordThatDisagrees(t *testing.T) {
	rec := goldenRecords(t)["incident-breach-autoclose.json"]
	for i, e := range rec.Events {
		if e.Type == engine.EventSLABreached {
			rec.Events[i].At = e.At.Add(time.Second)
			_, err := rec.AsOf(rec.Events[len(rec.Events)-1].At)
			if engine.ErrorCode(err) != engine.EINTERNAL {
				t.Fatalf("got %v, want a disagreement", err)
			}
			t.Log(err)
			return
		}
	}
	t.Fatal("golden history has no breach")
}

// TestDecodeKeepsTheViewWhileAnEffectIsInFlight cuts the effects history just
// after its webhook activity was scheduled: the view is the last projection's,
// not the webhook's input read as one (which once gave an empty view that
// reconcile would have stored).
func TestDecodeKeepsTheViewWhileAnEffectIsInFlight(t *testing.T) {
	f, err := os.Open("../testdata/histories/golden-effects-parent.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cut := -1
	for i, e := range h.Events {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() != "Project" {
			cut = i
			break
		}
	}
	if cut < 0 {
		t.Fatal("the history has no effect activity")
	}
	h.Events = h.Events[:cut+1]
	rec, err := history.Decode(h)
	if err != nil {
		t.Fatal(err)
	}
	if rec.View.ID == "" || rec.View.State == "" {
		t.Fatalf("view while the webhook is in flight: %+v", rec.View)
	}
}

// TestLocalProjectionsDecode reads an incident lifecycle recorded with
// projections as local activities (tasks-*, whose history holds each
// projection as the local activity's result, not as an activity's input):
// every event of the lifecycle comes back, in order and without a gap, and
// the view of its end.
func TestLocalProjectionsDecode(t *testing.T) {
	rec := goldenRecords(t)["tasks-incident-pause-resume.json"]
	var got []string
	for i, e := range rec.Events {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: the record has a gap", i+1, e.Seq)
		}
		got = append(got, strings.TrimSpace(string(e.Type)+" "+e.Action))
	}
	want := []string{"process_started", "sla_started", "sla_started", "action acknowledge", "sla_stopped",
		"action wait_for_customer", "sla_paused", "action customer_replied", "sla_resumed",
		"action resolve", "sla_stopped", "action waive_knowledge", "action close", "process_ended"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("events\n got: %v\nwant: %v", got, want)
	}
	if rec.View.State != "closed" || rec.View.EndedAt == nil || !rec.Lean {
		t.Fatalf("the view: state %q, ended %v, lean %v", rec.View.State, rec.View.EndedAt, rec.Lean)
	}
}
