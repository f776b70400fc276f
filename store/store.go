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
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/itilflow/itilflow/engine"
)

// Store is a handle on the database. It is safe for concurrent use.
type Store struct {
	db       *pool
	compiled compiled
	// timeout bounds every database call (WithTimeout).
	timeout time.Duration
	// auditKeys link new audit records (the first) and verify old ones (all),
	// see WithAuditKey.
	auditKeys []auditKey
	// optErr is what an option could not apply; Open returns it.
	optErr error
	// observer, when set, hears of every committed projection
	// (ObserveProjections).
	observer ProjectionObserver
}

// querier is what a transaction and the pool have in common for reads.
type querier interface {
	GetContext(ctx context.Context, dest any, query string, args ...any) error
}

// Option configures a Store when it is opened. An option that cannot apply (a
// key too short) makes Open fail.
type Option func(*Store)

// Open connects to the database at url (a lib/pq URL or DSN) and checks that it
// answers. Options apply first: they may configure the pool.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	const op = "store.Open"
	s := &Store{timeout: DefaultTimeout}
	for _, o := range opts {
		o(s)
	}
	if s.optErr != nil {
		return nil, s.optErr
	}
	if s.timeout <= 0 {
		return nil, &engine.Error{Code: engine.EINVALID, Op: op, Message: fmt.Sprintf("the database timeout must be positive, not %v", s.timeout)}
	}
	db, err := openPool(url, s.timeout)
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
	s.db = db
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

// fail classifies a database error: a lost or refused connection, a server that
// did not answer in time, a statement or lock wait the server cut short, or a
// call abandoned by its caller is EUNAVAILABLE (the API answers 503 with
// Retry-After; activities retry); anything else is EINTERNAL.
func fail(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *engine.Error
	if errors.As(err, &e) {
		return err
	}
	code, msg := engine.EINTERNAL, "database request failed"
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
		switch pqErr.Code {
		case "23505":
			code = engine.ECONFLICT
		case "57014", "55P03", "25P03": // statement_timeout, lock_timeout, idle_in_transaction_session_timeout
			code, msg = engine.EUNAVAILABLE, "the database did not finish in time"
		}
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		code, msg = engine.EUNAVAILABLE, "the database did not answer in time"
	// lib/pq reports a dropped connection as driver.ErrBadConn or an io error.
	case errors.As(err, &netErr), errors.Is(err, sql.ErrConnDone), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		code = engine.EUNAVAILABLE
	}
	return &engine.Error{Code: code, Op: op, Message: msg, Err: err}
}

// inTx runs fn in a transaction, committing when it returns nil. Its wait for a
// connection is bounded (pool.conn), and each statement is bounded on its own.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx *sqlx.Tx) error) error {
	conn, err := s.db.conn(ctx)
	if err != nil {
		return fail(op, err)
	}
	defer conn.Close()
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return fail(op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return fail(op, err)
	}
	return fail(op, tx.Commit())
}
