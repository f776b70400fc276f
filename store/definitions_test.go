package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/pgcluster/pgtest"
	"github.com/itilflow/itilflow/store"
)

// tinyText is a definition's text; each edit makes a different version.
func tinyText(name, edit string) []byte {
	return []byte("name: " + name + "\ninitial: a\nstates:\n  a: {actions: {go: {to: b}}}\n  b: {final: true}\n# " + edit + "\n")
}

func parse(t *testing.T, src []byte) *engine.Definition {
	t.Helper()
	def, err := engine.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// TestDefinitionSources follows one definition through the starts of a server
// whose definitions directory has tiny.yaml, and the people who publish it by
// hand meanwhile. The subtests run in order, each on what the last left.
func TestDefinitionSources(t *testing.T) {
	s, ctx := open(t), context.Background()
	const file = "definitions/tiny.yaml"
	start := func(t *testing.T, edit string, want store.FileOutcome, wantVersion int) store.Definition {
		t.Helper()
		src := tinyText("tiny", edit)
		d, got, err := s.PublishFile(ctx, parse(t, src), src, file)
		if err != nil || got != want || d.Version != wantVersion {
			t.Fatalf("start with the file at %q: v%d, outcome %d, %v; want v%d, outcome %d", edit, d.Version, got, err, wantVersion, want)
		}
		return d
	}
	versions := func(t *testing.T, want int) {
		t.Helper()
		vs, err := s.DefinitionVersions(ctx, "tiny")
		if err != nil || len(vs) != want {
			t.Fatalf("tiny has %d versions (%v), want %d", len(vs), err, want)
		}
	}

	t.Run("FirstStartPublishesTheFile", func(t *testing.T) {
		d := start(t, "file 1", store.FilePublished, 1)
		if d.Origin != store.OriginFile || d.File != file || d.PublishedBy != store.FilePublisher || d.Hash != store.SourceHash(tinyText("tiny", "file 1")) {
			t.Fatalf("v1: %+v", d)
		}
	})
	t.Run("UnchangedFileCreatesNothing", func(t *testing.T) {
		start(t, "file 1", store.FileUnchanged, 1)
	})
	t.Run("ChangedFileWithNoPersonAfterItIsPublished", func(t *testing.T) {
		start(t, "file 2", store.FilePublished, 2)
	})
	src := tinyText("tiny", "api 3")
	v3, created, err := s.PublishDefinition(ctx, parse(t, src), src, "pat.owner", "req-3")
	if err != nil || !created || v3.Version != 3 || v3.Origin != store.OriginAPI || v3.File != "" {
		t.Fatalf("API publish: %+v %v %v", v3, created, err)
	}
	t.Run("SameFileAfterAPIVersionCreatesNothing", func(t *testing.T) {
		d := start(t, "file 2", store.FileSuperseded, 3)
		if d.PublishedBy != "pat.owner" || d.Origin != store.OriginAPI {
			t.Fatalf("the current version is %+v, want pat.owner's", d)
		}
		versions(t, 3)
	})
	t.Run("ChangedFileAfterAPIVersionIsHeldBack", func(t *testing.T) {
		d := start(t, "file 4", store.FileHeldBack, 3)
		if d.PublishedBy != "pat.owner" || d.Hash != v3.Hash {
			t.Fatalf("the current version is %+v, want pat.owner's", d)
		}
		versions(t, 3)
	})
	t.Run("FileEqualToThePersonsVersionCreatesNothing", func(t *testing.T) {
		start(t, "api 3", store.FileUnchanged, 3)
	})
	t.Run("CommandLineVersionHoldsTheFileBackToo", func(t *testing.T) {
		src := tinyText("tiny", "file 4")
		d, created, err := s.Publish(ctx, parse(t, src), src, store.Publication{Origin: store.OriginCLI, File: "/srv/defs/tiny.yaml", By: "olga", RequestID: "cli"})
		if err != nil || !created || d.Version != 4 || d.Origin != store.OriginCLI || d.File != "/srv/defs/tiny.yaml" || d.PublishedBy != "olga" {
			t.Fatalf("command-line publish: %+v %v %v", d, created, err)
		}
		start(t, "file 4", store.FileUnchanged, 4)
		start(t, "file 5", store.FileHeldBack, 4)
		versions(t, 4)
	})
	t.Run("NamePublishedByAPersonFirstHoldsBackItsFile", func(t *testing.T) {
		src := tinyText("other", "api")
		if _, _, err := s.PublishDefinition(ctx, parse(t, src), src, "pat.owner", "req-o"); err != nil {
			t.Fatal(err)
		}
		file := tinyText("other", "file")
		d, got, err := s.PublishFile(ctx, parse(t, file), file, "definitions/other.yaml")
		if err != nil || got != store.FileHeldBack || d.Version != 1 || d.PublishedBy != "pat.owner" {
			t.Fatalf("file of a name a person published first: %+v outcome %d %v", d, got, err)
		}
	})
	t.Run("OnlyPeoplePublishByHand", func(t *testing.T) {
		src := tinyText("tiny", "file 6")
		_, _, err := s.Publish(ctx, parse(t, src), src, store.Publication{Origin: store.OriginFile, By: "pat.owner"})
		if engine.ErrorCode(err) != engine.EINVALID {
			t.Fatalf("a hand publish as a file: %v", err)
		}
	})
	t.Run("EveryVersionIsAudited", func(t *testing.T) {
		recs, err := s.Audit(ctx, store.AuditFilter{Action: store.AuditPublish, Limit: 10})
		if err != nil || len(recs) != 5 {
			t.Fatalf("publish records %+v %v", recs, err)
		}
		if recs[0].Actor != store.FilePublisher || recs[0].RequestID != "startup" || recs[2].Actor != "pat.owner" || recs[3].Actor != "olga" {
			t.Fatalf("publish records %+v", recs)
		}
	})
}

// TestMigrationBackfillsOrigins applies migration 010 to versions published
// before it: those of the user itilflow came from the definitions directory,
// the others from the API.
func TestMigrationBackfillsOrigins(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// Back to the schema before 010, with two versions published then.
	if _, err := raw.Exec(`DELETE FROM schema_migrations WHERE version = 10;
		DROP TABLE definition_retirements;
		ALTER TABLE definitions DROP COLUMN origin, DROP COLUMN origin_file;
		INSERT INTO definitions (name, version, title, source, hash, compiled, published_by) VALUES
			('tiny', 1, '', 'a', 'sha256:a', '{}', 'itilflow'),
			('tiny', 2, '', 'b', 'sha256:b', '{}', 'pat.owner')`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	vs, err := s.DefinitionVersions(ctx, "tiny")
	if err != nil || len(vs) != 2 || vs[0].Origin != store.OriginAPI || vs[1].Origin != store.OriginFile || vs[1].File != "" {
		t.Fatalf("versions after 010: %+v %v", vs, err)
	}
}

func TestRetireDefinition(t *testing.T) {
	s, ctx := open(t), context.Background()
	src := tinyText("tiny", "1")
	v1, _, err := s.PublishDefinition(ctx, parse(t, src), src, "pat.owner", "req-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("RefusesUnknownNameAndBlankReason", func(t *testing.T) {
		if _, err := s.RetireDefinition(ctx, "nope", "gone", "pat.owner", "r"); engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Errorf("unknown name: %v", err)
		}
		if _, err := s.RetireDefinition(ctx, "tiny", " \n", "pat.owner", "r"); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("blank reason: %v", err)
		}
		if _, err := s.ReinstateDefinition(ctx, "tiny", "pat.owner", "r"); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Errorf("reinstate a definition in force: %v", err)
		}
		if err := s.CheckStartable(ctx, v1); err != nil {
			t.Errorf("a definition in force: %v", err)
		}
	})
	r, err := s.RetireDefinition(ctx, "tiny", " replaced by tiny-2 ", "pat.owner", "req-2")
	if err != nil || r.Name != "tiny" || r.RetiredBy != "pat.owner" || r.Reason != "replaced by tiny-2" || r.RetiredAt.IsZero() {
		t.Fatalf("retire: %+v %v", r, err)
	}
	t.Run("RefusesStartsNamingWhoWhenAndWhy", func(t *testing.T) {
		err := s.CheckStartable(ctx, v1)
		if engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("start of a retired definition: %v", err)
		}
		for _, want := range []string{"pat.owner", r.RetiredAt.UTC().Format("2006-01-02T15:04:05Z"), `"replaced by tiny-2"`, "publishing a new version does not reinstate it"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("refusal %q does not name %s", err, want)
			}
		}
	})
	t.Run("ShowsOnTheDefinition", func(t *testing.T) {
		d, err := s.Definition(ctx, "tiny", 0)
		if err != nil || d.RetiredAt == nil || !d.RetiredAt.Equal(r.RetiredAt) || d.RetiredBy != "pat.owner" || d.RetiredReason != "replaced by tiny-2" {
			t.Fatalf("definition %+v %v", d, err)
		}
		all, err := s.Definitions(ctx)
		if err != nil || len(all) != 1 || all[0].RetiredBy != "pat.owner" {
			t.Fatalf("definitions %+v %v", all, err)
		}
	})
	t.Run("RetiringTwiceNamesTheFirst", func(t *testing.T) {
		_, err := s.RetireDefinition(ctx, "tiny", "again", "ada.admin", "r")
		if engine.ErrorCode(err) != engine.ECONFLICT || !strings.Contains(err.Error(), "pat.owner") {
			t.Fatalf("second retirement: %v", err)
		}
	})
	t.Run("NewVersionDoesNotReinstate", func(t *testing.T) {
		src := tinyText("tiny", "2")
		v2, created, err := s.PublishDefinition(ctx, parse(t, src), src, "pat.owner", "req-3")
		if err != nil || !created {
			t.Fatal(err)
		}
		if err := s.CheckStartable(ctx, v2); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("start of a new version of a retired definition: %v", err)
		}
	})
	t.Run("ReinstateAllowsStartsAgain", func(t *testing.T) {
		back, err := s.ReinstateDefinition(ctx, "tiny", "ada.admin", "req-4")
		if err != nil || back.ReinstatedAt == nil || back.ReinstatedBy != "ada.admin" || back.Reason != r.Reason {
			t.Fatalf("reinstate: %+v %v", back, err)
		}
		if err := s.CheckStartable(ctx, v1); err != nil {
			t.Fatalf("start after reinstatement: %v", err)
		}
		if d, err := s.Definition(ctx, "tiny", 0); err != nil || d.RetiredAt != nil || d.RetiredBy != "" {
			t.Fatalf("definition after reinstatement: %+v %v", d, err)
		}
		if _, err := s.ReinstateDefinition(ctx, "tiny", "ada.admin", "r"); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("second reinstatement: %v", err)
		}
		// It can be retired again: the first retirement stays on record.
		if _, err := s.RetireDefinition(ctx, "tiny", "for good", "pat.owner", "req-5"); err != nil {
			t.Fatalf("retire again: %v", err)
		}
	})
	t.Run("EachChangeIsAudited", func(t *testing.T) {
		retired, err := s.Audit(ctx, store.AuditFilter{Action: store.AuditRetire, Limit: 10})
		if err != nil || len(retired) != 2 || retired[0].Actor != "pat.owner" || retired[0].RequestID != "req-2" || retired[0].Target != "definition:tiny" {
			t.Fatalf("retirement records %+v %v", retired, err)
		}
		back, err := s.Audit(ctx, store.AuditFilter{Action: store.AuditReinstate, Limit: 10})
		if err != nil || len(back) != 1 || back[0].Actor != "ada.admin" || back[0].RequestID != "req-4" {
			t.Fatalf("reinstatement records %+v %v", back, err)
		}
		if v, err := s.VerifyAudit(ctx); err != nil || !v.OK {
			t.Fatalf("audit chain %+v %v", v, err)
		}
	})
}
