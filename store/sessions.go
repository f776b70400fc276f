package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Sessions keeps the web console's sessions in PostgreSQL, so every server of
// a deployment knows them and a restart signs nobody out. It implements the
// store interfaces of github.com/alexedwards/scs/v2 (CtxStore), which the
// console's session manager uses. Rows are keyed by the digest of the
// session's token, as API tokens are: someone who can read the table cannot
// take over a session with what they read.
type Sessions struct{ s *Store }

// Sessions returns the session store.
func (s *Store) Sessions() Sessions { return Sessions{s} }

// FindCtx returns the data of an unexpired session.
func (ss Sessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var data []byte
	err := ss.s.db.GetContext(ctx, &data, `SELECT data FROM sessions WHERE token = $1 AND expiry > now()`, TokenDigest(token))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	return data, err == nil, fail("store.Sessions.Find", err)
}

// CommitCtx stores a session until expiry.
func (ss Sessions) CommitCtx(ctx context.Context, token string, data []byte, expiry time.Time) error {
	_, err := ss.s.db.ExecContext(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry`, TokenDigest(token), data, expiry)
	return fail("store.Sessions.Commit", err)
}

// DeleteCtx ends a session.
func (ss Sessions) DeleteCtx(ctx context.Context, token string) error {
	_, err := ss.s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token = $1`, TokenDigest(token))
	return fail("store.Sessions.Delete", err)
}

// Find, Commit and Delete are the same without a context (scs.Store).
func (ss Sessions) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}

// Commit stores a session until expiry.
func (ss Sessions) Commit(token string, data []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, data, expiry)
}

// Delete ends a session.
func (ss Sessions) Delete(token string) error { return ss.DeleteCtx(context.Background(), token) }

// DeleteExpired removes the sessions that have expired, and says how many.
func (ss Sessions) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := ss.s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expiry <= now()`)
	if err != nil {
		return 0, fail("store.Sessions.DeleteExpired", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
