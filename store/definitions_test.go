package store_test

import (
	"context"
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
