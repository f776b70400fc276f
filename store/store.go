// Package store keeps itilflow's PostgreSQL data: published definitions, the
// projection of every process (state, SLA clocks, events, notifications), users,
// their groups and API tokens. Temporal's workflow histories are the source of
// truth for processes; the store is what the API reads and reports query.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/itilflow/itilflow/engine"
)

// Store is a handle on the database. It is safe for concurrent use.
type Store struct {
	db       *sqlx.DB
	compiled compiled
	// auditKeys link new audit records (the first) and verify old ones (all),
	// see WithAuditKey.
	auditKeys []auditKey
	// optErr is what an option could not apply; Open returns it.
	optErr error
}

// querier is what a transaction and the pool have in common for reads.
type querier interface {
	GetContext(ctx context.Context, dest any, query string, args ...any) error
}

// Option configures a Store when it is opened. An option that cannot apply (a
// key too short) makes Open fail.
type Option func(*Store)

// Open connects to the database at url (a lib/pq URL or DSN) and checks that it
// answers.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	const op = "store.Open"
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, &engine.Error{Code: engine.EINVALID, Op: op, Message: "bad DATABASE_URL", Err: err}
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fail(op, err)
	}
	s := &Store{db: db}
	for _, o := range opts {
		o(s)
	}
	if s.optErr != nil {
		db.Close()
		return nil, s.optErr
	}
	return s, nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.db.Close() }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fail("store.Ping", err)
	}
	return nil
}

// fail classifies a database error: a lost or refused connection is EUNAVAILABLE
// (the caller answers 503 and may retry); anything else is EINTERNAL.
func fail(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *engine.Error
	if errors.As(err, &e) {
		return err
	}
	code := engine.EINTERNAL
	var pqErr *pq.Error
	var netErr net.Error
	switch {
	case errors.Is(err, sql.ErrNoRows):
		code = engine.ENOTFOUND
	case errors.As(err, &pqErr):
		switch pqErr.Code.Class() {
		case "08", "57", "53": // connection exception, operator intervention, insufficient resources
			code = engine.EUNAVAILABLE
		}
		if pqErr.Code == "23505" {
			code = engine.ECONFLICT
		}
	// lib/pq reports a dropped connection as driver.ErrBadConn or an io error.
	case errors.As(err, &netErr), errors.Is(err, sql.ErrConnDone), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, context.DeadlineExceeded):
		code = engine.EUNAVAILABLE
	}
	return &engine.Error{Code: code, Op: op, Message: "database request failed", Err: err}
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fail(op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return fail(op, err)
	}
	return fail(op, tx.Commit())
}
