package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/gate"
)

// Origins of a definition version: where its text came from. A version of
// OriginFile was published at start from a definitions directory; the others
// were published by a person, and a start never publishes a file over them.
const (
	OriginFile = "file" // a definitions directory, at the start of dev or serve
	OriginAPI  = "api"  // PUT /api/v1/definitions/{name}
	OriginCLI  = "cli"  // itilflow definitions publish FILE
)

// FilePublisher is who publishes the files of a definitions directory at start.
// Migration 010 recognises the versions it published before origins were
// recorded by this name.
const FilePublisher = "itilflow"

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
	// Origin is where the version came from (OriginFile, OriginAPI, OriginCLI);
	// File is the path of the file it was read from, as given, for the origins
	// that read one. The file's content hash is Hash.
	Origin string `json:"origin" db:"origin"`
	File   string `json:"file,omitempty" db:"origin_file"`
	// RetiredAt, RetiredBy and RetiredReason are set while the definition (its
	// name, whatever the version) is retired and starts no new processes. Only
	// Definition and Definitions read them.
	RetiredAt     *time.Time `json:"retired_at,omitempty" db:"retired_at"`
	RetiredBy     string     `json:"retired_by,omitempty" db:"retired_by"`
	RetiredReason string     `json:"retired_reason,omitempty" db:"retired_reason"`
}

func (d *Definition) decode() error {
	return json.Unmarshal(d.CompiledRaw, &d.Compiled)
}

// SourceHash is the content hash that identifies a definition's text.
func SourceHash(source []byte) string {
	sum := sha256.Sum256(source)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// The columns of a version but its source, from definitions d; and those of the
// retirement in force of its name, from definition_retirements r joined by
// retiredJoin.
const (
	versionColumns    = `d.name, d.version, d.title, d.hash, d.compiled, d.published_by, d.published_at, d.origin, d.origin_file`
	retirementColumns = `r.retired_at, COALESCE(r.retired_by, '') AS retired_by, COALESCE(r.reason, '') AS retired_reason`
	retiredJoin       = `LEFT JOIN definition_retirements r ON r.name = d.name AND r.reinstated_at IS NULL`
)

// Publication says who publishes a definition by hand, and how.
type Publication struct {
	Origin    string // OriginAPI or OriginCLI; files at start go through PublishFile
	File      string // the file's path as given, for OriginCLI
	By        string
	RequestID string // for the audit record
}

// PublishDefinition publishes def (parsed from source) through the API, as by:
// Publish with OriginAPI.
func (s *Store) PublishDefinition(ctx context.Context, def *engine.Definition, source []byte, by, requestID string) (Definition, bool, error) {
	return s.Publish(ctx, def, source, Publication{Origin: OriginAPI, By: by, RequestID: requestID})
}

// Publish stores def (parsed from source) as the next version of its name,
// published by a person. Publishing the same text as the latest version returns
// that version with created false. The new version and its audit record are
// written in one transaction. Publishing does not reinstate a retired
// definition.
func (s *Store) Publish(ctx context.Context, def *engine.Definition, source []byte, p Publication) (Definition, bool, error) {
	const op = "store.Publish"
	if p.Origin != OriginAPI && p.Origin != OriginCLI {
		return Definition{}, false, &engine.Error{Code: engine.EINVALID, Op: op, Message: fmt.Sprintf("a person publishes through the API or the command line, not %q", p.Origin)}
	}
	out, compiled, err := newVersion(def, source, p)
	if err != nil {
		return Definition{}, false, fail(op, err)
	}
	created := false
	err = s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		latest, err := lockLatest(ctx, tx, def.Name)
		if err != nil {
			return err
		}
		if latest != nil && latest.Hash == out.Hash {
			out = *latest
			return nil
		}
		created = true
		return s.insertVersion(ctx, tx, &out, latest, compiled, p.RequestID)
	})
	if err != nil {
		return Definition{}, false, err
	}
	return out, created, out.decode()
}

// FileOutcome is what PublishFile did with a definition file.
type FileOutcome int

const (
	// FileUnchanged: the file's text is the latest version's; nothing was
	// created.
	FileUnchanged FileOutcome = iota
	// FilePublished: the file was new, or changed since the last version it
	// produced while no person published after that; it is the new version.
	FilePublished
	// FileSuperseded: the file has not changed since the last version it
	// produced, and a person published a later version, which stays current.
	FileSuperseded
	// FileHeldBack: the file changed since the last version it produced, but a
	// person published a later version; the file was not published over it.
	FileHeldBack
)

// PublishFile publishes a file of a definitions directory at start, as
// FilePublisher, without ever reverting what people published. The file becomes
// a new version when its name has none yet, or when it changed since the last
// version it produced and that version is still the latest (FilePublished).
// Text equal to the latest version's creates nothing (FileUnchanged). When a
// person (API or command line) published the latest version, after the file's
// last one, that version stays current: PublishFile returns it with
// FileSuperseded if the file is unchanged since its last version, FileHeldBack
// if not, for the caller to say so. A file's last version is the latest version
// of its definition's name from OriginFile, whatever the directory's path was.
// Starts of several servers at once decide one after the other.
func (s *Store) PublishFile(ctx context.Context, def *engine.Definition, source []byte, file string) (Definition, FileOutcome, error) {
	const op = "store.PublishFile"
	out, compiled, err := newVersion(def, source, Publication{Origin: OriginFile, File: file, By: FilePublisher})
	if err != nil {
		return Definition{}, FileUnchanged, fail(op, err)
	}
	outcome := FilePublished
	err = s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		latest, err := lockLatest(ctx, tx, def.Name)
		if err != nil {
			return err
		}
		switch {
		case latest == nil || latest.Origin == OriginFile && latest.Hash != out.Hash:
			return s.insertVersion(ctx, tx, &out, latest, compiled, "startup")
		case latest.Hash == out.Hash:
			outcome = FileUnchanged
		default:
			// A person published the latest version, after the file's last one.
			var fileHash string
			err := tx.GetContext(ctx, &fileHash, `SELECT hash FROM definitions WHERE name = $1 AND origin = $2
				ORDER BY version DESC LIMIT 1`, def.Name, OriginFile)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			outcome = FileHeldBack
			if fileHash == out.Hash {
				outcome = FileSuperseded
			}
		}
		out = *latest
		return nil
	})
	if err != nil {
		return Definition{}, FileUnchanged, err
	}
	return out, outcome, out.decode()
}

// newVersion is the version def would become, and its compiled form.
func newVersion(def *engine.Definition, source []byte, p Publication) (Definition, []byte, error) {
	compiled, err := json.Marshal(def)
	if err != nil {
		return Definition{}, nil, err
	}
	// YAML can spell a NUL ("\0") that the parser lets through: refuse what the
	// database cannot hold, in the text or in what it compiled to.
	if problem := gate.Problem(string(source)); problem != "" {
		return Definition{}, nil, &engine.Error{Code: engine.EINVALID, Op: "store.Publish", Message: "definition text cannot be stored",
			Details: []engine.Detail{{Field: "source", Message: problem}}}
	}
	if err := gate.JSON(compiled); err != nil {
		return Definition{}, nil, err
	}
	return Definition{Name: def.Name, Title: def.Title, Source: string(source), Hash: SourceHash(source), Compiled: *def,
		CompiledRaw: compiled, PublishedBy: p.By, Origin: p.Origin, File: p.File}, compiled, nil
}

// lockDefinition serialises the changes of one definition name (publishing,
// retiring) until tx ends, so versions are gap-free and each change sees the
// one before it.
func lockDefinition(ctx context.Context, tx *sqlx.Tx, name string) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('definition:' || $1))`, name)
	return err
}

// lockLatest locks name and returns its latest version, or nil if it has none.
func lockLatest(ctx context.Context, tx *sqlx.Tx, name string) (*Definition, error) {
	if err := lockDefinition(ctx, tx, name); err != nil {
		return nil, err
	}
	var latest Definition
	err := tx.GetContext(ctx, &latest, `SELECT `+versionColumns+`, d.source FROM definitions d
		WHERE d.name = $1 ORDER BY d.version DESC LIMIT 1`, name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &latest, err
}

// insertVersion writes out as the version after latest (nil: the first) and
// appends its audit record, inside tx.
func (s *Store) insertVersion(ctx context.Context, tx *sqlx.Tx, out *Definition, latest *Definition, compiled []byte, requestID string) error {
	out.Version = 1
	if latest != nil {
		out.Version = latest.Version + 1
	}
	if err := tx.GetContext(ctx, &out.PublishedAt, `INSERT INTO definitions (name, version, title, source, hash, compiled, published_by, origin, origin_file, viewer_roles)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING published_at`,
		out.Name, out.Version, out.Title, out.Source, out.Hash, compiled, out.PublishedBy, out.Origin, out.File, pqArray(out.Compiled.ViewerRoles())); err != nil {
		return err
	}
	target := fmt.Sprintf("definition:%s@%d", out.Name, out.Version)
	return s.appendAudit(ctx, tx, AuditRecord{At: out.PublishedAt, Actor: out.PublishedBy, Action: AuditPublish, RequestID: requestID,
		Target: target, PayloadDigest: out.Hash}, target)
}

// Definition returns version of the named definition; version 0 means the
// latest. It carries the name's retirement, if one is in force.
func (s *Store) Definition(ctx context.Context, name string, version int) (Definition, error) {
	const op = "store.Definition"
	var d Definition
	err := s.db.GetContext(ctx, &d, `SELECT `+versionColumns+`, d.source, `+retirementColumns+`
		FROM definitions d `+retiredJoin+` WHERE d.name = $1 AND ($2 = 0 OR d.version = $2) ORDER BY d.version DESC LIMIT 1`, name, version)
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

// PublishedText returns the latest version whose text hashes to hash, and
// false if no version has that text. A start uses it to tell a file unchanged
// since it was published, which rules added since may refuse, from a new one.
func (s *Store) PublishedText(ctx context.Context, hash string) (Definition, bool, error) {
	const op = "store.PublishedText"
	var d Definition
	err := s.db.GetContext(ctx, &d, `SELECT `+versionColumns+` FROM definitions d
		WHERE d.hash = $1 ORDER BY d.published_at DESC, d.version DESC LIMIT 1`, hash)
	if errors.Is(err, sql.ErrNoRows) {
		return d, false, nil
	}
	if err != nil {
		return d, false, fail(op, err)
	}
	return d, true, nil
}

// Definitions returns the latest version of every definition, by name, with
// the retirements in force.
func (s *Store) Definitions(ctx context.Context) ([]Definition, error) {
	const op = "store.Definitions"
	var out []Definition
	err := s.db.SelectContext(ctx, &out, `SELECT DISTINCT ON (d.name) `+versionColumns+`, `+retirementColumns+`
		FROM definitions d `+retiredJoin+` ORDER BY d.name, d.version DESC`)
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

// DefinitionStates returns the name of every published definition with the
// states of all its versions, sorted: what a process can be listed by, since
// running processes keep the version they started with.
func (s *Store) DefinitionStates(ctx context.Context) (map[string][]string, error) {
	var rows []struct {
		Name  string `db:"name"`
		State string `db:"state"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT DISTINCT d.name, st->>'name' AS state
		FROM definitions d, jsonb_array_elements(d.compiled->'states') st`); err != nil {
		return nil, fail("store.DefinitionStates", err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.Name] = append(out[r.Name], r.State)
	}
	// Sorted here, not by the database, so the order does not depend on its
	// collation.
	for _, states := range out {
		slices.Sort(states)
	}
	return out, nil
}

// DefinitionVersions returns every version of the named definition, newest first,
// without their sources.
func (s *Store) DefinitionVersions(ctx context.Context, name string) ([]Definition, error) {
	out := []Definition{}
	err := s.db.SelectContext(ctx, &out, `SELECT `+versionColumns+` FROM definitions d
		WHERE d.name = $1 ORDER BY d.version DESC`, name)
	if err != nil {
		return nil, fail("store.DefinitionVersions", err)
	}
	if len(out) == 0 {
		return nil, engine.Errorf(engine.ENOTFOUND, "no definition named %q", name)
	}
	return out, nil
}
