package workflows_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/workflows"
)

// Golden histories are recorded from the real stack by
// `go test ./cmd/itilflow -run TestGoldenHistories -update-golden`. Replaying them
// here, on every test run, makes a change to workflow code that would break
// running processes fail the build. See CONTRIBUTING.md for the patching rule.
func goldenHistories(t *testing.T) []string {
	files, err := filepath.Glob("../testdata/histories/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("found %d golden histories, want at least 4", len(files))
	}
	return files
}

var quiet = sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))

func readHistory(t *testing.T, file string) *historypb.History {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestGoldenHistoriesReplay(t *testing.T) {
	for _, file := range goldenHistories(t) {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			if err := workflows.Replay(quiet, readHistory(t, file)); err != nil {
				t.Fatalf("history no longer replays: %v", err)
			}
		})
	}
}

// TestReplayDetectsNonDeterministicChange introduces the kind of change that breaks
// running workflows — here, an extra activity before the interpreter starts — and
// requires every golden history to reject it. (Not an extra timer: a run
// that continued as new starts with one, and the replayer does not compare
// their durations.)
func TestReplayDetectsNonDeterministicChange(t *testing.T) {
	changed := func(ctx workflow.Context, in workflows.Input) (engine.View, error) {
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Second})
		if err := workflow.ExecuteActivity(actx, "Changed").Get(ctx, nil); err != nil {
			return engine.View{}, err
		}
		return workflows.Process(ctx, in)
	}
	for _, file := range goldenHistories(t) {
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflowWithOptions(changed, workflow.RegisterOptions{Name: workflows.ProcessType})
		err := r.ReplayWorkflowHistoryFromJSONFile(quiet, file)
		// TMPRL1100 is the SDK's code for non-determinism; some mismatches
		// are reported by it without the word.
		if err == nil || !(strings.Contains(strings.ToLower(err.Error()), "nondetermin") || strings.Contains(err.Error(), "TMPRL1100")) {
			t.Errorf("%s: replay of a changed workflow gave %v, want a non-determinism error", filepath.Base(file), err)
		}
	}
}

// TestReplayDetectsChangedDecisions changes what the process decides without
// changing its commands — escalations now notify another role. Temporal's replayer
// alone accepts it; Replay must not, because auditors would see other decisions.
func TestReplayDetectsChangedDecisions(t *testing.T) {
	changed := func(ctx workflow.Context, in workflows.Input) (engine.View, error) {
		for i := range in.Definition.Escalations {
			for j := range in.Definition.Escalations[i].Do {
				if n := in.Definition.Escalations[i].Do[j].Notify; n != nil {
					n.Role = "nobody"
				}
			}
		}
		return workflows.Process(ctx, in)
	}
	register := func(r workflows.Registry) {
		r.RegisterWorkflowWithOptions(changed, workflow.RegisterOptions{Name: workflows.ProcessType})
	}
	file := "../testdata/histories/incident-breach-autoclose.json"

	sdkOnly := worker.NewWorkflowReplayer()
	register(sdkOnly)
	if err := sdkOnly.ReplayWorkflowHistoryFromJSONFile(quiet, file); err != nil {
		t.Fatalf("the SDK replayer was expected to miss this change, but said: %v", err)
	}
	err := workflows.ReplayWith(quiet, readHistory(t, file), register)
	if err == nil || !strings.Contains(err.Error(), "decides differently") || !strings.Contains(err.Error(), `"nobody"`) {
		t.Fatalf("got %v, want the first changed decision named", err)
	}
	t.Log(err)
}
