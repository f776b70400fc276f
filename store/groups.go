package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/engine"
)

// Group is a named set of users, such as the Change Advisory Board. Members are
// user ids, sorted.
type Group struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Members   []string  `json:"members"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// SaveGroup creates a group or updates its name, and makes its members exactly
// g.Members, in one transaction. A member who is not a user is ENOTFOUND, naming
// them; a bad id or member id is EINVALID. The change is recorded in the audit
// log as done by by; saving a group as it already is changes nothing and records
// nothing (itilflow dev saves its demo groups at every start).
func (s *Store) SaveGroup(ctx context.Context, g Group, by string) error {
	const op = "store.SaveGroup"
	if d := checkID(g.ID, "id"); d != nil {
		return &engine.Error{Code: engine.EINVALID, Op: op, Message: "group id is not valid", Details: []engine.Detail{*d}}
	}
	for i, m := range g.Members {
		if d := checkID(m, fmt.Sprintf("members[%d]", i)); d != nil {
			return &engine.Error{Code: engine.EINVALID, Op: op, Message: "group member is not valid", Details: []engine.Detail{*d}}
		}
	}
	// A set: each member once, in byte order.
	members := slices.Compact(slices.Sorted(slices.Values(g.Members)))
	if members == nil {
		members = []string{}
	}
	return s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		var known []string
		if err := tx.SelectContext(ctx, &known, `SELECT id FROM users WHERE id = ANY($1)`, pqArray(members)); err != nil {
			return err
		}
		for i, m := range g.Members {
			if !slices.Contains(known, m) {
				return &engine.Error{Code: engine.ENOTFOUND, Op: op, Message: fmt.Sprintf("no user %q: add them before making them a member", m),
					Details: []engine.Detail{{Field: fmt.Sprintf("members[%d]", i), Message: fmt.Sprintf("no user %q", m)}}}
			}
		}
		// Make the group's row or lock it, so concurrent saves of one group apply
		// one after the other and each sees the members the last one left. xmax
		// is 0 only on a row this statement inserted.
		var old struct {
			Name    string `db:"name"`
			Created bool   `db:"created"`
		}
		if err := tx.GetContext(ctx, &old, `INSERT INTO groups (id, name) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
			RETURNING name, (xmax = 0) AS created`, g.ID, g.Name); err != nil {
			return err
		}
		var was []string
		if err := tx.SelectContext(ctx, &was, `SELECT user_id FROM group_members WHERE group_id = $1`, g.ID); err != nil {
			return err
		}
		sort.Strings(was)
		if !old.Created && old.Name == g.Name && slices.Equal(was, members) {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE groups SET name = $2 WHERE id = $1`, g.ID, g.Name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE group_id = $1 AND NOT user_id = ANY($2)`, g.ID, pqArray(members)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id) SELECT $1, unnest($2::text[])
			ON CONFLICT DO NOTHING`, g.ID, pqArray(members)); err != nil {
			return err
		}
		target := "group:" + g.ID
		return s.appendAudit(ctx, tx, AuditRecord{At: time.Now(), Actor: by, Action: AuditGroup, Target: target,
			PayloadDigest: digest(map[string]any{"name": g.Name, "members": members})}, auditSource(target))
	})
}

// Groups returns every group with its members, by id.
func (s *Store) Groups(ctx context.Context) ([]Group, error) {
	return s.groups(ctx, "store.Groups", "")
}

// GroupByID returns a group with its members, or ENOTFOUND.
func (s *Store) GroupByID(ctx context.Context, id string) (Group, error) {
	const op = "store.GroupByID"
	gs, err := s.groups(ctx, op, id)
	if err != nil {
		return Group{}, err
	}
	if len(gs) == 0 {
		return Group{}, &engine.Error{Code: engine.ENOTFOUND, Op: op, Message: fmt.Sprintf("no group %q", id)}
	}
	return gs[0], nil
}

// groups reads the group id, or every group when id is empty. Sorting is done
// here, not by the database, so the order does not depend on its collation.
func (s *Store) groups(ctx context.Context, op, id string) ([]Group, error) {
	var rows []struct {
		ID        string         `db:"id"`
		Name      string         `db:"name"`
		CreatedAt time.Time      `db:"created_at"`
		Member    sql.NullString `db:"user_id"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT g.id, g.name, g.created_at, m.user_id
		FROM groups g LEFT JOIN group_members m ON m.group_id = g.id
		WHERE $1 = '' OR g.id = $1`, id); err != nil {
		return nil, fail(op, err)
	}
	byID := map[string]*Group{}
	out := []Group{}
	for _, r := range rows {
		g := byID[r.ID]
		if g == nil {
			g = &Group{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt, Members: []string{}}
			byID[r.ID] = g
		}
		if r.Member.Valid {
			g.Members = append(g.Members, r.Member.String)
		}
	}
	for _, g := range byID {
		sort.Strings(g.Members)
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Members returns the ids of the users who hold any of roles or belong to any of
// groups, each once, sorted (byte order, the same on every database). Roles and
// groups that nobody holds or that do not exist add no one, so the result may be
// empty; it is never nil. The engine resolves role and group approvers with it.
func (s *Store) Members(ctx context.Context, roles, groups []string) ([]string, error) {
	const op = "store.Members"
	out := []string{}
	if len(roles) == 0 && len(groups) == 0 {
		return out, nil
	}
	if err := s.db.SelectContext(ctx, &out, `SELECT id FROM users WHERE roles && $1::text[]
		UNION
		SELECT user_id FROM group_members WHERE group_id = ANY($2::text[])`, pqArray(nonNil(roles)), pqArray(nonNil(groups))); err != nil {
		return nil, fail(op, err)
	}
	sort.Strings(out)
	return out, nil
}

// GroupsOf returns the ids of the groups user belongs to, sorted; never nil.
func (s *Store) GroupsOf(ctx context.Context, user string) ([]string, error) {
	out := []string{}
	if err := s.db.SelectContext(ctx, &out, `SELECT group_id FROM group_members WHERE user_id = $1`, user); err != nil {
		return nil, fail("store.GroupsOf", err)
	}
	sort.Strings(out)
	return out, nil
}

// groupsOf returns the ids of the groups each user belongs to, sorted.
func (s *Store) groupsOf(ctx context.Context) (map[string][]string, error) {
	var rows []struct {
		User  string `db:"user_id"`
		Group string `db:"group_id"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT user_id, group_id FROM group_members`); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.User] = append(out[r.User], r.Group)
	}
	for _, gs := range out {
		sort.Strings(gs)
	}
	return out, nil
}

// checkID checks a user or group id: not empty, no white space, not the id the
// process engine acts as. It returns the problem with field, or nil.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
