package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/engine"
)

// Definition is one published version of a process definition.
type Definition struct {
	Name        string            `json:"name" db:"name"`
	Version     int               `json:"version" db:"version"`
	Title       string            `json:"title" db:"title"`
	Source      string            `json:"source,omitempty" db:"source"`
	Hash        string            `json:"hash" db:"hash"`
	Compiled    engine.Definition `json:"-" db:"-"`
	CompiledRaw []byte            `json:"-" db:"compiled"`
	PublishedBy string            `json:"published_by" db:"published_by"`
	PublishedAt time.Time         `json:"published_at" db:"published_at"`
}

func (d *Definition) decode() error {
	return json.Unmarshal(d.CompiledRaw, &d.Compiled)
}

// SourceHash is the content hash that identifies a definition's text.
func SourceHash(source []byte) string {
	sum := sha256.Sum256(source)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// PublishDefinition stores def (parsed from source) as the next version of its
// name. Publishing the same text as the latest version returns that version with
// created false, so re-running `itilflow dev` creates no new versions.
// The new version and its audit record are written in one transaction.
func (s *Store) PublishDefinition(ctx context.Context, def *engine.Definition, source []byte, by, requestID string) (Definition, bool, error) {
	const op = "store.PublishDefinition"
	compiled, err := json.Marshal(def)
	if err != nil {
		return Definition{}, false, fail(op, err)
	}
	out := Definition{Name: def.Name, Title: def.Title, Source: string(source), Hash: SourceHash(source), Compiled: *def, CompiledRaw: compiled, PublishedBy: by}
	created := false
	err = s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		// Serialise publishers of one name so versions are gap-free and unique.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('definition:' || $1))`, def.Name); err != nil {
			return err
		}
		var latest struct {
			Version int    `db:"version"`
			Hash    string `db:"hash"`
		}
		err := tx.GetContext(ctx, &latest, `SELECT version, hash FROM definitions WHERE name = $1 ORDER BY version DESC LIMIT 1`, def.Name)
		if err == nil && latest.Hash == out.Hash {
			return tx.GetContext(ctx, &out, `SELECT name, version, title, source, hash, compiled, published_by, published_at
				FROM definitions WHERE name = $1 AND version = $2`, def.Name, latest.Version)
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		out.Version = latest.Version + 1
		created = true
		if err := tx.GetContext(ctx, &out.PublishedAt, `INSERT INTO definitions (name, version, title, source, hash, compiled, published_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING published_at`,
			out.Name, out.Version, out.Title, out.Source, out.Hash, compiled, by); err != nil {
			return err
		}
		target := fmt.Sprintf("definition:%s@%d", out.Name, out.Version)
		return s.appendAudit(ctx, tx, AuditRecord{At: out.PublishedAt, Actor: by, Action: AuditPublish, RequestID: requestID,
			Target: target, PayloadDigest: out.Hash}, target)
	})
	if err != nil {
		return Definition{}, false, err
	}
	return out, created, out.decode()
}

// Definition returns version of the named definition; version 0 means the latest.
func (s *Store) Definition(ctx context.Context, name string, version int) (Definition, error) {
	const op = "store.Definition"
	var d Definition
	err := s.db.GetContext(ctx, &d, `SELECT name, version, title, source, hash, compiled, published_by, published_at
		FROM definitions WHERE name = $1 AND ($2 = 0 OR version = $2) ORDER BY version DESC LIMIT 1`, name, version)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			if version > 0 {
				return d, engine.Errorf(engine.ENOTFOUND, "definition %q has no version %d", name, version)
			}
			return d, engine.Errorf(engine.ENOTFOUND, "no definition named %q", name)
		}
		return d, fail(op, err)
	}
	if err := d.decode(); err != nil {
		return d, fail(op, fmt.Errorf("definition %s v%d: %w", name, d.Version, err))
	}
	return d, nil
}

// Definitions returns the latest version of every definition, by name.
func (s *Store) Definitions(ctx context.Context) ([]Definition, error) {
	const op = "store.Definitions"
	var out []Definition
	err := s.db.SelectContext(ctx, &out, `SELECT DISTINCT ON (name) name, version, title, '' AS source, hash, compiled, published_by, published_at
		FROM definitions ORDER BY name, version DESC`)
	if err != nil {
		return nil, fail(op, err)
	}
	for i := range out {
		if err := out[i].decode(); err != nil {
			return nil, fail(op, err)
		}
	}
	return out, nil
}

// DefinitionVersions returns every version of the named definition, newest first,
// without their sources.
func (s *Store) DefinitionVersions(ctx context.Context, name string) ([]Definition, error) {
	out := []Definition{}
	err := s.db.SelectContext(ctx, &out, `SELECT name, version, title, '' AS source, hash, compiled, published_by, published_at
		FROM definitions WHERE name = $1 ORDER BY version DESC`, name)
	if err != nil {
		return nil, fail("store.DefinitionVersions", err)
	}
	if len(out) == 0 {
		return nil, engine.Errorf(engine.ENOTFOUND, "no definition named %q", name)
	}
	return out, nil
}
