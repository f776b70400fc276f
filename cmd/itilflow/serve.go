package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/itilflow/itilflow/checkpoint"
	"github.com/itilflow/itilflow/mailer"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/temporalserver"
	"github.com/itilflow/itilflow/workflowhealth"
	"github.com/itilflow/itilflow/workflows"
)

// securePublicURL checks the --public-url flag and reports whether people
// reach itilflow over https.
func securePublicURL(raw string) (bool, error) {
	if raw == "" {
		return false, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return false, fmt.Errorf("--public-url %q: want an absolute http or https address, such as https://itil.example.com", raw)
	}
	return u.Scheme == "https", nil
}

// runServe runs the API, the worker or both (--role) against an external Temporal cluster and
// PostgreSQL. It keeps no state of its own, so any number of replicas can run.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("serve", getenv, stderr)
	sf := f.stack()
	tlsFlags := f.temporalTLS()
	publicURL := f.string("public-url", "", "address people reach itilflow at, such as https://itil.example.com; an https address marks the console's cookies Secure")
	roleFlag := f.string("role", string(roleAll), "what this process runs: api (the API, console and /metrics; no Temporal worker), "+
		"worker (the Temporal worker and the deliveries, with /healthz and /metrics on --http-addr) or all")
	if err := f.parse(args); err != nil {
		return err
	}
	r, err := parseRole(*roleFlag)
	if err != nil {
		return err
	}
	secure, err := securePublicURL(*publicURL)
	if err != nil {
		return err
	}
	tlsConf, err := tlsFlags.config()
	if err != nil {
		return err
	}
	jv, err := sf.jwt.verifier()
	if err != nil {
		return err
	}
	oidcCfg, err := sf.oidc.config(*publicURL, sf.jwt)
	if err != nil {
		return err
	}
	storeOpts, err := sf.storeOptions()
	if err != nil {
		return err
	}
	limits, err := sf.limits()
	if err != nil {
		return err
	}
	notifySigner, webhookSigner, err := sf.signers()
	if err != nil {
		return err
	}
	mail, err := sf.mailer(*publicURL)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, *sf.logLevel)
	if err != nil {
		return err
	}
	dbURL := getenv("DATABASE_URL")
	if dbURL == "" {
		return errors.New("DATABASE_URL is not set: serve needs a PostgreSQL URL such as postgres://user:pass@host:5432/itilflow?sslmode=disable")
	}
	keys, err := readAuditKeys(*sf.auditKeyFile, getenv, "")
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return errors.New(noAuditKeyHelp)
	}
	address, namespace := getenv("TEMPORAL_ADDRESS"), getenv("TEMPORAL_NAMESPACE")
	if address == "" {
		address = "127.0.0.1:7233"
	}
	if namespace == "" {
		namespace = "default"
	}

	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	st, err := store.Open(dctx, dbURL, append(storeOpts, auditKeyOptions(keys)...)...)
	if err != nil {
		return fmt.Errorf("PostgreSQL at DATABASE_URL is unreachable: %w", err)
	}
	defer st.Close()
	health := workflowhealth.New()
	reg := prometheus.NewRegistry()
	sdkMetrics, stopSDKMetrics := temporalMetrics(reg, log)
	defer stopSDKMetrics.Close()
	tc, err := client.DialContext(dctx, watchedBy(health, sdkMetrics, client.Options{HostPort: address, Namespace: namespace,
		Logger:            sdklog.NewStructuredLogger(log.With("component", "temporal-client")),
		ConnectionOptions: client.ConnectionOptions{TLS: tlsConf}}))
	if err != nil {
		return fmt.Errorf("Temporal at %s (TEMPORAL_ADDRESS) is unreachable: %w", address, err)
	}
	defer tc.Close()
	// A fresh Temporal cluster has no namespace, not even "default": register
	// it, keeping closed histories as long as the dev server does (they are
	// the audit record). A new namespace takes a registry refresh (about 10s)
	// to be usable, longer than dctx allows.
	nctx, ncancel := context.WithTimeout(ctx, 90*time.Second)
	defer ncancel()
	if err := temporalserver.EnsureNamespace(nctx, tc, namespace, temporalserver.DefaultRetention); err != nil {
		return fmt.Errorf("Temporal at %s (TEMPORAL_ADDRESS): %w", address, err)
	}
	if err := temporalserver.EnsureSearchAttributes(nctx, tc, namespace, workflows.SearchAttributes()); err != nil {
		return fmt.Errorf("search attributes on namespace %s: %w", namespace, err)
	}
	defs := *sf.definitions
	if _, err := os.Stat(defs); err != nil {
		log.Info("no definitions directory; publishing none", "dir", defs)
		defs = ""
	}
	s := &stack{log: log, store: st, temporal: tc, httpAddr: *sf.httpAddr, definitions: defs, notifyURL: *sf.notifyWebhook, mailer: mail, notifySigner: notifySigner, webhookSigner: webhookSigner, jwt: jv, oidc: oidcCfg,
		checkpointEvery: *sf.checkpointEvery, health: health, workerStopTimeout: *sf.workerStopTimeout, limits: limits,
		secureCookies: secure, registry: reg, metricsAddr: *sf.metricsAddr, role: r}
	// Cookies are the console's, which only the API role serves.
	if !secure && r.api() {
		log.Warn("no https --public-url: the console's session cookies are not marked Secure; serve it over TLS (directly or behind a proxy) and set --public-url")
	}
	if mail != nil && *sf.smtp.tls == mailer.TLSNone {
		log.Warn("--smtp-tls none: notification e-mails, which name processes and people, travel in clear; " +
			"use it only for a relay on the same host")
	}
	if *sf.notifyWebhook != "" && notifySigner == nil {
		log.Warn("no --notify-webhook-secret-file: notifications and checkpoints are posted unsigned, " +
			"so the receiver cannot tell them from anyone else's requests to its URL")
	}
	switch {
	case !r.api():
		// A worker writes no checkpoints (stack.run says why): nothing to
		// warn of.
	case *sf.checkpointFile != "":
		s.checkpoints = &checkpoint.File{Path: *sf.checkpointFile}
	case *sf.notifyWebhook != "":
		log.Warn("no --audit-checkpoint-file: audit checkpoints go to the notification webhook only")
	default:
		// Replicas in containers often have no disk of their own: run, but say
		// plainly what is lost.
		log.Warn("no --audit-checkpoint-file and no --notify-webhook: audit checkpoints stay in the database, " +
			"so records removed from the end of the audit log, or a log rewritten with the key, cannot be detected")
	}
	return s.run(ctx, func(addr string) {
		if !r.api() {
			fmt.Fprintf(stdout, "itilflow worker running, health at http://%s/healthz (Temporal %s, namespace %s)\n", addr, address, namespace)
			return
		}
		what := "serving"
		if !r.worker() {
			what = "serving, without a worker,"
		}
		fmt.Fprintf(stdout, "itilflow %s http://%s/api/v1 (Temporal %s, namespace %s)\n", what, addr, address, namespace)
	})
}

// runMigrate applies the database migrations and exits.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("migrate", getenv, stderr)
	loc := f.local()
	if err := f.parse(args); err != nil {
		return err
	}
	st, err := openStore(ctx, loc)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}

// openStore opens DATABASE_URL, or the PostgreSQL of the dev running on the
// data directory, for the commands that work on the database.
func openStore(ctx context.Context, loc *localStack, opts ...store.Option) (*store.Store, error) {
	dbURL, err := loc.databaseURL()
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, dbURL, opts...)
}
