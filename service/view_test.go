package service

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

func TestAClockNotStartedHasNoStartTime(t *testing.T) {
	started := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	v := engine.View{ID: "change-normal-000001", StartedAt: started, SLAs: []engine.SLAView{
		{Name: "authorisation", Status: "running", StartedAt: started},
		{Name: "implementation", Status: "pending"},
	}}
	b, err := json.Marshal(render(v))
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if strings.Contains(got, "0001-01-01") ||
		!strings.Contains(got, `{"name":"authorisation","status":"running","target":"0s","breached":false,"elapsed":"0s","started_at":"2026-01-05T09:00:00Z"}`) ||
		!strings.Contains(got, `{"name":"implementation","status":"pending","target":"0s","breached":false,"elapsed":"0s"}`) {
		t.Fatalf("rendered %s", got)
	}
	// The engine's view, which the workflow projects, keeps its shape.
	if b, _ := json.Marshal(v); !strings.Contains(string(b), `"started_at":"0001-01-01T00:00:00Z"`) {
		t.Fatalf("engine view %s", b)
	}
}
