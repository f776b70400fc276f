package store

import (
	"context"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/pgcluster/pgtest"
)

// proxy forwards TCP connections to PostgreSQL until frozen. A frozen proxy
// forwards nothing in either direction and keeps every connection open, and new
// ones are accepted and then left waiting: what a stopped server looks like from
// the client.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	thawed chan struct{} // closed while the proxy forwards
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, thawed: make(chan struct{})}
	close(p.thawed)
	var conns []net.Conn
	var connsMu sync.Mutex
	t.Cleanup(func() {
		p.thaw()
		ln.Close()
		connsMu.Lock()
		defer connsMu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			connsMu.Lock()
			conns = append(conns, client)
			connsMu.Unlock()
			go func() {
				<-p.gate()
				server, err := net.Dial("tcp", target)
				if err != nil {
					client.Close()
					return
				}
				connsMu.Lock()
				conns = append(conns, server)
				connsMu.Unlock()
				go p.pipe(server, client)
				p.pipe(client, server)
			}()
		}
	}()
	return p
}

// pipe copies from src to dst, holding each chunk while the proxy is frozen.
func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			<-p.gate()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) gate() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.thawed
}

func (p *proxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.thawed:
		p.thawed = make(chan struct{})
	default:
	}
}

func (p *proxy) thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.thawed:
	default:
		close(p.thawed)
	}
}

// openVia opens a migrated store on a fresh database through a proxy, and
// returns the database's own URL too.
func openVia(t *testing.T, timeout time.Duration) (*Store, *proxy, string) {
	t.Helper()
	direct := pgtest.NewDatabase(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	// Some calls below write audit records: any 32-byte key will do.
	s, err := Open(context.Background(), u.String(), WithTimeout(timeout), WithAuditKey([]byte("0123456789abcdef0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, p, direct
}

// session is a connection of its own to the database at url, outside any
// store's pool and bounds: another replica, or another client.
func session(t *testing.T, url string) *sqlx.Conn {
	t.Helper()
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Connx(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// unavailableWithin calls f and requires EUNAVAILABLE within limit.
func unavailableWithin(t *testing.T, limit time.Duration, f func() error) {
	t.Helper()
	start := time.Now()
	err := f()
	took := time.Since(start)
	if engine.ErrorCode(err) != engine.EUNAVAILABLE || took > limit {
		t.Fatalf("after %v: %v (code %q), want EUNAVAILABLE within %v", took, err, engine.ErrorCode(err), limit)
	}
	t.Logf("EUNAVAILABLE after %v: %v", took.Round(time.Millisecond), err)
}

func TestCallsEndWhenTheServerStopsAnswering(t *testing.T) {
	ctx := context.Background()
	s, p, _ := openVia(t, 300*time.Millisecond)
	// Three idle connections, so the first calls below block on live sockets.
	var warm []*sqlx.Conn
	for range 3 {
		c, err := s.db.Connx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		warm = append(warm, c)
	}
	for _, c := range warm {
		c.Close()
	}
	p.freeze()
	// 300ms for the server, 500ms of grace, and some slack for a busy machine.
	const limit = 2 * time.Second
	t.Run("Query", func(t *testing.T) {
		unavailableWithin(t, limit, func() error { _, err := s.Definitions(ctx); return err })
	})
	t.Run("Transaction", func(t *testing.T) {
		unavailableWithin(t, limit, func() error { return s.SaveUser(ctx, User{ID: "ana"}, "test") })
	})
	t.Run("Ping", func(t *testing.T) {
		unavailableWithin(t, limit, func() error { return s.Ping(ctx) })
	})
	t.Run("NewConnection", func(t *testing.T) {
		// The pool's connections were dropped above: this one dials, and the
		// frozen server never completes the handshake.
		s.db.SetMaxIdleConns(0)
		unavailableWithin(t, limit, func() error { _, err := s.Definitions(ctx); return err })
	})
	t.Run("RowsMidway", func(t *testing.T) {
		p.thaw()
		// 50 rows of 1 MB: the first arrives, the rest wait in the frozen proxy.
		rows, err := s.db.QueryxContext(ctx, `SELECT repeat('x', 1000000) FROM generate_series(1, 50)`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		if !rows.Next() {
			t.Fatalf("no first row: %v", rows.Err())
		}
		p.freeze()
		// The server's backend is blocked writing to the frozen proxy, and such a
		// backend holds up DROP DATABASE of other tests' databases: thaw at once.
		defer p.thaw()
		unavailableWithin(t, limit, func() error {
			for rows.Next() {
			}
			return fail("test.rows", rows.Err())
		})
	})
	t.Run("ContextEndCutsAtOnce", func(t *testing.T) {
		slow, p, _ := openVia(t, 10*time.Second)
		p.freeze()
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(200*time.Millisecond, cancel)
		unavailableWithin(t, time.Second, func() error { _, err := slow.Definitions(cctx); return err })
	})
	t.Run("SaturatedPool", func(t *testing.T) {
		// Calls beyond the pool's size wait for a connection no longer than a
		// call may take, rather than one such wait per call ahead of them.
		p.freeze()
		defer p.thaw()
		s.db.SetMaxOpenConns(1)
		defer s.db.SetMaxOpenConns(20)
		errs := make(chan error, 5)
		start := time.Now()
		for range cap(errs) {
			go func() { _, err := s.Definitions(ctx); errs <- err }()
		}
		for range cap(errs) {
			if err := <-errs; engine.ErrorCode(err) != engine.EUNAVAILABLE {
				t.Errorf("%v (code %q), want EUNAVAILABLE", err, engine.ErrorCode(err))
			}
		}
		if took := time.Since(start); took > limit {
			t.Fatalf("the last call ended after %v, want within %v", took, limit)
		}
	})
	t.Run("WorksAgainAfterThaw", func(t *testing.T) {
		if err := s.SaveUser(ctx, User{ID: "ana"}, "test"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestServerCancelsLongStatementsAndKeepsTheConnection(t *testing.T) {
	ctx := context.Background()
	s, _, direct := openVia(t, 300*time.Millisecond)
	s.db.SetMaxOpenConns(1)
	var pid int
	if err := s.db.GetContext(ctx, &pid, `SELECT pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	t.Run("StatementTimeout", func(t *testing.T) {
		unavailableWithin(t, 2*time.Second, func() error {
			_, err := s.db.ExecContext(ctx, `SELECT pg_sleep(5)`)
			return fail("test.sleep", err)
		})
	})
	t.Run("LockWait", func(t *testing.T) {
		// Another client holds the audit log's lock: the append waits for it no
		// longer than a statement may run.
		other := session(t, direct)
		if _, err := other.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, auditLock); err != nil {
			t.Fatal(err)
		}
		defer other.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, auditLock)
		unavailableWithin(t, 2*time.Second, func() error { return s.SaveUser(ctx, User{ID: "ana"}, "test") })
	})
	t.Run("SameConnectionAfterwards", func(t *testing.T) {
		var again int
		if err := s.db.GetContext(ctx, &again, `SELECT pg_backend_pid()`); err != nil {
			t.Fatal(err)
		}
		if again != pid {
			t.Fatalf("backend %d, then %d: the server's own cancellation should keep the connection", pid, again)
		}
	})
}

func TestMigrateIsNotBoundedByTheStatementTimeout(t *testing.T) {
	ctx := context.Background()
	s, _, direct := openVia(t, 200*time.Millisecond)
	// One connection, so the one Migrate used is the one checked below.
	s.db.SetMaxOpenConns(1)
	// Another replica is migrating: Migrate waits for its lock past the timeout.
	other := session(t, direct)
	if _, err := other.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(time.Second, func() { other.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, migrationLock) })
	start := time.Now()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate after %v: %v", time.Since(start), err)
	}
	if took := time.Since(start); took < time.Second {
		t.Fatalf("migrate did not wait for the other replica's lock: %v", took)
	}
	var timeout string
	if err := s.db.GetContext(ctx, &timeout, `SHOW statement_timeout`); err != nil || timeout != "200ms" {
		t.Fatalf("statement_timeout after migrating: %q %v", timeout, err)
	}
}

func TestLiftedCallsEndWithTheirContext(t *testing.T) {
	s, p, _ := openVia(t, 100*time.Millisecond)
	p.freeze()
	ctx, cancel := context.WithTimeout(withoutTimeout(context.Background()), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.db.ExecContext(ctx, `SELECT 1`)
	if took := time.Since(start); engine.ErrorCode(fail("test", err)) != engine.EUNAVAILABLE || took < time.Second || took > 3*time.Second {
		t.Fatalf("a lifted call ended after %v with %v; want its context's 1.5s", took, err)
	}
}
