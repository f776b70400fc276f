package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
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
	url := pgtest.NewDatabase(t)
	st, err := store.Open(ctx, url, store.WithAuditKey(testAuditKeyBytes()))
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

	// What the warning says to do publishes the file, and the next start is quiet.
	if err := run(ctx, []string{"definitions", "publish", file}, env(map[string]string{"DATABASE_URL": url, "USER": "olga", "ITILFLOW_AUDIT_KEY": testAuditKey}), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if log := startServer(t, st, dir); log != "" {
		t.Fatalf("start after the file was published by hand logged:\n%s", log)
	}
	if d, err := st.Definition(ctx, "quick", 0); err != nil || d.Version != 3 || d.PublishedBy != "olga" || d.Origin != store.OriginCLI || d.File != file {
		t.Fatalf("the latest quick is %+v (%v), want olga's v3 from %s", d, err, file)
	}
}

// TestDefinitionsCommand manages definitions as an operator of serve does.
func TestDefinitionsCommand(t *testing.T) {
	ctx := context.Background()
	url, vars := migratedDatabase(t, map[string]string{"USER": "olga"})
	definitions := func(t *testing.T, args ...string) (string, string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(ctx, append([]string{"definitions"}, args...), vars, &out, &errOut)
		return out.String(), errOut.String(), err
	}
	dir, elsewhere := t.TempDir(), t.TempDir()
	write := func(dir, name, src string) string {
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return file
	}
	cals, err := os.ReadFile("../../definitions/" + calendarsFile)
	if err != nil {
		t.Fatal(err)
	}
	write(dir, calendarsFile, string(cals))
	onSite := strings.Replace(strings.Replace(quickDefinition, "name: quick", "name: onsite", 1), "title: Quick check", "title: On site\ncalendar: 5x8", 1)
	onSiteFile, quickFile := write(dir, "onsite.yaml", onSite), write(dir, "quick.yaml", quickDefinition)

	t.Run("PublishesWithTheCalendarsBesideTheFile", func(t *testing.T) {
		out, _, err := definitions(t, "publish", onSiteFile, quickFile)
		if err != nil || !strings.Contains(out, "published onsite v1 from "+onSiteFile) || !strings.Contains(out, "published quick v1 from "+quickFile) {
			t.Fatalf("publish: %v\n%s", err, out)
		}
	})
	t.Run("PublishesNothingWhenAFileHasProblems", func(t *testing.T) {
		alone := write(elsewhere, "onsite.yaml", strings.Replace(onSite, "title: On site", "title: On site, again", 1))
		changed := write(dir, "quick.yaml", strings.Replace(quickDefinition, "target: 2s", "target: 1h", 1))
		_, errOut, err := definitions(t, "publish", changed, alone)
		if err == nil || !strings.Contains(errOut, alone+":") || !strings.Contains(errOut, "5x8") || !strings.Contains(err.Error(), "nothing published") {
			t.Fatalf("publish with an unknown calendar: %v\n%s", err, errOut)
		}
	})
	t.Run("PublishesAsTheGivenPerson", func(t *testing.T) {
		out, _, err := definitions(t, "publish", "--by", "ana", quickFile)
		if err != nil || !strings.Contains(out, "published quick v2") {
			t.Fatalf("publish --by: %v\n%s", err, out)
		}
		out, _, err = definitions(t, "publish", quickFile)
		if err != nil || !strings.Contains(out, "quick: "+quickFile+" is already v2 (published by ana); nothing published") {
			t.Fatalf("publish unchanged: %v\n%s", err, out)
		}
	})
	list := func(t *testing.T) []string {
		t.Helper()
		out, _, err := definitions(t, "list")
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSpace(out), "\n")
	}
	t.Run("ListsOriginPublisherAndRetirement", func(t *testing.T) {
		lines := list(t)
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") ||
			!strings.HasPrefix(strings.Join(strings.Fields(lines[2]), " "), "quick 2 cli "+quickFile+" ana ") || !strings.HasSuffix(lines[2], " no") {
			t.Fatalf("list:\n%s", strings.Join(lines, "\n"))
		}
	})
	t.Run("RetiresWithAReason", func(t *testing.T) {
		if _, _, err := definitions(t, "retire", "quick"); engine.ErrorCode(err) != engine.EINVALID {
			t.Fatalf("retire without a reason: %v", err)
		}
		out, _, err := definitions(t, "retire", "quick", "--reason", "replaced by onsite")
		if err != nil || !strings.Contains(out, "quick retired by olga") {
			t.Fatalf("retire: %v\n%s", err, out)
		}
		if _, _, err := definitions(t, "retire", "quick", "--reason", "again"); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("retire twice: %v", err)
		}
		if line := list(t)[2]; !strings.Contains(line, " by olga at ") || !strings.HasSuffix(line, ": replaced by onsite") {
			t.Fatalf("list of a retired definition: %s", line)
		}
	})
	t.Run("PublishingDoesNotReinstate", func(t *testing.T) {
		changed := write(dir, "quick.yaml", strings.Replace(quickDefinition, "target: 2s", "target: 5s", 1))
		out, errOut, err := definitions(t, "publish", changed)
		if err != nil || !strings.Contains(out, "published quick v3") || !strings.Contains(errOut, "retired by olga") || !strings.Contains(errOut, "itilflow definitions reinstate quick") {
			t.Fatalf("publish a retired definition: %v\n%s%s", err, out, errOut)
		}
	})
	t.Run("Reinstates", func(t *testing.T) {
		out, _, err := definitions(t, "reinstate", "quick")
		if err != nil || !strings.Contains(out, "quick reinstated by olga") || !strings.HasSuffix(list(t)[2], " no") {
			t.Fatalf("reinstate: %v\n%s", err, out)
		}
		if _, _, err := definitions(t, "reinstate", "quick"); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("reinstate twice: %v", err)
		}
	})
	t.Run("EveryChangeIsAudited", func(t *testing.T) {
		st, err := store.Open(ctx, url, store.WithAuditKey(testAuditKeyBytes()))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var actors []string
		for _, action := range []string{store.AuditPublish, store.AuditRetire, store.AuditReinstate} {
			recs, err := st.Audit(ctx, store.AuditFilter{Action: action, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				actors = append(actors, r.Action+" "+r.Actor)
			}
		}
		want := []string{"publish_definition olga", "publish_definition olga", "publish_definition ana", "publish_definition olga",
			"retire_definition olga", "reinstate_definition olga"}
		if strings.Join(actors, ", ") != strings.Join(want, ", ") {
			t.Fatalf("audit records %v, want %v", actors, want)
		}
	})
	t.Run("RefusesBadUse", func(t *testing.T) {
		for _, args := range [][]string{{}, {"publish"}, {"retire"}, {"retire", "--reason", "x"}, {"remove", "quick"}, {"publish", "--by", " ", quickFile}} {
			if _, _, err := definitions(t, args...); err == nil {
				t.Errorf("definitions %v: no error", args)
			}
		}
	})
}

// TestStartKeepsAFilePublishedBeforeARuleRefusedIt: a definition published when
// "2d" was still allowed in a business calendar does not stop the start while
// its file is unchanged; the start says what to fix. A changed file is refused.
func TestStartKeepsAFilePublishedBeforeARuleRefusedIt(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t), store.WithAuditKey(testAuditKeyBytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	calendars, err := loadCalendars("../../definitions/calendars.yaml")
	if err != nil {
		t.Fatal(err)
	}
	business := strings.Replace(quickDefinition, "title: Quick check\n", "title: Quick check\ncalendar: 5x8\n", 1)
	old := strings.Replace(business, "target: 2s", "target: 2d", 1)
	// What an earlier release compiled "2d" to: 48 business hours.
	compiled, err := engine.ParseWith([]byte(strings.Replace(business, "target: 2s", "target: 48h", 1)), calendars)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.PublishFile(ctx, compiled, []byte(old), "quick.yaml"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "quick.yaml")
	start := func(src string) (string, error) {
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		var logged bytes.Buffer
		err := publishDefinitions(ctx, st, dir, calendars, slog.New(slog.NewTextHandler(&logged, nil)))
		return logged.String(), err
	}
	log, err := start(old)
	if err != nil {
		t.Fatalf("the start stopped on a file published before the rule: %v", err)
	}
	for _, want := range []string{"level=WARN", "name=quick version=1", "write 2wd for 2 working days, or 16h for 16 business hours"} {
		if !strings.Contains(log, want) {
			t.Errorf("the warning does not say %q:\n%s", want, log)
		}
	}
	changed := strings.Replace(old, "title: Quick check", "title: Quick", 1)
	if _, err := start(changed); err == nil || !strings.Contains(err.Error(), `quick.yaml:14:13: slas.response.target: invalid duration "2d"`) {
		t.Fatalf("a changed file with 2d in 5x8: %v", err)
	}
	if d, err := st.Definition(ctx, "quick", 0); err != nil || d.Version != 1 {
		t.Fatalf("the latest quick is v%d (%v), want v1", d.Version, err)
	}
}
