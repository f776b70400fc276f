package store

import (
	"context"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/gate"
)

// CI is a configuration item of the registry: a device, a server, an
// application. ID is what processes name in their ci fields; Parent, when set,
// is the id of the item it is part of.
type CI struct {
	ID        string    `json:"id" db:"id"`
	Name      string    `json:"name" db:"name"`
	Type      string    `json:"type,omitempty" db:"type"`
	Service   string    `json:"service,omitempty" db:"service"`
	Owner     string    `json:"owner,omitempty" db:"owner"`
	Location  string    `json:"location,omitempty" db:"location"`
	Parent    string    `json:"parent,omitempty" db:"parent"`
	UpdatedBy string    `json:"updated_by,omitempty" db:"updated_by"`
	UpdatedAt time.Time `json:"updated_at,omitzero" db:"updated_at"`
}

// maxCIText bounds a CI's name and its other descriptive fields.
const maxCIText = 200

// MaxCIImport bounds how many items one import saves, so one request stays one
// bounded transaction.
const MaxCIImport = 10_000

// Check returns the item with its text passed through the gate (normal form
// C), or an EINVALID error with one detail per bad field, each prefixed by
// prefix (e.g. "items[3]"). The id and the parent are ids: printable ASCII
// without spaces, as users' and groups' ids.
func (c CI) Check(prefix string) (CI, error) {
	var details []engine.Detail
	at := func(f string) string {
		if prefix == "" {
			return f
		}
		return prefix + "." + f
	}
	if d := checkID(c.ID, at("id")); d != nil {
		details = append(details, *d)
	}
	if c.Parent != "" {
		if d := checkID(c.Parent, at("parent")); d != nil {
			details = append(details, *d)
		} else if c.Parent == c.ID {
			details = append(details, engine.Detail{Field: at("parent"), Message: "an item cannot be its own parent"})
		}
	}
	text := []struct {
		name string
		v    *string
	}{{"name", &c.Name}, {"type", &c.Type}, {"service", &c.Service}, {"owner", &c.Owner}, {"location", &c.Location}}
	for _, f := range text {
		if p := gate.Problem(*f.v); p != "" {
			details = append(details, engine.Detail{Field: at(f.name), Message: p})
			continue
		}
		*f.v = gate.Normal(*f.v)
		if n := utf8.RuneCountInString(*f.v); n > maxCIText {
			details = append(details, engine.Detail{Field: at(f.name), Message: fmt.Sprintf("is %d characters long; at most %d allowed", n, maxCIText)})
		}
	}
	if c.Name == "" {
		c.Name = c.ID
	}
	if len(details) > 0 {
		return CI{}, &engine.Error{Code: engine.EINVALID, Op: "store.CI.Check", Message: "configuration item is not valid", Details: details}
	}
	return c, nil
}

// SaveCIs creates or replaces the items, all or none, in one transaction, and
// records one audit entry as done by by. Each item is checked (Check, its
// details prefixed "items[i]"); an item named twice is EINVALID; a parent that
// is neither among the items nor in the registry is EINVALID naming it. Saving
// items exactly as they are changes nothing and records nothing, so an import
// can be run again.
func (s *Store) SaveCIs(ctx context.Context, items []CI, by string) (saved int, err error) {
	const op = "store.SaveCIs"
	if len(items) > MaxCIImport {
		return 0, &engine.Error{Code: engine.EINVALID, Op: op, Message: fmt.Sprintf("%d items; at most %d in one import", len(items), MaxCIImport)}
	}
	clean := make([]CI, len(items))
	seen := make(map[string]int, len(items))
	var details []engine.Detail
	for i, c := range items {
		prefix := fmt.Sprintf("items[%d]", i)
		if len(items) == 1 {
			prefix = ""
		}
		cc, err := c.Check(prefix)
		if err != nil {
			details = append(details, err.(*engine.Error).Details...)
			continue
		}
		if j, dup := seen[cc.ID]; dup {
			details = append(details, engine.Detail{Field: prefix + ".id", Message: fmt.Sprintf("%q is also items[%d]", cc.ID, j)})
			continue
		}
		seen[cc.ID] = i
		clean[i] = cc
	}
	if len(details) > 0 {
		return 0, &engine.Error{Code: engine.EINVALID, Op: op, Message: "configuration items are not valid", Details: details}
	}
	err = s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		// Parents outside the import must be in the registry already.
		var outside []string
		for _, c := range clean {
			if _, in := seen[c.Parent]; c.Parent != "" && !in {
				outside = append(outside, c.Parent)
			}
		}
		if len(outside) > 0 {
			var known []string
			if err := tx.SelectContext(ctx, &known, `SELECT id FROM cis WHERE id = ANY($1)`, pqArray(outside)); err != nil {
				return err
			}
			for i, c := range clean {
				if _, in := seen[c.Parent]; c.Parent != "" && !in && !slices.Contains(known, c.Parent) {
					field := fmt.Sprintf("items[%d].parent", i)
					if len(clean) == 1 {
						field = "parent"
					}
					details = append(details, engine.Detail{Field: field, Message: fmt.Sprintf("no configuration item %q", c.Parent)})
				}
			}
			if len(details) > 0 {
				return &engine.Error{Code: engine.EINVALID, Op: op, Message: "a parent is not in the registry", Details: details}
			}
		}
		for _, c := range clean {
			res, err := tx.ExecContext(ctx, `INSERT INTO cis (id, name, type, service, owner, location, parent, updated_by)
				VALUES ($1, $2, $3, $4, $5, $6, nullif($7, ''), $8)
				ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, type = EXCLUDED.type, service = EXCLUDED.service,
					owner = EXCLUDED.owner, location = EXCLUDED.location, parent = EXCLUDED.parent,
					updated_by = EXCLUDED.updated_by, updated_at = now()
				WHERE (cis.name, cis.type, cis.service, cis.owner, cis.location, coalesce(cis.parent, ''))
					IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.type, EXCLUDED.service, EXCLUDED.owner, EXCLUDED.location, coalesce(EXCLUDED.parent, ''))`,
				c.ID, c.Name, c.Type, c.Service, c.Owner, c.Location, c.Parent, by)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			saved += int(n)
		}
		if saved == 0 {
			return nil
		}
		target := "cis"
		if len(clean) == 1 {
			target = "ci:" + clean[0].ID
		}
		return s.appendAudit(ctx, tx, AuditRecord{At: time.Now(), Actor: by, Action: AuditCIs, Target: target,
			PayloadDigest: digest(clean)}, auditSource(target))
	})
	if err != nil {
		return 0, err
	}
	return saved, nil
}

// CIFilter narrows a listing of the registry.
type CIFilter struct {
	// Parent keeps the items directly part of this one; Type and Service
	// those with that value.
	Parent, Type, Service string
	Limit, Offset         int
}

// CIs returns the items of the registry the filter keeps, by id, and how
// many it keeps in all.
func (s *Store) CIs(ctx context.Context, f CIFilter) ([]CI, int, error) {
	const op = "store.CIs"
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var rows []struct {
		CI
		Total int `db:"total"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, name, type, service, owner, location, coalesce(parent, '') AS parent,
			updated_by, updated_at, count(*) OVER () AS total
		FROM cis
		WHERE ($1 = '' OR parent = $1) AND ($2 = '' OR type = $2) AND ($3 = '' OR service = $3)
		ORDER BY id COLLATE "C" LIMIT $4 OFFSET $5`, f.Parent, f.Type, f.Service, limit, f.Offset); err != nil {
		return nil, 0, fail(op, err)
	}
	out := make([]CI, len(rows))
	total := 0
	for i, r := range rows {
		out[i], total = r.CI, r.Total
	}
	return out, total, nil
}

// CIByID returns an item of the registry, or ENOTFOUND.
func (s *Store) CIByID(ctx context.Context, id string) (CI, error) {
	const op = "store.CIByID"
	var c CI
	err := s.db.GetContext(ctx, &c, `SELECT id, name, type, service, owner, location, coalesce(parent, '') AS parent,
		updated_by, updated_at FROM cis WHERE id = $1`, id)
	if err != nil {
		err = fail(op, err)
		if engine.ErrorCode(err) == engine.ENOTFOUND {
			return CI{}, &engine.Error{Code: engine.ENOTFOUND, Op: op, Message: fmt.Sprintf("no configuration item %q", id)}
		}
		return CI{}, err
	}
	return c, nil
}

// MissingCIs returns those of ids that are not in the registry, in the order
// given.
func (s *Store) MissingCIs(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var known []string
	if err := s.db.SelectContext(ctx, &known, `SELECT id FROM cis WHERE id = ANY($1)`, pqArray(ids)); err != nil {
		return nil, fail("store.MissingCIs", err)
	}
	var missing []string
	for _, id := range ids {
		if !slices.Contains(known, id) {
			missing = append(missing, id)
		}
	}
	return missing, nil
}

// ProcessesOnCI returns the ids of the processes of definition naming the
// item ci that started at or after since, other than except, oldest first:
// what a rule counts (activities.Counter). At most 1,000.
func (s *Store) ProcessesOnCI(ctx context.Context, definition, ci string, since time.Time, except string) ([]string, error) {
	ids := []string{}
	err := s.db.SelectContext(ctx, &ids, `SELECT id FROM processes
		WHERE ci = $1 AND definition = $2 AND started_at >= $3 AND id <> $4
		ORDER BY started_at, id COLLATE "C" LIMIT 1000`, ci, definition, since, except)
	return ids, fail("store.ProcessesOnCI", err)
}
