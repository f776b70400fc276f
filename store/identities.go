package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/engine"
)

// tokenPrefix marks itilflow tokens, so a leaked one is easy to recognise and
// scan for.
const tokenPrefix = "itf_"

// SaveUser creates a user or updates their name and roles, recording who did it
// in the audit log.
func (s *Store) SaveUser(ctx context.Context, u User, by string) error {
	const op = "store.SaveUser"
	if u.ID == "" || strings.ContainsAny(u.ID, " \t\n") || u.ID == engine.System.ID {
		return &engine.Error{Code: engine.EINVALID, Op: op, Message: "user id is not valid", Details: []engine.Detail{{Field: "id", Message: fmt.Sprintf("must not be empty, contain spaces or be %q", engine.System.ID)}}}
	}
	return s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, name, roles) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, roles = EXCLUDED.roles`, u.ID, u.Name, u.Roles); err != nil {
			return err
		}
		target := "user:" + u.ID
		return appendAudit(ctx, tx, AuditRecord{At: time.Now(), Actor: by, Action: AuditUser, Target: target,
			PayloadDigest: digest(map[string]any{"name": u.Name, "roles": u.Roles})}, auditSource(target))
	})
}

// IssueToken creates a new random token for a user and returns it: it is shown
// once, and only its digest is stored.
func (s *Store) IssueToken(ctx context.Context, userID, label, by string) (string, error) {
	const op = "store.IssueToken"
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fail(op, err)
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, userID); err != nil {
			return err
		}
		if !exists {
			return engine.Errorf(engine.ENOTFOUND, "no user %q: add it first", userID)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (digest, user_id, label) VALUES ($1, $2, $3)`, tokenDigest(token), userID, label); err != nil {
			return err
		}
		target := "user:" + userID
		return appendAudit(ctx, tx, AuditRecord{At: time.Now(), Actor: by, Action: AuditTokenIssued, Target: target,
			PayloadDigest: "sha256:" + tokenDigest(token)}, auditSource(target))
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// RevokeTokens revokes a user's tokens — those with label, or all when label is
// empty — and returns how many it revoked.
func (s *Store) RevokeTokens(ctx context.Context, userID, label, by string) (int, error) {
	const op = "store.RevokeTokens"
	var n int
	err := s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		var digests []string
		if err := tx.SelectContext(ctx, &digests, `UPDATE tokens SET revoked_at = now()
			WHERE user_id = $1 AND revoked_at IS NULL AND ($2 = '' OR label = $2) RETURNING digest`, userID, label); err != nil {
			return err
		}
		n = len(digests)
		target := "user:" + userID
		for _, d := range digests {
			if err := appendAudit(ctx, tx, AuditRecord{At: time.Now(), Actor: by, Action: AuditTokenRevoked, Target: target, PayloadDigest: "sha256:" + d}, auditSource(target)); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// auditSource makes the unique source key of an identity change: each is its
// own record, never a retry of another.
func auditSource(target string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s#%s", target, base64.RawURLEncoding.EncodeToString(b))
}
