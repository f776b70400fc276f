package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"

	"github.com/lib/pq"

	"github.com/itilflow/itilflow/engine"
)

// User is a person (or system) that calls the API.
type User struct {
	ID    string         `json:"id" db:"id"`
	Name  string         `json:"name" db:"name"`
	Roles pq.StringArray `json:"roles" db:"roles"`
	// Email is where notification e-mails go (empty: none); Channel how the
	// user wants notifications (ChannelEmail, ChannelWebhook, ChannelNone;
	// empty: e-mail when there is an address); Language the language of their
	// e-mails (LanguageEnglish, LanguageChinese; empty: English). Only the
	// directory's own reads fill them (UserByID, Users): the ones behind
	// authentication leave them empty.
	Email    string `json:"email,omitempty" db:"email"`
	Channel  string `json:"channel,omitempty" db:"notify_channel"`
	Language string `json:"language,omitempty" db:"language"`
	// Digest sends the user's reminders in one e-mail a day instead of one
	// each.
	Digest bool `json:"reminder_digest,omitempty" db:"reminder_digest"`
}

func pqArray(s []string) pq.StringArray { return pq.StringArray(s) }

// TokenDigest is what the store keeps of a token: it authenticates nobody,
// so a console session may keep it to notice the token's revocation.
func TokenDigest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// UpsertUser creates the user or updates their name and roles.
func (s *Store) UpsertUser(ctx context.Context, u User) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO users (id, name, roles) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, roles = EXCLUDED.roles`, u.ID, u.Name, u.Roles)
	return fail("store.UpsertUser", err)
}

// AddToken lets token authenticate as the user. Only its digest is stored.
func (s *Store) AddToken(ctx context.Context, userID, token, label string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO tokens (digest, user_id, label) VALUES ($1, $2, $3)
		ON CONFLICT (digest) DO UPDATE SET user_id = EXCLUDED.user_id, label = EXCLUDED.label, revoked_at = NULL`,
		TokenDigest(token), userID, label)
	return fail("store.AddToken", err)
}

// UserByToken returns the user a token authenticates, or EUNAUTHORIZED.
func (s *Store) UserByToken(ctx context.Context, token string) (User, error) {
	return s.UserByTokenDigest(ctx, TokenDigest(token))
}

// UserByTokenDigest returns the user of a token that is not revoked, by its
// digest, or EUNAUTHORIZED.
func (s *Store) UserByTokenDigest(ctx context.Context, digest string) (User, error) {
	var u User
	err := s.db.GetContext(ctx, &u, `SELECT u.id, u.name, u.roles FROM tokens t JOIN users u ON u.id = t.user_id
		WHERE t.digest = $1 AND t.revoked_at IS NULL`, digest)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return u, engine.Errorf(engine.EUNAUTHORIZED, "unknown or revoked token")
		}
		return u, fail("store.UserByToken", err)
	}
	return u, nil
}
