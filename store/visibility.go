package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/itilflow/itilflow/engine"
)

// Viewer is who reads: the one input of the visibility rule, which every read
// of a process goes through (ProcessFor, ProcessesFor, OpenApprovalsFor,
// NotificationsFor). A process is visible to the people it names (its
// participants: who started it, acted on it, is assigned, approves, is
// notified — and, while a delegation runs, to the delegate of any of them), to
// holders of its definition's viewer roles, and to auditors and admins.
// Everyone else is told it does not exist.
type Viewer struct {
	ID    string
	Roles []string
}

// Roles that see every process.
const (
	RoleAuditor = "auditor"
	RoleAdmin   = "admin"
)

// SeesAll reports whether the viewer sees every process.
func (v Viewer) SeesAll() bool {
	return slices.Contains(v.Roles, RoleAuditor) || slices.Contains(v.Roles, RoleAdmin)
}

// visibleTo is the visibility rule in SQL for the process row p, with the
// viewer's id, roles and SeesAll as the parameters $1, $2 and $3 of the
// query it stands in.
const visibleTo = `($3 OR p.participants && (ARRAY[$1::text] || ARRAY(SELECT from_user FROM delegations
		WHERE to_user = $1 AND starts_at <= now() AND ends_at > now()))
	OR EXISTS (SELECT 1 FROM definitions d WHERE d.name = p.definition AND d.version = p.version AND d.viewer_roles && $2::text[]))`

// userSees is visibleTo for the user row u instead of a viewer given as
// parameters, so one statement can apply the rule to many people (the
// addressees of a notification e-mail).
const userSees = `(u.roles && ARRAY['` + RoleAuditor + `', '` + RoleAdmin + `']::text[]
	OR p.participants && (ARRAY[u.id] || ARRAY(SELECT from_user FROM delegations
		WHERE to_user = u.id AND starts_at <= now() AND ends_at > now()))
	OR EXISTS (SELECT 1 FROM definitions d WHERE d.name = p.definition AND d.version = p.version AND d.viewer_roles && u.roles))`

func (v Viewer) args() []any { return []any{v.ID, pq.StringArray(nonNil(v.Roles)), v.SeesAll()} }

// ProcessFor returns the stored view of a process the viewer may see; one
// they may not see is ENOTFOUND, worded as for a process that does not exist,
// so an id tells nobody whether it exists.
func (s *Store) ProcessFor(ctx context.Context, v Viewer, id string) (engine.View, error) {
	const op = "store.ProcessFor"
	out, err := s.view(ctx, `SELECT `+viewColumns+` FROM processes p WHERE `+visibleTo+` AND p.id = $4`, append(v.args(), id)...)
	if errors.Is(err, sql.ErrNoRows) {
		return out, engine.Errorf(engine.ENOTFOUND, "no process %q", id)
	}
	return out, fail(op, err)
}

// ProcessesFor returns the processes matching f that the viewer may see,
// newest first, and how many of them match.
func (s *Store) ProcessesFor(ctx context.Context, v Viewer, f ProcessFilter) ([]engine.View, int, error) {
	const op = "store.ProcessesFor"
	where, args := f.where(v)
	order := `p.started_at DESC, p.id DESC`
	if f.ByDue {
		order = `p.next_due ASC NULLS LAST, p.started_at, p.id`
	}
	var total int
	if err := s.db.GetContext(ctx, &total, `SELECT count(*) FROM processes p WHERE `+where, args...); err != nil {
		return nil, 0, fail(op, err)
	}
	var rows []viewRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+viewColumns+` FROM processes p WHERE `+where+`
		ORDER BY `+order+fmt.Sprintf(` LIMIT $%d OFFSET $%d`, len(args)+1, len(args)+2), append(args, f.Limit, f.Offset)...); err != nil {
		return nil, 0, fail(op, err)
	}
	out, err := s.views(ctx, rows)
	return out, total, fail(op, err)
}

// OpenApprovalsFor returns the open processes in an approval step that the
// viewer may see, oldest first: the candidates for their inbox. Who may vote
// is decided by the caller against each definition.
func (s *Store) OpenApprovalsFor(ctx context.Context, v Viewer) ([]engine.View, error) {
	const op = "store.OpenApprovalsFor"
	var rows []viewRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+viewColumns+` FROM processes p
		WHERE `+visibleTo+` AND p.ended_at IS NULL AND p.view ? 'approval' ORDER BY p.started_at, p.id`, v.args()...); err != nil {
		return nil, fail(op, err)
	}
	out, err := s.views(ctx, rows)
	return out, fail(op, err)
}

// NotificationsFor returns the notifications addressed to the viewer or one
// of their roles about processes they may see, newest first.
func (s *Store) NotificationsFor(ctx context.Context, v Viewer, limit int) ([]Notification, error) {
	out := []Notification{}
	err := s.db.SelectContext(ctx, &out, `SELECT n.id, n.process_id, n.seq, n.role, n.user_id, n.message, n.created_at
		FROM notifications n JOIN processes p ON p.id = n.process_id
		WHERE `+visibleTo+` AND (n.user_id = $1 OR n.role = ANY($2)) ORDER BY n.created_at DESC, n.id DESC LIMIT $4`,
		append(v.args(), limit)...)
	return out, fail("store.NotificationsFor", err)
}

// compiled caches decoded definition versions, which never change once
// published: the projection needs one for every batch it stores.
type compiled struct {
	mu   sync.Mutex
	defs map[string]*engine.Definition
}

// compiledDefinition returns a published version, decoded once. Callers use
// only methods that keep no cache of their own (ViewerRoles, Participants,
// AllowedActions), so one copy is safely shared.
func (s *Store) compiledDefinition(ctx context.Context, q querier, name string, version int) (*engine.Definition, error) {
	key := fmt.Sprintf("%s@%d", name, version)
	s.compiled.mu.Lock()
	d, ok := s.compiled.defs[key]
	s.compiled.mu.Unlock()
	if ok {
		return d, nil
	}
	var raw []byte
	if err := q.GetContext(ctx, &raw, `SELECT compiled FROM definitions WHERE name = $1 AND version = $2`, name, version); err != nil {
		return nil, err
	}
	d = &engine.Definition{}
	if err := json.Unmarshal(raw, d); err != nil {
		return nil, err
	}
	s.compiled.mu.Lock()
	if s.compiled.defs == nil {
		s.compiled.defs = map[string]*engine.Definition{}
	}
	s.compiled.defs[key] = d
	s.compiled.mu.Unlock()
	return d, nil
}

// fillViewerRoles computes the viewer roles of the versions published before
// the store kept them (migration 009 adds the column empty).
// Migrate calls it on the connection it migrates with, which may be the
// pool's only one.
func (s *Store) fillViewerRoles(ctx context.Context, conn *sqlx.Conn) error {
	var rows []struct {
		Name    string `db:"name"`
		Version int    `db:"version"`
	}
	if err := conn.SelectContext(ctx, &rows, `SELECT name, version FROM definitions WHERE viewer_roles IS NULL`); err != nil {
		return err
	}
	for _, r := range rows {
		d, err := s.compiledDefinition(ctx, conn, r.Name, r.Version)
		if err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `UPDATE definitions SET viewer_roles = $3 WHERE name = $1 AND version = $2`,
			r.Name, r.Version, pq.StringArray(d.ViewerRoles())); err != nil {
			return err
		}
	}
	return nil
}

// where is the filter in SQL over the process row p, after the visibility
// rule, with its arguments ($1 to $3 are the viewer's, see visibleTo).
func (f ProcessFilter) where(v Viewer) (string, []any) {
	var b strings.Builder
	b.WriteString(visibleTo)
	args := v.args()
	arg := func(x any) string {
		args = append(args, x)
		return fmt.Sprintf("$%d", len(args))
	}
	for _, eq := range [...]struct{ col, val string }{{"definition", f.Definition}, {"state", f.State}, {"priority", f.Priority},
		{"assignee", f.Assignee}, {"started_by", f.StartedBy}, {"ci", f.CI}, {"assignment_group", f.AssignmentGroup}} {
		if eq.val != "" {
			fmt.Fprintf(&b, " AND p.%s = %s", eq.col, arg(eq.val))
		}
	}
	if f.Breached != nil {
		fmt.Fprintf(&b, " AND p.breached = %s", arg(*f.Breached))
	}
	if f.Open {
		b.WriteString(" AND p.ended_at IS NULL")
	}
	if f.IDs != nil {
		fmt.Fprintf(&b, " AND p.id = ANY(%s)", arg(pq.Array(f.IDs)))
	}
	if f.Unassigned {
		b.WriteString(" AND p.assignee IS NULL")
	}
	if f.MyGroups {
		b.WriteString(" AND (p.assignment_group = ANY($2::text[]) OR p.assignment_group IN (SELECT group_id FROM group_members WHERE user_id = $1))")
	}
	if f.StartedFrom != nil {
		fmt.Fprintf(&b, " AND p.started_at >= %s", arg(*f.StartedFrom))
	}
	if f.StartedBefore != nil {
		fmt.Fprintf(&b, " AND p.started_at < %s", arg(*f.StartedBefore))
	}
	if f.Text != "" {
		if hasUnspacedScript(f.Text) {
			fmt.Fprintf(&b, " AND p.search_text ILIKE %s", arg("%"+likeEscape(f.Text)+"%"))
		} else {
			fmt.Fprintf(&b, " AND p.search @@ websearch_to_tsquery('simple', %s)", arg(f.Text))
		}
	}
	return b.String(), args
}

// hasUnspacedScript reports whether s holds Chinese or Japanese characters,
// whose words the full-text parser cannot tell apart.
func hasUnspacedScript(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) {
			return true
		}
	}
	return false
}

// likeEscape makes s match itself in a LIKE pattern.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
