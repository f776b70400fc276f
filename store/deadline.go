package store

// Every database call has a deadline, on both ends of the connection.
//
// A context alone bounds nothing when PostgreSQL hangs (a stopped server, a
// stalled disk, a lost network): lib/pq answers a cancelled context by sending a
// cancel request on a new connection and marking the connection bad, but the
// goroutine blocked reading the old connection's socket stays blocked until the
// server answers — and so does the cancel request, which reads until EOF without
// a deadline. So:
//
//   - the server cancels a statement that runs longer than the store's timeout
//     (statement_timeout, sent when each connection starts), which also bounds
//     lock waits, advisory locks included; a transaction left idle is ended
//     (idle_in_transaction_session_timeout), so a stuck client cannot hold the
//     audit log's lock;
//   - the client puts a deadline on the socket itself for every wait for an
//     answer: the call's context deadline, or the timeout plus answerGrace if
//     sooner. A live server's own cancellation arrives first (a clean error, the
//     connection kept); a server that does not answer at all is cut off, the
//     read returns, and the connection is discarded. A context that ends cuts the
//     socket at once. Rows re-arm the deadline before each row, so a long result
//     that keeps coming is not cut off while the server is alive;
//   - dialling and the start-up handshake are bounded the same way, and so is the
//     cancel request lib/pq sends on a connection of its own;
//   - calls that finish within the method (Get, Select, Exec, Ping) and taking a
//     connection for a transaction also bound the wait for a free connection,
//     which otherwise lasts as long as the pool's busy connections.
//
// A call cut off this way is EUNAVAILABLE (see fail), so the API answers 503
// with Retry-After and activities retry. Migrations lift the bound (Migrate).

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/gate"
)

const (
	// DefaultTimeout is how long a statement may run when Open is not given
	// WithTimeout. The API answers within it plus answerGrace even when
	// PostgreSQL hangs; the store's queries take milliseconds on a healthy one.
	DefaultTimeout = 3 * time.Second
	// answerGrace is how much longer than the server's statement timeout the
	// client waits for an answer, so the server's own cancellation, which keeps
	// the connection, wins whenever the server is alive.
	answerGrace = 500 * time.Millisecond
	// idleInTransactionFactor times the timeout is how long a transaction may sit
	// idle on the server: longer than a statement, so a busy client is not cut
	// off between two statements, short enough that a stuck one does not hold its
	// locks for long.
	idleInTransactionFactor = 4
)

// WithTimeout bounds every database call: PostgreSQL cancels a statement after d,
// and the client abandons a call, and its connection, when the server has not
// answered d+0.5s after the call began (or after the last row it sent).
// Connecting is bounded by d. The store sets these itself: a statement_timeout
// or connect_timeout in the database URL is replaced. The default is
// DefaultTimeout; d must be positive.
func WithTimeout(d time.Duration) Option { return func(s *Store) { s.timeout = d } }

type liftedKey struct{}

// withoutTimeout returns a context whose calls the client bounds only by ctx
// itself, for work that may rightly take long (migrations). The server's
// statement_timeout is the caller's to lift, on its own connection.
func withoutTimeout(ctx context.Context) context.Context {
	return context.WithValue(ctx, liftedKey{}, true)
}

func lifted(ctx context.Context) bool { v, _ := ctx.Value(liftedKey{}).(bool); return v }

// openPool opens the bounded pool for url.
func openPool(url string, timeout time.Duration) (*pool, error) {
	cfg, err := pq.NewConfig(url)
	if err != nil {
		return nil, err
	}
	if cfg.Runtime == nil {
		cfg.Runtime = map[string]string{}
	}
	cfg.Runtime["statement_timeout"] = milliseconds(timeout)
	cfg.Runtime["idle_in_transaction_session_timeout"] = milliseconds(idleInTransactionFactor * timeout)
	// The connector bounds dialling and the handshake itself, context included.
	cfg.ConnectTimeout = 0
	pc, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, err
	}
	pc.Dialer(dialer{})
	wait := timeout + answerGrace
	db := sql.OpenDB(&connector{pq: pc, connect: timeout, wait: wait})
	return &pool{DB: sqlx.NewDb(db, "postgres"), wait: wait}, nil
}

// milliseconds is d for a PostgreSQL setting, rounded up: 0 would mean no bound.
func milliseconds(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Millisecond-1)/time.Millisecond), 10)
}

// pool is the connection pool. The calls it overrides bound their wait for a
// free connection along with the call; the others (QueryxContext, whose rows
// outlive the call) wait for a connection as long as their context allows, and
// are bounded once they have one.
type pool struct {
	*sqlx.DB
	wait time.Duration
}

func (p *pool) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if lifted(ctx) {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, p.wait)
}

func (p *pool) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	ctx, cancel := p.bound(ctx)
	defer cancel()
	return p.DB.GetContext(ctx, dest, query, args...)
}

func (p *pool) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	ctx, cancel := p.bound(ctx)
	defer cancel()
	return p.DB.SelectContext(ctx, dest, query, args...)
}

func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx, cancel := p.bound(ctx)
	defer cancel()
	return p.DB.ExecContext(ctx, query, args...)
}

func (p *pool) PingContext(ctx context.Context) error {
	ctx, cancel := p.bound(ctx)
	defer cancel()
	return p.DB.PingContext(ctx)
}

// conn takes a connection for several statements (a transaction), waiting for a
// free one no longer than one call may take. The caller closes it. The
// connection does not keep the bounded context: each statement is bounded by
// its own.
func (p *pool) conn(ctx context.Context) (*sqlx.Conn, error) {
	actx, cancel := p.bound(ctx)
	defer cancel()
	return p.Connx(actx)
}

// dialer bounds every connection it makes by its context's deadline until told
// otherwise: lib/pq gives the cancel request a 10-second context, and connector
// gives connecting its own. It hands the connection to connector through the
// context, which is how the socket of a lib/pq connection can be reached.
type dialer struct{ net net.Dialer }

type dialedKey struct{}

func (d dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	nc, err := d.net.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		if err := nc.SetDeadline(dl); err != nil {
			nc.Close()
			return nil, err
		}
	}
	if slot, ok := ctx.Value(dialedKey{}).(*net.Conn); ok {
		// With several hosts or an SSL retry the last dial is the one that
		// connected.
		*slot = nc
	}
	return nc, nil
}

// Dial and DialTimeout complete pq.Dialer; lib/pq calls DialContext.
func (d dialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d dialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

// connector opens lib/pq connections with their sockets in reach.
type connector struct {
	pq      *pq.Connector
	connect time.Duration
	wait    time.Duration
}

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.connect)
	defer cancel()
	var nc net.Conn
	dc, err := c.pq.Connect(context.WithValue(ctx, dialedKey{}, &nc))
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
			return nil, &noAnswerError{what: "connecting", after: time.Since(start), cause: os.ErrDeadlineExceeded}
		}
		return nil, err
	}
	pc, ok := dc.(pqConn)
	if !ok || nc == nil {
		dc.Close()
		return nil, fmt.Errorf("store: lib/pq connection %T does not support deadlines", dc)
	}
	// Connected: from now on each call sets the deadline it needs.
	if err := nc.SetDeadline(time.Time{}); err != nil {
		dc.Close()
		return nil, err
	}
	return &conn{pqConn: pc, nc: nc, wait: c.wait}, nil
}

func (c *connector) Driver() driver.Driver { return c.pq.Driver() }

// pqConn is what a lib/pq connection implements and database/sql uses.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

// conn is a lib/pq connection whose every wait for the server has a deadline.
type conn struct {
	pqConn
	nc   net.Conn
	wait time.Duration
	// broken is set once a deadline cut a call short: the protocol may be
	// mid-message, so the connection is never used again.
	broken atomic.Bool
}

// longAgo is a deadline in the past: it makes a blocked read return at once.
var longAgo = time.Unix(1, 0)

// waiting is one armed wait for the server under a context.
type waiting struct {
	c     *conn
	ctx   context.Context
	what  string
	start time.Time
	// deadline is the socket's deadline; zero when only ctx's end bounds it.
	deadline time.Time
	stop     func() bool
}

// arm sets the socket's deadline for a call under ctx and makes ctx's end cut
// the socket at once. end (or rows' Close) disarms it.
func (c *conn) arm(ctx context.Context, what string) *waiting {
	w := &waiting{c: c, ctx: ctx, what: what, start: time.Now()}
	w.rearm()
	w.stop = context.AfterFunc(ctx, func() { c.nc.SetDeadline(longAgo) })
	return w
}

// rearm gives the server a fresh wait from now, within ctx's deadline.
func (w *waiting) rearm() {
	dl, _ := w.ctx.Deadline()
	if !lifted(w.ctx) {
		if own := time.Now().Add(w.c.wait); dl.IsZero() || own.Before(dl) {
			dl = own
		}
	}
	w.deadline = dl
	w.c.nc.SetDeadline(dl)
}

// explain turns a call cut off by a deadline or by its context into a
// noAnswerError, which is not driver.ErrBadConn: database/sql would otherwise
// retry the call, and wait again, on up to three connections. io.EOF and the
// server's own errors pass unchanged.
func (w *waiting) explain(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	// lib/pq reports some failed reads as driver.ErrBadConn: the clock says
	// whether the deadline caused them.
	passed := !w.deadline.IsZero() && !time.Now().Before(w.deadline)
	if !errors.Is(err, os.ErrDeadlineExceeded) && w.ctx.Err() == nil && !passed {
		return err
	}
	w.c.broken.Store(true)
	cause := w.ctx.Err()
	if cause == nil {
		cause = os.ErrDeadlineExceeded
	}
	return &noAnswerError{what: w.what, after: time.Since(w.start), cause: cause}
}

// end disarms the wait and explains err.
func (w *waiting) end(err error) error {
	if !w.stop() {
		// ctx ended: its cut may reach the socket at any moment now, even
		// during a later call, so the connection must not serve one.
		w.c.broken.Store(true)
	}
	err = w.explain(err)
	w.c.nc.SetDeadline(time.Time{})
	return err
}

// noAnswerError is a call the server did not answer in time, or whose context
// ended first. It unwraps to os.ErrDeadlineExceeded or the context's error.
type noAnswerError struct {
	what  string
	after time.Duration
	cause error
}

func (e *noAnswerError) Error() string {
	return fmt.Sprintf("PostgreSQL gave no answer (%s) within %v: %v", e.what, e.after.Round(time.Millisecond), e.cause)
}
func (e *noAnswerError) Unwrap() error { return e.cause }

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := storableArgs(args); err != nil {
		return nil, err
	}
	w := c.arm(ctx, "statement")
	r, err := c.pqConn.ExecContext(ctx, query, args)
	return r, w.end(err)
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := storableArgs(args); err != nil {
		return nil, err
	}
	w := c.arm(ctx, "query")
	r, err := c.pqConn.QueryContext(ctx, query, args)
	if err != nil {
		return nil, w.end(err)
	}
	return newRows(r, w)
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	w := c.arm(ctx, "prepare")
	s, err := c.pqConn.PrepareContext(ctx, query)
	if err = w.end(err); err != nil {
		return nil, err
	}
	ps, ok := s.(pqStmt)
	if !ok {
		return nil, errors.Join(fmt.Errorf("store: lib/pq statement %T takes no context", s), s.Close())
	}
	return &stmt{pqStmt: ps, c: c}, nil
}

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	w := c.arm(ctx, "begin")
	t, err := c.pqConn.BeginTx(ctx, opts)
	if err = w.end(err); err != nil {
		return nil, err
	}
	// Commit and rollback have no context of their own: they keep the
	// transaction's lifted bound, not its cancellation (database/sql rolls back
	// when that ends, and the rollback must still reach the server).
	return &tx{Tx: t, c: c, ctx: context.WithoutCancel(ctx)}, nil
}

func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *conn) Ping(ctx context.Context) error {
	w := c.arm(ctx, "ping")
	return w.end(c.pqConn.Ping(ctx))
}

func (c *conn) ResetSession(ctx context.Context) error {
	if c.broken.Load() {
		return driver.ErrBadConn
	}
	return c.pqConn.ResetSession(ctx)
}

func (c *conn) IsValid() bool { return !c.broken.Load() && c.pqConn.IsValid() }

// Close says goodbye to the server, but does not wait for a frozen one.
func (c *conn) Close() error {
	c.nc.SetDeadline(time.Now().Add(c.wait))
	return c.pqConn.Close()
}

type tx struct {
	driver.Tx
	c   *conn
	ctx context.Context
}

func (t *tx) Commit() error {
	w := t.c.arm(t.ctx, "commit")
	return w.end(t.Tx.Commit())
}

func (t *tx) Rollback() error {
	w := t.c.arm(t.ctx, "rollback")
	return w.end(t.Tx.Rollback())
}

// pqStmt is what a lib/pq statement implements and database/sql uses.
type pqStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

type stmt struct {
	pqStmt
	c *conn
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := storableArgs(args); err != nil {
		return nil, err
	}
	w := s.c.arm(ctx, "statement")
	r, err := s.pqStmt.ExecContext(ctx, args)
	return r, w.end(err)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := storableArgs(args); err != nil {
		return nil, err
	}
	w := s.c.arm(ctx, "query")
	r, err := s.pqStmt.QueryContext(ctx, args)
	if err != nil {
		return nil, w.end(err)
	}
	return newRows(r, w)
}

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

// storableArgs is the store's own text gate, below every caller: a text argument
// PostgreSQL cannot take (a NUL, bytes that are not UTF-8) is refused as
// invalid input before it is sent, never answered as a database failure.
func storableArgs(args []driver.NamedValue) error {
	for _, a := range args {
		s, ok := a.Value.(string)
		if !ok {
			continue
		}
		if p := gate.Problem(s); p != "" {
			return &engine.Error{Code: engine.EINVALID, Op: "store", Message: "text the database cannot store",
				Details: []engine.Detail{{Field: fmt.Sprintf("value %d", a.Ordinal), Message: p}}}
		}
	}
	return nil
}

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, v := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}

func (s *stmt) Close() error {
	w := s.c.arm(context.Background(), "close statement")
	return w.end(s.pqStmt.Close())
}

// pqRows is what lib/pq's rows implement and database/sql uses.
type pqRows interface {
	driver.Rows
	driver.RowsNextResultSet
	driver.RowsColumnTypeScanType
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypePrecisionScale
}

// rows keep their call's wait armed until closed, re-armed before each row.
type rows struct {
	pqRows
	w *waiting
}

func newRows(r driver.Rows, w *waiting) (driver.Rows, error) {
	pr, ok := r.(pqRows)
	if !ok {
		return nil, w.end(errors.Join(fmt.Errorf("store: lib/pq rows %T do not support deadlines", r), r.Close()))
	}
	return &rows{pqRows: pr, w: w}, nil
}

func (r *rows) Next(dest []driver.Value) error {
	r.w.rearm()
	return r.w.explain(r.pqRows.Next(dest))
}

// Close reads what is left of the result, so it needs the deadline too.
func (r *rows) Close() error {
	r.w.rearm()
	return r.w.end(r.pqRows.Close())
}
