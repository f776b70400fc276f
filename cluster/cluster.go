package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/itilflow/itilflow/devusers"
	"github.com/itilflow/itilflow/pgcluster"
	"github.com/itilflow/itilflow/store"
)

// Shards is the number of history shards of the cluster's Temporal server:
// more than one, so workflows live on different shards as in production
// (the embedded dev server has one), and few, as each shard costs a little.
const Shards = 4

// stopTimeout bounds how long Stop waits for each process.
const stopTimeout = 30 * time.Second

// Options says where the cluster lives and what it runs.
type Options struct {
	// Dir holds everything: PostgreSQL's data (Dir/pg), Temporal's config
	// and log (Dir/temporal), the audit key and the serve processes' logs.
	// A cluster started again on the same Dir keeps its data.
	Dir      string
	Binaries Binaries
	// Definitions is the directory `serve --definitions` publishes.
	Definitions string
	// TemporalLogLevel is the server's log level; default "warn".
	TemporalLogLevel string
	// Logf reports progress; optional.
	Logf func(format string, args ...any)
}

// Cluster is a running PostgreSQL and Temporal server, and the serve
// processes started on them.
type Cluster struct {
	opts Options
	// PG is the PostgreSQL of Temporal and of itilflow (database "itilflow").
	PG *pgcluster.Cluster
	// Temporal is the server process; TemporalAddress its frontend.
	Temporal        *Process
	TemporalAddress string
	auditKey        []byte

	mu     sync.Mutex
	serves []*Serve
	named  map[string]int // how many serve processes of each role were started, for their names
}

// Start starts PostgreSQL, creates Temporal's databases and applies their
// schema, and starts the Temporal server. Serve processes come from
// StartServe.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
		opts.Logf = logf
	}
	if opts.TemporalLogLevel == "" {
		opts.TemporalLogLevel = "warn"
	}
	if opts.Dir, err = filepath.Abs(opts.Dir); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	temporalDir := filepath.Join(opts.Dir, "temporal")
	if err := os.MkdirAll(temporalDir, 0o755); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	c := &Cluster{opts: opts, named: map[string]int{}}
	if c.auditKey, err = auditKey(filepath.Join(opts.Dir, "audit.key")); err != nil {
		return nil, err
	}
	// Temporal's services each keep a pool per store, as does every serve.
	c.PG, err = pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(opts.Dir, "pg"), Logf: logf, MaxConnections: 300})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = c.Stop()
		}
	}()
	host, port, user, err := hostPortUser(c.PG.URL())
	if err != nil {
		return nil, err
	}
	for _, db := range temporalDatabases {
		if err := c.PG.CreateDatabase(ctx, db.name); err != nil {
			return nil, err
		}
	}
	logf("cluster: applying Temporal's schema with temporal-sql-tool")
	if err := applySchema(ctx, opts.Binaries.SQLTool, host, port, user); err != nil {
		return nil, err
	}
	if err := forgetMembership(ctx, c.PG.DatabaseURL("temporal")); err != nil {
		return nil, err
	}
	logf("cluster: starting the Temporal server (%d history shards)", Shards)
	c.Temporal, c.TemporalAddress, err = startTemporal(ctx, opts.Binaries.TemporalServer, temporalDir, host, port, user, opts.TemporalLogLevel, Shards)
	if err != nil {
		return nil, err
	}
	logf("cluster: Temporal at %s (log: %s)", c.TemporalAddress, c.Temporal.LogPath)
	return c, nil
}

// DatabaseURL is itilflow's database, the serve processes' DATABASE_URL.
func (c *Cluster) DatabaseURL() string { return c.PG.URL() }

// AuditKey is the audit key the serve processes are given.
func (c *Cluster) AuditKey() []byte { return c.auditKey }

// Env is the environment of a serve process of this cluster.
func (c *Cluster) Env() []string {
	return []string{
		"DATABASE_URL=" + c.DatabaseURL(),
		"TEMPORAL_ADDRESS=" + c.TemporalAddress,
		"TEMPORAL_NAMESPACE=default",
		"ITILFLOW_AUDIT_KEY=" + hex.EncodeToString(c.auditKey),
	}
}

// StartServe starts an `itilflow serve --role role` (api, worker or all) and
// returns once it is healthy. Its log is Dir/<role>-<n>.log.
func (c *Cluster) StartServe(ctx context.Context, role string) (*Serve, error) {
	c.mu.Lock()
	c.named[role]++
	name := fmt.Sprintf("%s-%d", role, c.named[role])
	c.mu.Unlock()
	s, err := startServe(ctx, c.opts.Binaries.Itilflow, c.opts.Dir, name, role, c.opts.Definitions, c.Env())
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.serves = append(c.serves, s)
	c.mu.Unlock()
	c.opts.Logf("cluster: %s (pid %d) at %s (log: %s)", name, s.Pid(), s.URL(), s.LogPath)
	return s, nil
}

// SeedDevUsers creates the demo users of a dev-users.yaml, with their fixed
// tokens (dev-requester, dev-cab1, ...), in itilflow's database. Run it once
// a serve process has migrated the database.
func (c *Cluster) SeedDevUsers(ctx context.Context, file string) error {
	st, err := store.Open(ctx, c.DatabaseURL(), store.WithAuditKey(c.auditKey))
	if err != nil {
		return fmt.Errorf("cluster: seed dev users: %w", err)
	}
	defer st.Close()
	if _, err := devusers.Seed(ctx, st, file); err != nil {
		return fmt.Errorf("cluster: seed dev users: %w", err)
	}
	return nil
}

// Stop stops the serve processes still running, then Temporal, then
// PostgreSQL, and reports every failure.
func (c *Cluster) Stop() error {
	var errs []error
	c.mu.Lock()
	serves := c.serves
	c.serves = nil
	c.mu.Unlock()
	for _, s := range serves {
		if s.Exited() == nil {
			errs = append(errs, s.Stop(stopTimeout))
		}
	}
	if c.Temporal != nil && c.Temporal.Exited() == nil {
		errs = append(errs, c.Temporal.Stop(stopTimeout))
	}
	if c.PG != nil {
		errs = append(errs, c.PG.Stop())
	}
	return errors.Join(errs...)
}

// auditKey reads the cluster's audit key from path, making a random one on
// first use: the audit log of a cluster started again on its directory must
// verify with the key it was written with.
func auditKey(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil {
		k, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("cluster: audit key %s: %w", path, err)
		}
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("cluster: audit key: %w", err)
	}
	k := make([]byte, 32)
	rand.Read(k)
	if err := os.WriteFile(path, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("cluster: audit key: %w", err)
	}
	return k, nil
}

// hostPortUser takes the server's address and user from a lib/pq URL.
func hostPortUser(dbURL string) (host string, port int, user string, err error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", 0, "", fmt.Errorf("cluster: PostgreSQL URL: %w", err)
	}
	host, p, err := net.SplitHostPort(u.Host)
	if err != nil {
		return "", 0, "", fmt.Errorf("cluster: PostgreSQL URL: %w", err)
	}
	if port, err = strconv.Atoi(p); err != nil {
		return "", 0, "", fmt.Errorf("cluster: PostgreSQL URL: %w", err)
	}
	return host, port, u.User.Username(), nil
}
