package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/mail"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/gate"
)

// tokenPrefix marks itilflow tokens, so a leaked one is easy to recognise and
// scan for.
const tokenPrefix = "itf_"

// SaveUser creates a user or updates their name and roles, recording who did it
// in the audit log. A bad id or role is EINVALID, naming the field.
func (s *Store) SaveUser(ctx context.Context, u User, by string) error {
	const op = "store.SaveUser"
	if d := checkID(u.ID, "id"); d != nil {
		return &engine.Error{Code: engine.EINVALID, Op: op, Message: "user id is not valid", Details: []engine.Detail{*d}}
	}
	for i, r := range u.Roles {
		if err := CheckRole(r); err != nil {
			return &engine.Error{Code: engine.EINVALID, Op: op, Message: "role is not valid", Details: []engine.Detail{{Field: fmt.Sprintf("roles[%d]", i), Message: err.Error()}}}
		}
	}
	if details := checkContact(u); len(details) > 0 {
		return &engine.Error{Code: engine.EINVALID, Op: op, Message: "user is not valid", Details: details}
	}
	if u.Roles == nil {
		u.Roles = pqArray([]string{})
	}
	return s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, name, roles, email, notify_channel, language, reminder_digest) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, roles = EXCLUDED.roles, email = EXCLUDED.email,
				notify_channel = EXCLUDED.notify_channel, language = EXCLUDED.language, reminder_digest = EXCLUDED.reminder_digest`,
			u.ID, u.Name, u.Roles, u.Email, u.Channel, u.Language, u.Digest); err != nil {
			return err
		}
		target := "user:" + u.ID
		// The address is in the digest (not in clear): an auditor can tell
		// that it changed, and check a claimed one.
		return s.appendAudit(ctx, tx, AuditRecord{At: time.Now(), Actor: by, Action: AuditUser, Target: target,
			PayloadDigest: digest(map[string]any{"name": u.Name, "roles": u.Roles, "email": u.Email, "channel": u.Channel, "language": u.Language, "reminder_digest": u.Digest})}, auditSource(target))
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (digest, user_id, label) VALUES ($1, $2, $3)`, TokenDigest(token), userID, label); err != nil {
			return err
		}
		target := "user:" + userID
		return s.appendAudit(ctx, tx, AuditRecord{At: time.Now(), Actor: by, Action: AuditTokenIssued, Target: target,
			PayloadDigest: "sha256:" + TokenDigest(token)}, auditSource(target))
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
			if err := s.appendAudit(ctx, tx, AuditRecord{At: time.Now(), Actor: by, Action: AuditTokenRevoked, Target: target, PayloadDigest: "sha256:" + d}, auditSource(target)); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// Account is a user as an administrator sees them: with their groups and the
// labels of their live tokens, never a token or its digest.
type Account struct {
	User
	Groups []string    `json:"groups"`
	Tokens []TokenInfo `json:"tokens"`
}

// TokenInfo describes a live token without revealing it.
type TokenInfo struct {
	Label     string    `json:"label" db:"label"`
	CreatedAt time.Time `json:"created_at" db:"created_at"`
}

// Users returns every user with their groups and live tokens, by id.
func (s *Store) Users(ctx context.Context) ([]Account, error) {
	const op = "store.Users"
	var users []User
	if err := s.db.SelectContext(ctx, &users, `SELECT id, name, roles, email, notify_channel, language, reminder_digest FROM users`); err != nil {
		return nil, fail(op, err)
	}
	var tokens []struct {
		User string `db:"user_id"`
		TokenInfo
	}
	if err := s.db.SelectContext(ctx, &tokens, `SELECT user_id, label, created_at FROM tokens
		WHERE revoked_at IS NULL ORDER BY created_at, label`); err != nil {
		return nil, fail(op, err)
	}
	groups, err := s.groupsOf(ctx)
	if err != nil {
		return nil, fail(op, err)
	}
	byUser := map[string][]TokenInfo{}
	for _, t := range tokens {
		byUser[t.User] = append(byUser[t.User], t.TokenInfo)
	}
	out := make([]Account, 0, len(users))
	for _, u := range users {
		a := Account{User: u, Groups: groups[u.ID], Tokens: byUser[u.ID]}
		if a.Roles == nil {
			a.Roles = pqArray([]string{})
		}
		if a.Groups == nil {
			a.Groups = []string{}
		}
		if a.Tokens == nil {
			a.Tokens = []TokenInfo{}
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// maxEmail is the longest address SMTP carries (RFC 5321's path limit less
// its brackets).
const maxEmail = 254

// checkContact returns the problems with a user's address, channel and
// language, each naming its field.
func checkContact(u User) []engine.Detail {
	var out []engine.Detail
	if u.Email != "" {
		switch a, err := mail.ParseAddress(u.Email); {
		case gate.Problem(u.Email) != "":
			out = append(out, engine.Detail{Field: "email", Message: gate.Problem(u.Email)})
		case len(u.Email) > maxEmail:
			out = append(out, engine.Detail{Field: "email", Message: fmt.Sprintf("is %d bytes long; at most %d allowed", len(u.Email), maxEmail)})
		case err != nil || a.Address != u.Email || a.Name != "":
			// A bare address only: a display name comes from the user's name.
			out = append(out, engine.Detail{Field: "email", Message: fmt.Sprintf("%q is not an e-mail address such as ivy@example.com", u.Email)})
		}
	}
	if u.Channel != "" && !slices.Contains(Channels, u.Channel) {
		out = append(out, engine.Detail{Field: "channel", Message: fmt.Sprintf("is %q; want one of %s (or empty: e-mail when there is an address)",
			u.Channel, strings.Join(Channels, ", "))})
	}
	if u.Channel == ChannelEmail && u.Email == "" {
		out = append(out, engine.Detail{Field: "email", Message: "is required when the channel is email"})
	}
	if u.Language != "" && u.Language != LanguageEnglish && u.Language != LanguageChinese {
		out = append(out, engine.Detail{Field: "language", Message: fmt.Sprintf("is %q; want %s or %s", u.Language, LanguageEnglish, LanguageChinese)})
	}
	return out
}

// auditSource makes the unique source key of an identity change: each is its
// own record, never a retry of another.
func auditSource(target string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s#%s", target, base64.RawURLEncoding.EncodeToString(b))
}
