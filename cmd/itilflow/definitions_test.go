package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/pgcluster/pgtest"
	"github.com/itilflow/itilflow/store"
)

// TestDevKeepsWhatProcessOwnersDo runs dev as a process owner uses it: a version
// published through the API survives a restart of dev, whose definitions
// directory still has the shipped text; retiring a definition stops new
// processes but not the running ones.
func TestDevKeepsWhatProcessOwnersDo(t *testing.T) {
	cfg := newDevConfig(t)
	stop := startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	running := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "printer on fire"}})["id"].(string)
	src, err := os.ReadFile("../../definitions/incident.yaml")
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "title: Incident\n", "title: Incident (edited by the process owner)\n", 1)
	pub := c.must(201, "PUT", "/api/v1/definitions/incident", "dev-process-owner", edited)
	stop()
	startInProcess(t, cfg)

	t.Run("RestartAfterAPIPublishKeepsAPIVersionCurrent", func(t *testing.T) {
		c := apiClient{t: t, base: cfg.httpAddr}
		d := c.must(200, "GET", "/api/v1/definitions/incident", "dev-auditor", nil)
		if d["version"] != pub["version"] || d["hash"] != pub["hash"] || d["published_by"] != "pat.owner" || d["origin"] != store.OriginAPI {
			t.Fatalf("after a restart the latest incident is v%v %v by %v (%v), want the API's v%v %v",
				d["version"], d["hash"], d["published_by"], d["origin"], pub["version"], pub["hash"])
		}
	})
	t.Run("RetiredDefinitionStartsNothingWhileRunningProcessesAct", func(t *testing.T) {
		c := apiClient{t: t, base: cfg.httpAddr}
		c.must(200, "POST", "/api/v1/definitions/incident/retire", "dev-process-owner", map[string]any{"reason": "replaced by major-incident"})
		status, refused := c.call("POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "too late"}})
		if msg := fmt.Sprint(refused["error"]); status != 409 || !strings.Contains(msg, "retired by pat.owner") || !strings.Contains(msg, "replaced by major-incident") {
			t.Fatalf("start of a retired definition: %d %v", status, refused)
		}
		if p := c.must(200, "POST", "/api/v1/processes/"+running+"/actions/acknowledge", "dev-tier1", nil); p["state"] != "in_progress" {
			t.Fatalf("the running incident after the retirement: %v", p)
		}
		c.must(200, "POST", "/api/v1/definitions/incident/reinstate", "dev-admin", nil)
		if p := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "back"}}); p["version"] != pub["version"] {
			t.Fatalf("started after reinstatement: %v", p)
		}
	})
}

// startServer publishes the definitions directory dir as a start of dev or
// serve does, and returns what it logged.
func startServer(t *testing.T, st *store.Store, dir string) string {
	t.Helper()
	var logged bytes.Buffer
	if err := publishDefinitions(context.Background(), st, dir, nil, slog.New(slog.NewTextHandler(&logged, nil))); err != nil {
		t.Fatal(err)
	}
	return logged.String()
}

// TestStartWarnsOfAFileHeldBack changes a shipped file after a person published
// its definition: the start publishes nothing and says what to do.
func TestStartWarnsOfAFileHeldBack(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "quick.yaml")
	write := func(src string) {
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(quickDefinition)
	if log := startServer(t, st, dir); !strings.Contains(log, `msg="published definition" name=quick version=1`) {
		t.Fatalf("first start logged:\n%s", log)
	}
	edited := strings.Replace(quickDefinition, "target: 2s", "target: 1h", 1)
	def, err := engine.Parse([]byte(edited))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.PublishDefinition(ctx, def, []byte(edited), "pat.owner", "req-1"); err != nil {
		t.Fatal(err)
	}
	if log := startServer(t, st, dir); strings.Contains(log, "WARN") || strings.Contains(log, "published definition") {
		t.Fatalf("start with the file unchanged logged:\n%s", log)
	}
	changed := strings.Replace(quickDefinition, "title: Quick check", "title: Quick", 1)
	write(changed)
	log := startServer(t, st, dir)
	for _, want := range []string{"level=WARN", "name=quick version=2 published_by=pat.owner origin=api", "file=" + file,
		"file_hash=" + store.SourceHash([]byte(changed)), `publish_anyway="itilflow definitions publish ` + file} {
		if !strings.Contains(log, want) {
			t.Errorf("the warning does not name %q:\n%s", want, log)
		}
	}
	if d, err := st.Definition(ctx, "quick", 0); err != nil || d.Version != 2 || d.PublishedBy != "pat.owner" {
		t.Fatalf("the latest quick is v%d by %s (%v), want pat.owner's v2", d.Version, d.PublishedBy, err)
	}
}
