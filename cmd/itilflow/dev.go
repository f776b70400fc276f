package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/itilflow/itilflow/checkpoint"
	"github.com/itilflow/itilflow/devusers"
	"github.com/itilflow/itilflow/pgcluster"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/temporalserver"
	"github.com/itilflow/itilflow/workflowhealth"
	"github.com/itilflow/itilflow/workflows"
)

// runDev runs the whole product on this machine: an embedded Temporal server on a
// SQLite file and a private PostgreSQL cluster, both under the data directory so
// that everything survives a restart, plus the worker, the API and the demo users.
func runDev(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("dev", getenv, stderr)
	dataDir := f.string("data-dir", defaultDataDir, "directory for Temporal's and PostgreSQL's data")
	sf := f.stack()
	temporalPort := f.int("temporal-port", 7233, "port of the embedded Temporal frontend (gRPC)")
	uiPort := f.int("ui-port", 8233, "port of the Temporal UI; 0 disables it")
	if err := f.parse(args); err != nil {
		return err
	}
	jv, err := sf.jwt.verifier()
	if err != nil {
		return err
	}
	oidcCfg, err := sf.oidc.config("http://"+*sf.httpAddr, sf.jwt)
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
	// E-mails link to the console on dev's own address.
	mail, err := sf.mailer("http://" + *sf.httpAddr)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, *sf.logLevel)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	// 0755: PostgreSQL runs as its own user when we are root and must reach pg/.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	keys, err := devAuditKeys(*sf.auditKeyFile, getenv, dir)
	if err != nil {
		return err
	}

	dbURL := getenv("DATABASE_URL")
	if dbURL == "" {
		pg, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(dir, "pg"), Logf: func(format string, args ...any) {
			log.Info(fmt.Sprintf(format, args...), "component", "postgres")
		}})
		if err != nil {
			return err
		}
		defer pg.Stop()
		dbURL = pg.URL()
	}

	ts, err := temporalserver.Start(ctx, temporalserver.Options{
		DBFile:           filepath.Join(dir, "temporal.db"),
		Port:             *temporalPort,
		Namespace:        "default",
		SearchAttributes: workflows.SearchAttributes(),
		LogLevel:         serverLogLevel(*sf.logLevel),
	})
	if err != nil {
		return fmt.Errorf("embedded Temporal: %w", err)
	}
	defer ts.Stop()
	health := workflowhealth.New()
	reg := prometheus.NewRegistry()
	sdkMetrics, stopSDKMetrics := temporalMetrics(reg, log)
	defer stopSDKMetrics.Close()
	tc, err := ts.NewClient(watchedBy(health, sdkMetrics, client.Options{Logger: sdklog.NewStructuredLogger(log.With("component", "temporal-client"))}))
	if err != nil {
		return err
	}
	defer tc.Close()

	st, err := store.Open(ctx, dbURL, append(storeOpts, auditKeyOptions(keys)...)...)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	demo, err := seedDevUsers(ctx, st, filepath.Join(*sf.definitions, "dev-users.yaml"))
	if err != nil {
		return err
	}
	uiURL := ""
	if *uiPort != 0 {
		ui, err := startUI(ctx, ts.HostPort(), *uiPort)
		if err != nil {
			log.Warn("Temporal UI not started", "error", err)
		} else {
			uiURL = ui
		}
	}

	cpFile := *sf.checkpointFile
	if cpFile == "" {
		cpFile = filepath.Join(dir, checkpointFileName)
	}
	s := &stack{log: log, store: st, temporal: tc, httpAddr: *sf.httpAddr, definitions: *sf.definitions, notifyURL: *sf.notifyWebhook, mailer: mail, notifySigner: notifySigner, webhookSigner: webhookSigner, jwt: jv, oidc: oidcCfg, debug: true,
		checkpoints: &checkpoint.File{Path: cpFile}, checkpointEvery: *sf.checkpointEvery, health: health, workerStopTimeout: *sf.workerStopTimeout, limits: limits,
		registry: reg, metricsAddr: *sf.metricsAddr}
	audit := fmt.Sprintf("key id %s, checkpoints in %s", st.AuditKeyIDs()[0], cpFile)
	removeDevFile := func() {}
	err = s.run(ctx, func(addr string) {
		// Once the API answers, the commands run beside dev may use it all.
		remove, err := writeDevFile(dir, devFile{PID: os.Getpid(), StartedAt: time.Now().UTC(), API: "http://" + addr + "/api/v1",
			DatabaseURL: dbURL, Temporal: ts.HostPort(), Namespace: ts.Namespace()})
		if err != nil {
			log.Warn("commands run beside dev will not find it without DATABASE_URL and TEMPORAL_ADDRESS", "error", err)
		} else {
			removeDevFile = remove
		}
		cli := "itilflow commands run in this directory use this stack"
		if *dataDir != defaultDataDir {
			cli = "itilflow commands given --data-dir " + *dataDir + " use this stack"
		}
		printBanner(stdout, banner{api: addr, temporal: ts.HostPort(), namespace: ts.Namespace(), database: redacted(dbURL), ui: uiURL,
			dataDir: dir, audit: audit, cli: fmt.Sprintf("%s (%s)", cli, filepath.Join(dir, devFileName))}, demo)
	})
	// Before the deferred stops of PostgreSQL and Temporal: while the file
	// is there, what it names answers.
	removeDevFile()
	return err
}

// devAuditKeys returns the audit keys given by flag or environment, else the
// key in the data directory, which the first start makes.
func devAuditKeys(file string, getenv func(string) string, dir string) ([][]byte, error) {
	keys, err := readAuditKeys(file, getenv, "")
	if err != nil || keys != nil {
		return keys, err
	}
	path := filepath.Join(dir, auditKeyFileName)
	if err := ensureDevAuditKey(path); err != nil {
		return nil, err
	}
	return readAuditKeyFile(path)
}

// devDemo is dev-users.yaml: the demo users and their groups.
type devDemo = devusers.Demo

// devSeeder is the actor of the audit records of the demo groups.
const devSeeder = devusers.Seeder

// seedDevUsers creates the demo users of dev-users.yaml with their tokens, then
// their groups.
func seedDevUsers(ctx context.Context, st *store.Store, file string) (devDemo, error) {
	return devusers.Seed(ctx, st, file)
}

// banner is what dev's banner says where to find.
type banner struct {
	api, temporal, namespace, database, ui, dataDir, audit, cli string
}

func printBanner(w io.Writer, b banner, demo devDemo) {
	fmt.Fprintf(w, "\nitilflow dev is running (data in %s)\n\n", b.dataDir)
	fmt.Fprintf(w, "  Console      http://%s/   (sign in with a token below)\n", b.api)
	fmt.Fprintf(w, "  API          http://%s/api/v1   (health: http://%s/healthz)\n", b.api, b.api)
	fmt.Fprintf(w, "  Temporal     %s (namespace %s)\n", b.temporal, b.namespace)
	fmt.Fprintf(w, "  PostgreSQL   %s\n", b.database)
	if b.ui != "" {
		fmt.Fprintf(w, "  Temporal UI  %s (filter with ItilDefinition, ItilState, ItilPriority)\n", b.ui)
	}
	fmt.Fprintf(w, "  Audit log    %s\n", b.audit)
	fmt.Fprintf(w, "  CLI          %s\n", b.cli)
	fmt.Fprintf(w, "\n  Demo users (dev only; sign in to the console with the token, or send Authorization: Bearer <token>):\n")
	for _, u := range demo.Users {
		fmt.Fprintf(w, "    %-24s %-22s %s\n", u.Token, u.ID, strings.Join(u.Roles, ","))
	}
	if len(demo.Groups) > 0 {
		fmt.Fprintf(w, "\n  Demo groups:\n")
		for _, g := range demo.Groups {
			fmt.Fprintf(w, "    %-24s %s\n", g.ID, strings.Join(g.Members, ","))
		}
	}
	fmt.Fprintln(w, "\nPress Ctrl-C to stop.")
}

// serverLogLevel is the embedded Temporal server's log level. The server is chatty
// at warn (start-up races between its own services print stack traces), so its
// warnings show only when debugging.
func serverLogLevel(ours string) string {
	if ours == "debug" {
		return "warn"
	}
	return "error"
}
