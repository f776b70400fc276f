// Package temporalserver runs a complete Temporal server (frontend, history,
// matching and worker services) inside the current process, persisted in a
// single SQLite file.
//
// It exists so that `itilflow dev` works without Docker or a separately
// installed Temporal CLI, keeps its workflows across restarts (including a
// SIGKILL), and so that integration tests can get a real server cheaply (use
// an empty DBFile for an in-memory, throw-away server).
//
// It is a deliberately small re-implementation of what the Temporal server's
// temporaltest/internal lite server and the Temporal CLI's dev server do, built
// only from public packages of go.temporal.io/server.
//
// EnsureSearchAttributes works against any Temporal deployment and is what
// `itilflow serve` uses to register its custom search attributes.
package temporalserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	persistencesql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/resolver"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"go.uber.org/zap"
	"google.golang.org/protobuf/types/known/durationpb"
)

const (
	defaultIP        = "127.0.0.1"
	defaultNamespace = "default"
	defaultLogLevel  = "warn"
	clusterName      = "active"
	// broadcastAddress is what the services advertise to each other (ringpop
	// membership); everything runs in this process, so loopback is enough.
	broadcastAddress = "127.0.0.1"
	// readyTimeout bounds how long Start waits for the frontend to answer.
	readyTimeout = 60 * time.Second
	// saVisibleTimeout bounds how long EnsureSearchAttributes waits for newly
	// added attributes to be listed by the server.
	saVisibleTimeout = 30 * time.Second
)

// Options configures Start. The zero value is a usable in-memory server.
type Options struct {
	// DBFile is the SQLite file the server persists to. It is created (with
	// the schema) on first use, parent directories included. "" selects an
	// in-memory database: ephemeral, meant for tests.
	DBFile string
	// IP the frontend gRPC service binds to; default 127.0.0.1. The other
	// services always bind to loopback.
	IP string
	// Port of the frontend gRPC service; 0 picks a free port.
	Port int
	// Namespace to use; default "default". It is registered at start if
	// missing.
	Namespace string
	// SearchAttributes are custom search attributes of Namespace. They are
	// registered with the namespace when it is created and, for a namespace
	// created by an earlier run, added through the operator service after the
	// server started if they are missing.
	SearchAttributes map[string]enumspb.IndexedValueType
	// LogLevel of the server's own logger: debug, info, warn (default), error,
	// or none. Ignored when Logger is set.
	LogLevel string
	// Logger overrides the server's logger.
	Logger log.Logger
	// Retention is how long closed workflow histories are kept; default
	// DefaultRetention.
	Retention time.Duration
}

// DefaultRetention keeps closed histories for a year, for audits and replay.
const DefaultRetention = 365 * 24 * time.Hour

// Server is a running in-process Temporal server. Stop it with Stop.
type Server struct {
	srv       temporal.Server
	hostPort  string
	namespace string
	retention time.Duration

	// stopping silences the server's logger while it shuts down.
	stopping *atomic.Bool
	stopOnce sync.Once
	stopErr  error
}

// Start starts a Temporal server and waits until its frontend answers for
// the namespace (at most 60s, or until ctx is done), then makes sure the
// custom search attributes exist. ctx only bounds starting up: the server
// runs until Stop is called.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if err := opts.applyDefaults(); err != nil {
		return nil, err
	}
	logger, err := opts.logger()
	if err != nil {
		return nil, err
	}
	stopping := new(atomic.Bool)
	logger = newQuietLogger(logger, stopping)

	sqlCfg, err := prepareDatabase(opts)
	if err != nil {
		return nil, err
	}

	ports, err := allocatePorts(opts.IP, opts.Port)
	if err != nil {
		return nil, err
	}
	clientHost := opts.IP
	if ip := net.ParseIP(clientHost); ip != nil && ip.IsUnspecified() {
		clientHost = broadcastAddress
	}
	hostPort := net.JoinHostPort(clientHost, strconv.Itoa(ports.frontendGRPC))

	srv, err := temporal.NewServer(
		temporal.WithConfig(serverConfig(opts.IP, hostPort, ports, sqlCfg)),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorization.NewNoopAuthorizer()),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper {
			return authorization.NewNoopClaimMapper()
		}),
		temporal.WithDynamicConfigClient(devDynamicConfig()),
		temporal.WithCustomMetricsHandler(metrics.NoopMetricsHandler),
	)
	if err != nil {
		return nil, fmt.Errorf("temporalserver: create server: %w", err)
	}
	s := &Server{srv: srv, hostPort: hostPort, namespace: opts.Namespace, retention: opts.Retention, stopping: stopping}
	if err := srv.Start(); err != nil {
		// Start may have started some services before failing.
		_ = s.Stop()
		return nil, fmt.Errorf("temporalserver: start server: %w", err)
	}

	if err := s.awaitReadyAndEnsureSearchAttributes(ctx, opts.SearchAttributes); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// HostPort is the address clients dial to reach the frontend.
func (s *Server) HostPort() string { return s.hostPort }

// Namespace is the namespace the server was started for.
func (s *Server) Namespace() string { return s.namespace }

// NewClient dials the server. HostPort and Namespace are filled in when
// empty in opts.
func (s *Server) NewClient(opts client.Options) (client.Client, error) {
	if opts.HostPort == "" {
		opts.HostPort = s.hostPort
	}
	if opts.Namespace == "" {
		opts.Namespace = s.namespace
	}
	c, err := client.Dial(opts)
	if err != nil {
		return nil, fmt.Errorf("temporalserver: dial %s: %w", opts.HostPort, err)
	}
	return c, nil
}

// Stop stops all services. It is safe to call more than once; later calls
// return the result of the first. The server logs nothing below DPanic level
// from the moment Stop is called: shutting down in-process services produces
// a burst of expected connection errors.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.stopping.Store(true)
		if err := s.srv.Stop(); err != nil {
			s.stopErr = fmt.Errorf("temporalserver: stop server: %w", err)
		}
	})
	return s.stopErr
}

// EnsureSearchAttributes adds the custom search attributes that are missing
// from the namespace (OperatorService ListSearchAttributes +
// AddSearchAttributes) and waits until the server lists them. Existing ones
// are left alone; an attribute that exists with a different type is an error
// naming it.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string, attrs map[string]enumspb.IndexedValueType) error {
	if len(attrs) == 0 {
		return nil
	}
	if err := validateSearchAttributes(attrs); err != nil {
		return err
	}
	ops := c.OperatorService()
	missing, err := missingSearchAttributes(ctx, ops, namespace, attrs)
	if err != nil || len(missing) == 0 {
		return err
	}
	if _, err := ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        namespace,
		SearchAttributes: missing,
	}); err != nil {
		// Another process starting at the same time (a second serve
		// replica) may have added them first: then they are there now.
		if still, lerr := missingSearchAttributes(ctx, ops, namespace, attrs); lerr != nil || len(still) > 0 {
			return fmt.Errorf("add search attributes %s to namespace %q: %w",
				strings.Join(sortedKeys(missing), ", "), namespace, err)
		}
		return nil
	}

	// Adding is not necessarily visible at once (Elasticsearch-backed
	// servers run it as a system workflow); wait until the server lists them.
	waitCtx, cancel := context.WithTimeout(ctx, saVisibleTimeout)
	defer cancel()
	for {
		missing, err = missingSearchAttributes(waitCtx, ops, namespace, attrs)
		if err == nil && len(missing) == 0 {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("search attributes %s of namespace %q not listed yet",
				strings.Join(sortedKeys(missing), ", "), namespace)
		}
		select {
		case <-waitCtx.Done():
			return fmt.Errorf("wait for added search attributes: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// missingSearchAttributes lists the namespace's search attributes and
// returns the wanted ones that do not exist yet. An attribute that exists
// with another type is an error.
func missingSearchAttributes(ctx context.Context, ops operatorservice.OperatorServiceClient, namespace string, attrs map[string]enumspb.IndexedValueType) (map[string]enumspb.IndexedValueType, error) {
	resp, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list search attributes of namespace %q: %w", namespace, err)
	}
	missing := make(map[string]enumspb.IndexedValueType)
	for _, name := range sortedKeys(attrs) {
		want := attrs[name]
		have, ok := resp.GetCustomAttributes()[name]
		if !ok {
			have, ok = resp.GetSystemAttributes()[name]
		}
		switch {
		case !ok:
			missing[name] = want
		case have != want:
			return nil, fmt.Errorf("search attribute %q of namespace %q exists with type %s, want %s",
				name, namespace, have, want)
		}
	}
	return missing, nil
}

func validateSearchAttributes(attrs map[string]enumspb.IndexedValueType) error {
	for _, name := range sortedKeys(attrs) {
		if name == "" {
			return errors.New("search attribute with empty name")
		}
		if t := attrs[name]; t == enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED || enumspb.IndexedValueType_name[int32(t)] == "" {
			return fmt.Errorf("search attribute %q: invalid type %d", name, int32(t))
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// awaitReadyAndEnsureSearchAttributes waits until the frontend answers for
// the namespace, then registers missing search attributes.
func (s *Server) awaitReadyAndEnsureSearchAttributes(ctx context.Context, attrs map[string]enumspb.IndexedValueType) error {
	readyCtx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()

	quiet := sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	var (
		c   client.Client
		err error
	)
	for {
		c, err = s.probe(readyCtx, quiet)
		if err == nil {
			break
		}
		select {
		case <-readyCtx.Done():
			return fmt.Errorf("temporalserver: frontend at %s not ready: %w", s.hostPort, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
	defer c.Close()

	if err := EnsureSearchAttributes(ctx, c, s.namespace, attrs); err != nil {
		return fmt.Errorf("temporalserver: %w", err)
	}
	return ensureRetention(ctx, c, s.namespace, s.retention)
}

// ensureRetention sets how long closed workflow histories are kept. The SQLite
// schema helper creates namespaces with one day, but the histories are itilflow's
// audit record: auditors must be able to export and replay them much later.
func ensureRetention(ctx context.Context, c client.Client, namespace string, retention time.Duration) error {
	desc, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("temporalserver: describe namespace %q: %w", namespace, err)
	}
	if desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration() == retention {
		return nil
	}
	_, err = c.WorkflowService().UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{
		Namespace: namespace,
		Config:    &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(retention)},
	})
	if err != nil {
		return fmt.Errorf("temporalserver: set retention of namespace %q: %w", namespace, err)
	}
	return nil
}

// probe dials the frontend and checks health and the namespace.
func (s *Server) probe(ctx context.Context, logger sdklog.Logger) (client.Client, error) {
	attemptCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := client.DialContext(attemptCtx, client.Options{
		HostPort:  s.hostPort,
		Namespace: s.namespace,
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	if _, err := c.CheckHealth(attemptCtx, &client.CheckHealthRequest{}); err != nil {
		c.Close()
		return nil, fmt.Errorf("check health: %w", err)
	}
	if _, err := c.WorkflowService().DescribeNamespace(attemptCtx, &workflowservice.DescribeNamespaceRequest{
		Namespace: s.namespace,
	}); err != nil {
		c.Close()
		return nil, fmt.Errorf("describe namespace %q: %w", s.namespace, err)
	}
	return c, nil
}

func (o *Options) applyDefaults() error {
	if o.IP == "" {
		o.IP = defaultIP
	}
	if net.ParseIP(o.IP) == nil {
		return fmt.Errorf("temporalserver: IP %q is not an IP address", o.IP)
	}
	if o.Port < 0 || o.Port > 65535 {
		return fmt.Errorf("temporalserver: invalid port %d", o.Port)
	}
	if o.Namespace == "" {
		o.Namespace = defaultNamespace
	}
	if o.LogLevel == "" {
		o.LogLevel = defaultLogLevel
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if err := validateSearchAttributes(o.SearchAttributes); err != nil {
		return fmt.Errorf("temporalserver: %w", err)
	}
	return nil
}

func (o *Options) logger() (log.Logger, error) {
	if o.Logger != nil {
		return o.Logger, nil
	}
	switch level := strings.ToLower(o.LogLevel); level {
	case "none":
		return log.NewNoopLogger(), nil
	case "debug", "info", "warn", "error":
		zl := log.BuildZapLogger(log.Config{Level: level, Format: "console"})
		// Stack traces on every error-level line make the few expected
		// transient errors of a starting server fill the screen.
		return log.NewZapLogger(zl.WithOptions(zap.AddStacktrace(zap.DPanicLevel))), nil
	default:
		return nil, fmt.Errorf("temporalserver: unknown log level %q (want debug, info, warn, error or none)", o.LogLevel)
	}
}

// prepareDatabase returns the SQL config of the server's store after making
// sure the database has the schema and the namespace.
func prepareDatabase(opts Options) (*config.SQL, error) {
	var cfg *config.SQL
	if opts.DBFile == "" {
		// Shared cache so all services see the same in-memory database; a
		// random name so that servers in one process do not share it.
		cfg = &config.SQL{
			PluginName:   sqliteplugin.PluginName,
			DatabaseName: fmt.Sprintf("temporalserver-%d", rand.Int64()),
			ConnectAttributes: map[string]string{
				"mode":  "memory",
				"cache": "shared",
			},
		}
	} else {
		path, err := filepath.Abs(opts.DBFile)
		if err != nil {
			return nil, fmt.Errorf("temporalserver: database file %q: %w", opts.DBFile, err)
		}
		// The plugin puts the path into a "file:" URI unescaped.
		if strings.ContainsAny(path, "?#%") {
			return nil, fmt.Errorf("temporalserver: database file %q: path must not contain '?', '#' or '%%'", path)
		}
		if err := createDatabaseFile(path); err != nil {
			return nil, fmt.Errorf("temporalserver: create database %s: %w", path, err)
		}
		cfg = &config.SQL{
			PluginName:   sqliteplugin.PluginName,
			DatabaseName: path,
			// Keys other than SQLite URI parameters become "PRAGMA key=value"
			// on every connection. WAL survives a crash of the process
			// (SIGKILL) at any point; synchronous=FULL (2) additionally
			// fsyncs each commit so it survives power loss.
			ConnectAttributes: map[string]string{
				"mode":         "rwc",
				"journal_mode": "wal",
				"synchronous":  "2",
			},
		}
	}

	ns, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, opts.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("temporalserver: namespace %q: %w", opts.Namespace, err)
	}
	// A no-op when the namespace exists; missing search attributes of an
	// existing namespace are added once the server runs.
	if err := sqliteschema.CreateNamespaces(cfg, ns); err != nil {
		return nil, fmt.Errorf("temporalserver: register namespace %q: %w", opts.Namespace, err)
	}
	if err := forgetMembership(cfg); err != nil {
		return nil, fmt.Errorf("temporalserver: %w", err)
	}
	return cfg, nil
}

// forgetMembership deletes the cluster membership records of earlier runs.
//
// The services find each other (ringpop) through hosts that heartbeated into
// the cluster_membership table within the last 20s. After a restart those are
// the dead hosts of the previous run, and a service that bootstraps from them
// gives up only after Membership.MaxJoinDuration plus a 10s retry pause:
// matching stayed unreachable for ~45s and workflows did not move. Nothing
// else uses the database, so every record in it is stale.
func forgetMembership(cfg *config.SQL) error {
	db, err := persistencesql.NewSQLDB(sqlplugin.DbKindMain, cfg, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer func() { _ = db.Close() }()
	// Records are written to expire 48h after their last heartbeat.
	if _, err := db.PruneClusterMembership(context.Background(), &sqlplugin.PruneClusterMembershipFilter{
		PruneRecordsBefore: time.Now().Add(365 * 24 * time.Hour),
	}); err != nil {
		return fmt.Errorf("delete stale cluster membership: %w", err)
	}
	return nil
}

// createDatabaseFile creates the SQLite file with the Temporal schema if it
// does not exist. The schema is written to a temporary file in the same
// directory that is renamed into place when complete, so a process killed
// half-way never leaves a database with a partial schema behind.
func createDatabaseFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Leftovers of an earlier attempt that was killed.
	stale, _ := filepath.Glob(path + ".init-*")
	for _, f := range stale {
		_ = os.Remove(f)
	}

	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".init-*")
	if err != nil {
		return err
	}
	tmpPath := tmp.Name()
	if err := tmp.Close(); err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			_ = os.Remove(tmpPath)
			_ = os.Remove(tmpPath + "-journal")
		}
	}()

	// No journal and no syncing while filling the throw-away file: every
	// commit still reaches the file with write(2), and the file is synced
	// once below before it is renamed into place.
	//
	// Note: the sqlite plugin keeps every connection it ever opened (its
	// pool never closes them), so one idle connection to this file stays
	// open for the life of the process. It is never used again.
	if err := sqliteschema.SetupSchema(&config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: tmpPath,
		ConnectAttributes: map[string]string{
			"mode":         "rwc",
			"journal_mode": "off",
			"synchronous":  "0",
		},
	}); err != nil {
		return fmt.Errorf("set up schema: %w", err)
	}
	if err := syncPath(tmpPath); err != nil {
		return err
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return err
	}
	ok = true
	// Make the rename itself durable.
	return syncPath(dir)
}

func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

type portSet struct {
	frontendGRPC int
	grpc         map[string]int // by service, frontend excluded
	membership   map[string]int // by service
}

// serviceNames are the services the server runs (temporal.DefaultServices).
func serviceNames() []string { return []string{"frontend", "history", "matching", "worker"} }

// allocatePorts picks the frontend port (or checks that the fixed one is
// free) and a gRPC and a membership port for every service. All listeners
// are held until every port is picked so that no port is handed out twice.
func allocatePorts(frontendIP string, frontendPort int) (portSet, error) {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	pick := func(ip string) (int, error) {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return 0, fmt.Errorf("temporalserver: pick a free port on %s: %w", ip, err)
		}
		listeners = append(listeners, l)
		return l.Addr().(*net.TCPAddr).Port, nil
	}

	ps := portSet{
		frontendGRPC: frontendPort,
		grpc:         make(map[string]int),
		membership:   make(map[string]int),
	}
	var err error
	if ps.frontendGRPC == 0 {
		if ps.frontendGRPC, err = pick(frontendIP); err != nil {
			return portSet{}, err
		}
	} else {
		// The server exits the process (logger.Fatal) when it cannot listen,
		// so find out here.
		addr := net.JoinHostPort(frontendIP, strconv.Itoa(frontendPort))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return portSet{}, fmt.Errorf("temporalserver: frontend address %s not available: %w", addr, err)
		}
		listeners = append(listeners, l)
	}
	for _, svc := range serviceNames() {
		if svc != "frontend" {
			if ps.grpc[svc], err = pick(broadcastAddress); err != nil {
				return portSet{}, err
			}
		}
		if ps.membership[svc], err = pick(broadcastAddress); err != nil {
			return portSet{}, err
		}
	}
	return ps, nil
}

func serverConfig(frontendIP, hostPort string, ports portSet, sqlCfg *config.SQL) *config.Config {
	const store = "sqlite-default"
	cfg := &config.Config{}
	cfg.Global.Membership = config.Membership{
		MaxJoinDuration:  30 * time.Second,
		BroadcastAddress: broadcastAddress,
	}
	// Global.Metrics stays nil (no Prometheus listener) and PProf.Port 0
	// (no pprof listener).
	cfg.Persistence = config.Persistence{
		DefaultStore:     store,
		VisibilityStore:  store,
		NumHistoryShards: 1,
		DataStores:       map[string]config.DataStore{store: {SQL: sqlCfg}},
	}
	cfg.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             hostPort,
			},
		},
	}
	cfg.DCRedirectionPolicy = config.DCRedirectionPolicy{Policy: "noop"}
	cfg.Services = make(map[string]config.Service)
	for _, svc := range serviceNames() {
		rpc := config.RPC{MembershipPort: ports.membership[svc]}
		if svc == "frontend" {
			rpc.GRPCPort = ports.frontendGRPC
			rpc.BindOnIP = frontendIP
		} else {
			rpc.GRPCPort = ports.grpc[svc]
			rpc.BindOnLocalHost = true
		}
		cfg.Services[svc] = config.Service{RPC: rpc}
	}
	cfg.Archival.History.State = "disabled"
	cfg.Archival.Visibility.State = "disabled"
	cfg.NamespaceDefaults.Archival.History.State = "disabled"
	cfg.NamespaceDefaults.Archival.Visibility.State = "disabled"
	// The worker service's system workflows use this client.
	cfg.PublicClient = config.PublicClient{HostPort: hostPort}
	return cfg
}

// devDynamicConfig is the dynamic config of a development server, after the
// Temporal CLI's `temporal server start-dev`.
func devDynamicConfig() dynamicconfig.StaticClient {
	return dynamicconfig.StaticClient{
		// Read search attributes from the database instead of a cache, so an
		// attribute added by EnsureSearchAttributes is usable at once.
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
		// Workflow updates, which UpdateWithStart needs. Already the default
		// in this server version; pinned so a dependency bump cannot turn
		// them off. (ExecuteMultiOperation has no switch any more.)
		dynamicconfig.FrontendEnableUpdateWorkflowExecution.Key():              true,
		dynamicconfig.FrontendEnableUpdateWorkflowExecutionAsyncAccepted.Key(): true,
	}
}
