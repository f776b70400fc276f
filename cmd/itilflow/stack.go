package main

import (
	"context"
	"errors"
	"expvar"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/itilflow/itilflow/activities"
	"github.com/itilflow/itilflow/api"
	"github.com/itilflow/itilflow/checkpoint"
	"github.com/itilflow/itilflow/console"
	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/mailer"
	"github.com/itilflow/itilflow/metrics"
	"github.com/itilflow/itilflow/reports"
	"github.com/itilflow/itilflow/service"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/webhook"
	"github.com/itilflow/itilflow/workflowhealth"
	"github.com/itilflow/itilflow/workflows"
)

// stack is what `dev` and `serve` share: the store, the worker and the API, on a
// Temporal client and database that the command provides.
type stack struct {
	log         *slog.Logger
	store       *store.Store
	temporal    client.Client
	httpAddr    string
	definitions string // directory of shipped definitions; "" publishes none
	// notifyURL, when set, is where the notifier delivers notifications.
	notifyURL string
	// mailer, when set, sends notifications by e-mail to the people the
	// directory says are reached that way.
	mailer *mailer.Mailer
	// secureCookies marks the console's cookies Secure: people reach it over
	// https.
	secureCookies bool
	// oidc, when set, offers OpenID Connect sign-in on the console.
	oidc *console.OIDCConfig
	// notifySigner and webhookSigner, when set, sign what goes to notifyURL
	// and the calls of webhook steps.
	notifySigner, webhookSigner *webhook.Signer
	// jwt, when set, makes the API accept JWTs from an identity provider.
	jwt *api.JWTVerifier
	// debug serves /debug/vars (expvar, with memstats) and /debug/pprof/ on the
	// API's address; only `dev` turns it on, where the API listens on loopback.
	debug bool
	// checkpoints, when set, is the file audit checkpoints are appended to;
	// they always go to the outbox too. checkpointEvery is how often the
	// chain's head is checkpointed when it moved.
	checkpoints     *checkpoint.File
	checkpointEvery time.Duration
	// health hears from the client of s.temporal (see watchedBy) of workflow
	// tasks that keep failing; /healthz reports them.
	health *workflowhealth.Monitor
	// workerStopTimeout is how long a stopping worker waits for the activities
	// in flight.
	workerStopTimeout time.Duration
	// limits bound a run of each process's workflow (recorded per process).
	limits workflows.Limits
	// registry is where the metrics go (the Temporal client's already do);
	// nil makes a new one.
	registry *prometheus.Registry
	// metricsAddr, when set, is the address /metrics is served on instead of
	// httpAddr (--metrics-addr).
	metricsAddr string
	// role is what this process runs (serve --role); the zero value runs
	// everything, as dev does.
	role role
}

// healthRecheckEvery is how often the monitor asks Temporal whether the
// workflows whose tasks failed here still fail.
const healthRecheckEvery = 30 * time.Second

// watchedBy has a client report the worker's failed workflow tasks to mon,
// through its logger and its metrics handler, and its metrics to metrics (nil
// drops them).
func watchedBy(mon *workflowhealth.Monitor, metrics client.MetricsHandler, opts client.Options) client.Options {
	if metrics == nil {
		metrics = client.MetricsNopHandler
	}
	opts.Logger = mon.Logger(opts.Logger)
	opts.MetricsHandler = mon.MetricsHandler(metrics)
	return opts
}

// temporalMetrics is the metrics handler of a command's Temporal client: the
// SDK's metrics, into reg. Close the closer after the client.
func temporalMetrics(reg *prometheus.Registry, log *slog.Logger) (client.MetricsHandler, io.Closer) {
	return metrics.TemporalHandler(reg, func(err error) {
		log.Warn("a Temporal SDK metric could not be registered; it is left out of /metrics", "error", err)
	})
}

// workerOptions are the worker's options; running learns which activities run.
func workerOptions(stopTimeout time.Duration, running *runningActivities) worker.Options {
	return worker.Options{
		// A workflow whose code panics or no longer replays its history is
		// kept, and its task retried until the code is fixed: failing it
		// would end the process for good. The health monitor makes it visible
		// (/healthz, `itilflow doctor`).
		WorkflowPanicPolicy: worker.BlockWorkflow,
		// A stop lets activities in flight finish rather than cancel them
		// (defaultWorkerStopTimeout says why).
		WorkerStopTimeout: stopTimeout,
		Interceptors:      []interceptor.WorkerInterceptor{running},
	}
}

// run migrates the database, publishes the shipped definitions, starts the worker
// and serves the API until ctx ends. ready is called with the API's address once
// it listens.
func (s *stack) run(ctx context.Context, ready func(addr string)) error {
	if s.checkpointEvery <= 0 {
		return fmt.Errorf("--audit-checkpoint-interval is %s: it must be more than 0", s.checkpointEvery)
	}
	if s.workerStopTimeout < 0 {
		return fmt.Errorf("--worker-stop-timeout is %s: it must not be negative", s.workerStopTimeout)
	}
	if s.workerStopTimeout < longestActivityAttempt {
		s.log.Warn("--worker-stop-timeout is shorter than a webhook step may take (5m): a stop cancels longer calls, "+
			"which spends one of their attempts although the receiver may have acted", "worker_stop_timeout", s.workerStopTimeout)
	}
	// Every role migrates: whichever process of a new release starts first
	// brings the schema its code needs, and the advisory lock in Migrate makes
	// the others wait for it.
	if err := s.store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var calendars engine.Calendars
	var reportsCfg *reports.Config
	var reportsDown string
	// Only the API publishes: a worker reads each process's definition from
	// its workflow's input, and N scaled workers publishing the same files at
	// once would only add contention (and log lines) to every start.
	if s.definitions != "" && s.role.api() {
		var err error
		if calendars, err = loadCalendars(filepath.Join(s.definitions, calendarsFile)); err != nil {
			return err
		}
		if err := publishDefinitions(ctx, s.store, s.definitions, calendars, s.log); err != nil {
			return err
		}
		// A reports.yaml that no longer matches the definitions (a process
		// owner published a version without a field it names) takes the
		// reports down, not the service: processes must go on.
		if reportsCfg, err = loadReports(ctx, s.store, filepath.Join(s.definitions, reports.File), calendars); err != nil {
			reportsDown = "reports are unavailable: " + err.Error()
			s.log.Error("reports are unavailable until reports.yaml is fixed", "error", err)
		}
	}
	// Deferred before the worker's stop, so it runs after: the last checkpoint
	// covers every record the worker and the API wrote. The checkpointer goes
	// with the API, which reads the same file back (UseAuditCheckpoints), so
	// the file is on the API's disk: workers are scaled and often have none,
	// and N of them would post N copies of each checkpoint to the outbox. A
	// record a worker writes is covered by the API's next round.
	if s.role.api() {
		defer s.startCheckpointer(ctx)()
	}
	reg := s.registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := metrics.New(reg, metrics.Options{Store: s.store, Log: s.log.With("component", "metrics")})
	if err != nil {
		return err
	}
	// Before the worker starts: breaches are counted as their projection commits.
	s.store.ObserveProjections(m)
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	if s.role.worker() {
		stop, err := s.startWorker(ctx, watchCtx, m)
		if err != nil {
			return err
		}
		// Runs when run returns: after the API stopped taking requests and
		// answered those in flight, which may wait on the worker (an action
		// is an update, which a workflow task carries out).
		defer stop()
	}
	return s.serveHTTP(ctx, watchCtx, m, calendars, reportsCfg, reportsDown, ready)
}

// startWorker starts what runs processes: the Temporal worker, the watch of
// its failing workflow tasks, and the deliveries out of the outbox (e-mail
// and the notifier workflow). Deliveries belong with the workers because
// they are background work that must go on whether or not an API replica
// runs, and each already tolerates several copies (the outbox claims its
// rows; the notifier is one workflow id). stop stops them all and waits.
func (s *stack) startWorker(ctx, watchCtx context.Context, m *metrics.Metrics) (stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	running := newRunningActivities()
	w := worker.New(s.temporal, workflows.TaskQueue, workerOptions(s.workerStopTimeout, running))
	workflows.RegisterWith(w, s.limits)
	w.RegisterActivity(&activities.Activities{
		Projector: s.store,
		Watcher:   m,
		// Each webhook attempt is bounded by the step's timeout (at most 5m)
		// through the activity's context; this is only a backstop.
		HTTPClient: &http.Client{Timeout: webhookClientTimeout},
		Processes:  s.store,
		Starter:    workflows.ClientStarter{Client: s.temporal},
		Boards:     s.store,
		Counter:    s.store,
		Releaser:   workflows.ClientReleaser{Client: s.temporal},
		Votes:      s.store,
		Directory:  s.store,
		Outbox:     s.store,
		NotifyURL:  s.notifyURL,
		// Receivers verify the signatures (README, api/openapi.yaml webhooks).
		NotifySigner:  s.notifySigner,
		WebhookSigner: s.webhookSigner,
	})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	stops = append(stops, func() { stopWorker(w, running, s.workerStopTimeout, s.log) })
	// The monitor hears only of this process's worker: it has nothing to
	// recheck where no worker runs.
	go s.health.Watch(watchCtx, s.temporal, healthRecheckEvery)
	if s.mailer != nil {
		// E-mails are sent beside the workflows. The dispatcher is stopped
		// and waited for before run returns, so it never uses the store
		// after its caller closed it; an e-mail it was sending when stopped
		// is sent again by the next round.
		d := &mailer.Dispatcher{Outbox: s.store, Mailer: s.mailer, Interval: emailInterval, Log: s.log.With("component", "email")}
		mailCtx, stopMail := context.WithCancel(ctx)
		mailDone := make(chan struct{})
		go func() {
			defer close(mailDone)
			d.Run(mailCtx)
		}()
		stops = append(stops, func() {
			stopMail()
			<-mailDone
		})
		s.log.Info("sending notification e-mails")
	}
	if s.notifyURL != "" {
		if err := s.startNotifier(ctx); err != nil {
			stop()
			return nil, err
		}
	}
	return stop, nil
}

// serveHTTP serves until ctx ends. In a role with the API: the API under
// /api/ and /healthz, the console at /, and /metrics. A worker alone serves
// /healthz (so an orchestrator can probe it; it reports this process's
// worker's failing workflow tasks) and /metrics (its worker's SDK metrics
// and the breaches its activities project), nothing else: an API call to a
// worker is a 404, not an answer from a process meant to have no clients.
func (s *stack) serveHTTP(ctx, watchCtx context.Context, m *metrics.Metrics, calendars engine.Calendars,
	reportsCfg *reports.Config, reportsDown string, ready func(addr string)) error {
	ln, err := net.Listen("tcp", s.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.httpAddr, err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: api.ServerMaxHeaderBytes}
	errc := make(chan error, 1)
	svc := service.New(s.store, s.temporal, calendars, s.log)
	if reportsCfg != nil {
		svc.UseReports(reports.New(reportsCfg, s.store, time.Now))
	} else if reportsDown != "" {
		svc.ReportsUnavailable(reportsDown)
	}
	apiServer := api.New(svc, s.store, s.temporal, s.log)
	consoleCfg := console.Config{Secure: s.secureCookies, OIDC: s.oidc}
	if s.jwt != nil {
		apiServer.UseJWT(s.jwt)
		consoleCfg.VerifyJWT = s.jwt.VerifyUntil
	}
	if s.checkpoints != nil {
		apiServer.UseAuditCheckpoints(s.checkpoints)
	}
	apiServer.UseWorkflowHealth(s.health)
	apiServer.UseMetrics(m.Middleware)
	mux := http.NewServeMux()
	mux.Handle("/healthz", apiServer)
	if s.role.api() {
		web, err := console.New(svc, s.store, consoleCfg, s.log)
		if err != nil {
			ln.Close()
			return err
		}
		go web.KeepTidy(watchCtx)
		// One address: the API under /api/ (and /healthz), the console at /.
		mux.Handle("/api/", apiServer)
		mux.Handle("/", web)
	}
	// /metrics is outside /api/v1, and so outside the OpenAPI document and
	// the token check, as Prometheus expects to scrape it: it holds only
	// aggregate counts and latencies labelled by definition, state, SLA,
	// priority and route template, never a process, a person or a value.
	// --metrics-addr moves it to an address of its own (one only the
	// monitoring network reaches) and off this one.
	if s.metricsAddr == "" {
		mux.Handle("/metrics", m.Handler())
	} else {
		mln, err := net.Listen("tcp", s.metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s (--metrics-addr): %w", s.metricsAddr, err)
		}
		mmux := http.NewServeMux()
		mmux.Handle("/metrics", m.Handler())
		msrv := &http.Server{Handler: mmux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
		// A scrape in flight has nothing to finish that matters: closed
		// outright when the stack stops.
		go func() {
			<-ctx.Done()
			msrv.Close()
		}()
		go func() {
			if err := msrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("metrics listener stopped", "addr", s.metricsAddr, "error", err)
			}
		}()
		s.log.Info("serving metrics", "url", "http://"+mln.Addr().String()+"/metrics")
	}
	if s.debug {
		mux.Handle("/debug/vars", expvar.Handler())
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	}
	srv.Handler = mux
	go func() { errc <- serveUntilDone(ctx, srv, ln, s.log) }()
	ready(ln.Addr().String())
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http: %w", err)
	}
	return nil
}

// startNotifier makes sure the one notifier workflow runs; with several
// servers, the first start wins and the others find it running.
func (s *stack) startNotifier(ctx context.Context) error {
	_, err := s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.NotifierID,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.NotifierType)
	if err != nil {
		return fmt.Errorf("start the notifier: %w", err)
	}
	s.log.Info("delivering notifications", "webhook", s.notifyURL)
	return nil
}

// emailInterval is how soon a new notification's e-mails go out: a breach
// mail minutes late is no use, and a round that finds nothing is one query.
const emailInterval = 2 * time.Second

// startCheckpointer checkpoints the audit chain until the function it returns
// is called, which writes a last checkpoint and waits for it. It does not stop
// with ctx, so that last checkpoint can come after the API and the worker
// stopped writing.
func (s *stack) startCheckpointer(ctx context.Context) (stop func()) {
	c := &checkpoint.Checkpointer{Store: s.store, File: s.checkpoints, Interval: s.checkpointEvery, Now: time.Now,
		Log: s.log.With("component", "audit-checkpoints")}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(cctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// webhookClientTimeout is longer than any webhook step's timeout may be.
const webhookClientTimeout = 6 * time.Minute

// publishDefinitions publishes the process definitions in dir that changed since
// the version each last produced, so a restart never reverts what people
// published: a file that changed after a person published its definition is not
// published, with a warning that says how to publish it anyway. A definition
// with problems stops the start with every problem as file:line:col.
func publishDefinitions(ctx context.Context, st *store.Store, dir string, calendars engine.Calendars, log *slog.Logger) error {
	files, err := definitionFiles(dir)
	if err != nil {
		return err
	}
	var problems []string
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		def, err := engine.ParseWith(src, calendars)
		if err != nil {
			// A file published before this release's rules refused it
			// (such as d in a business calendar) keeps its version: the
			// start goes on, and says what to fix before the file changes.
			d, published, lookupErr := st.PublishedText(ctx, store.SourceHash(src))
			if lookupErr != nil {
				return lookupErr
			}
			if !published {
				problems = append(problems, formatProblems(file, err)...)
				continue
			}
			log.Warn("definition file unchanged since it was published, but this release refuses it: its published version stays in use; fix the file before you change it",
				"name", d.Name, "version", d.Version, "file", file, "problems", strings.Join(formatProblems(file, err), "; "))
			continue
		}
		d, outcome, err := st.PublishFile(ctx, def, src, file)
		if err != nil {
			return fmt.Errorf("publish %s: %w", file, err)
		}
		switch outcome {
		case store.FilePublished:
			log.Info("published definition", "name", d.Name, "version", d.Version, "file", file)
		case store.FileSuperseded:
			log.Info("definition file unchanged; a later version published by a person stays current",
				"name", d.Name, "version", d.Version, "published_by", d.PublishedBy, "origin", d.Origin, "file", file)
		case store.FileHeldBack:
			log.Warn("definition file changed but not published: a person published a later version, which stays current",
				"name", d.Name, "version", d.Version, "published_by", d.PublishedBy, "origin", d.Origin,
				"published_at", d.PublishedAt.UTC().Format(time.RFC3339), "file", file, "file_hash", store.SourceHash(src),
				"publish_anyway", "itilflow definitions publish "+file+" (DATABASE_URL: this database), or PUT it to /api/v1/definitions/"+d.Name)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("shipped definitions have problems:\n%s", strings.Join(problems, "\n"))
	}
	return nil
}

// calendarsFile holds the business calendars, beside the definitions.
const calendarsFile = "calendars.yaml"

// nonProcessFiles are YAML files in the definitions directory that are not
// process definitions.
var nonProcessFiles = map[string]bool{"dev-users.yaml": true, calendarsFile: true, reports.File: true}

// loadCalendars reads the business calendars; a missing file means 24x7 only.
func loadCalendars(file string) (engine.Calendars, error) {
	src, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cals, err := engine.ParseCalendars(src)
	if err != nil {
		return nil, fmt.Errorf("calendars have problems:\n%s", strings.Join(formatProblems(file, err), "\n"))
	}
	return cals, nil
}

// loadReports reads the report configuration beside the definitions and
// checks it against the definitions as published now: a name it uses that
// they lack is a problem at line:column. A missing file means no reports:
// the API says so.
func loadReports(ctx context.Context, st *store.Store, file string, calendars engine.Calendars) (*reports.Config, error) {
	src, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	published, err := st.Definitions(ctx)
	if err != nil {
		return nil, err
	}
	defs := map[string]*engine.Definition{}
	for i := range published {
		defs[published[i].Name] = &published[i].Compiled
	}
	cfg, err := reports.Parse(src, defs, calendars)
	if err != nil {
		return nil, fmt.Errorf("reports have problems:\n%s", strings.Join(formatProblems(file, err), "\n"))
	}
	return cfg, nil
}

func definitionFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("definitions directory: %w", err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || nonProcessFiles[name] || strings.HasSuffix(name, ".test.yaml") ||
			!(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			continue
		}
		out = append(out, filepath.Join(dir, name))
	}
	sort.Strings(out)
	return out, nil
}

// formatProblems renders a Parse error as compiler-style lines.
func formatProblems(file string, err error) []string {
	var e *engine.Error
	if !errors.As(err, &e) || len(e.Details) == 0 {
		return []string{fmt.Sprintf("%s: %v", file, err)}
	}
	out := make([]string, len(e.Details))
	for i, d := range e.Details {
		msg := d.Message
		if d.Field != "" {
			msg = d.Field + ": " + msg
		}
		out[i] = fmt.Sprintf("%s:%d:%d: %s", file, d.Line, d.Column, msg)
	}
	return out
}

// httpDrainTimeout is how long a stopping API lets requests in flight finish.
const httpDrainTimeout = 10 * time.Second

// serveUntilDone answers on ln until ctx ends, then shuts down gracefully: it
// takes no new requests and lets those in flight finish for up to
// httpDrainTimeout, saying how many it waits for.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, log *slog.Logger) error {
	inFlight := &requestsInFlight{next: srv.Handler}
	srv.Handler = inFlight
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	began := time.Now()
	log.Info("stopping the API: no new requests; waiting for those in flight", "count", inFlight.n.Load(), "timeout", httpDrainTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpDrainTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	log.Info("API stopped", "after", time.Since(began).Round(time.Millisecond))
	return err
}

// role is what a serve process runs (--role): the API (with the console and
// /metrics), the workers, or both. Splitting them lets each scale on its own
// measure: API replicas with requests, workers with open processes and
// deadlines.
type role string

const (
	roleAPI    role = "api"
	roleWorker role = "worker"
	roleAll    role = "all"
)

// parseRole reads --role.
func parseRole(s string) (role, error) {
	switch r := role(s); r {
	case roleAPI, roleWorker, roleAll:
		return r, nil
	}
	return "", &engine.Error{Code: engine.EINVALID, Op: "serve",
		Message: fmt.Sprintf("--role %q (ITILFLOW_ROLE): want api, worker or all", s)}
}

// api reports whether the role serves the API; the zero role (dev) does.
func (r role) api() bool { return r != roleWorker }

// worker reports whether the role runs the workers; the zero role (dev) does.
func (r role) worker() bool { return r != roleAPI }
