package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/itilflow/itilflow/mailer"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/webhook"
	"github.com/itilflow/itilflow/workflows"
)

// flags is a flag set whose flags default to environment variables: --data-dir
// reads ITILFLOW_DATA_DIR, and so on. Flags given on the command line win.
type flags struct {
	*flag.FlagSet
	getenv func(string) string
	errs   []error
	// loc finds the PostgreSQL and Temporal of a running dev (see local).
	loc *localStack
	// args are the arguments that are not flags, wherever they stood.
	args []string
}

func newFlags(name string, getenv func(string) string, stderr io.Writer) *flags {
	fs := flag.NewFlagSet("itilflow "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &flags{FlagSet: fs, getenv: getenv}
}

// envName is the environment variable behind a flag.
func envName(flagName string) string {
	return "ITILFLOW_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (f *flags) string(name, def, help string) *string {
	if v := f.getenv(envName(name)); v != "" {
		def = v
	}
	return f.String(name, def, help+" (env "+envName(name)+")")
}

func (f *flags) int(name string, def int, help string) *int {
	if v := f.getenv(envName(name)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q is not a whole number", envName(name), v))
		}
		def = n
	}
	return f.Int(name, def, help+" (env "+envName(name)+")")
}

func (f *flags) duration(name string, def time.Duration, help string) *time.Duration {
	if v := f.getenv(envName(name)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("%s=%q is not a duration such as 3s or 24h", envName(name), v))
		}
		def = d
	}
	return f.Duration(name, def, help+" (env "+envName(name)+")")
}

// parse reads the flags wherever they stand among the arguments, as people
// write them: `itilflow validate FILE --calendars C` as well as before FILE.
// After "--" everything is an argument.
func (f *flags) parse(args []string) error {
	if len(f.errs) > 0 {
		return errors.Join(f.errs...)
	}
	f.args = nil
	for {
		if err := f.Parse(args); err != nil {
			return err
		}
		rest := f.FlagSet.Args()
		if len(rest) == 0 {
			return nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			f.args = append(f.args, rest...)
			return nil
		}
		f.args = append(f.args, rest[0])
		args = rest[1:]
	}
}

// Args are the arguments that are not flags.
func (f *flags) Args() []string { return f.args }

// NArg is the number of arguments that are not flags.
func (f *flags) NArg() int { return len(f.args) }

// Arg is the i'th argument that is not a flag, or "".
func (f *flags) Arg(i int) string {
	if i < 0 || i >= len(f.args) {
		return ""
	}
	return f.args[i]
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// stackFlags are the flags of the commands that run the API and worker.
type stackFlags struct {
	httpAddr, definitions, logLevel, notifyWebhook *string
	notifySecretFile, webhookSecretFile            *string
	jwt                                            jwtFlags
	oidc                                           oidcFlags
	auditKeyFile, checkpointFile                   *string
	checkpointEvery                                *time.Duration
	dbTimeout                                      *time.Duration
	workerStopTimeout                              *time.Duration
	runEvents, runBytes                            *int
	metricsAddr                                    *string
	smtp                                           smtpFlags
}

// smtpFlags say how notification e-mails are sent; no --smtp-addr sends none.
type smtpFlags struct {
	addr, from, credentialsFile, tls *string
}

func (f *flags) stack() stackFlags {
	return stackFlags{
		httpAddr:      f.string("http-addr", "127.0.0.1:8080", "address of the HTTP API"),
		definitions:   f.string("definitions", "definitions", "directory of process definitions and calendars to publish at start"),
		logLevel:      f.string("log-level", "info", "debug, info, warn or error"),
		jwt:           f.jwt(),
		oidc:          f.oidc(),
		notifyWebhook: f.string("notify-webhook", "", "URL to POST each notification to (JSON, with Idempotency-Key); empty keeps them for GET /api/v1/notifications only"),
		notifySecretFile: f.string("notify-webhook-secret-file", "", "file of the secret that signs what is posted to --notify-webhook "+
			"(Itilflow-Signature: HMAC-SHA-256; at least 32 bytes; after a rotation one secret a line, newest first); empty posts unsigned"),
		webhookSecretFile: f.string("webhook-secret-file", "", "file of the secret that signs the calls of webhook steps, the same way; empty calls unsigned"),
		auditKeyFile:      f.auditKeyFile(),
		checkpointFile: f.string("audit-checkpoint-file", "", "file to append signed checkpoints of the audit chain to, "+
			"on a disk the database's administrators cannot write (dev: default <data-dir>/audit-checkpoints.jsonl; serve: none, with a warning)"),
		checkpointEvery: f.duration("audit-checkpoint-interval", 30*time.Second, "how often to checkpoint the audit chain when it grew"),
		dbTimeout: f.duration("db-timeout", store.DefaultTimeout, "longest a database statement may run (PostgreSQL's statement_timeout); "+
			"the API answers 503 when PostgreSQL has not answered 0.5s later, and opening a connection gets as long. Migrations are not bounded"),
		workerStopTimeout: f.duration("worker-stop-timeout", defaultWorkerStopTimeout, "how long a stopping worker (SIGTERM, Ctrl-C) lets the activities in flight finish "+
			"before cancelling them; keep it above the longest webhook timeout (5m), and give a container at least as long to stop. A second signal stops at once"),
		runEvents: f.int("run-max-events", workflows.DefaultLimits.Events, "events a process's workflow run may reach before it continues as new; recorded by each process when it starts"),
		runBytes:  f.int("run-max-bytes", workflows.DefaultLimits.Bytes, "bytes of history a process's workflow run may reach before it continues as new"),
		metricsAddr: f.string("metrics-addr", "", "address to serve Prometheus's /metrics on instead of --http-addr, such as one only the monitoring network reaches; "+
			"empty serves it on --http-addr, without a token (aggregate counts only)"),
		smtp: smtpFlags{
			addr:            f.string("smtp-addr", "", "host:port of the SMTP server that sends notification e-mails to the users whose channel is e-mail; empty sends none"),
			from:            f.string("smtp-from", "", "the sender of notification e-mails, such as 'itilflow <itilflow@example.com>'; its domain makes their Message-IDs"),
			credentialsFile: f.string("smtp-credentials-file", "", "file whose first line is the SMTP user name and second line the password; empty sends without SMTP AUTH"),
			tls: f.string("smtp-tls", mailer.TLSMandatory, "TLS to the SMTP server: mandatory (STARTTLS or refuse), opportunistic (STARTTLS when offered), "+
				"implicit (TLS from the first byte, port 465) or none (a local relay)"),
		},
	}
}

// mailer builds the mailer of the smtp flags, or nil when no --smtp-addr is
// set. publicURL, when set, is what e-mails link to.
func (sf stackFlags) mailer(publicURL string) (*mailer.Mailer, error) {
	if *sf.smtp.addr == "" {
		return nil, nil
	}
	if *sf.smtp.from == "" {
		return nil, errors.New("--smtp-addr needs --smtp-from: the address notification e-mails come from")
	}
	cfg := mailer.Config{Addr: *sf.smtp.addr, From: *sf.smtp.from, TLS: *sf.smtp.tls, PublicURL: publicURL}
	if file := *sf.smtp.credentialsFile; file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--smtp-credentials-file: %w", err)
		}
		lines := strings.Split(strings.TrimRight(string(raw), "\r\n"), "\n")
		if len(lines) != 2 || strings.TrimSpace(lines[0]) == "" {
			return nil, fmt.Errorf("--smtp-credentials-file %s: want two lines, the user name and the password", file)
		}
		cfg.Username, cfg.Password = strings.TrimSpace(lines[0]), strings.TrimRight(lines[1], "\r")
	}
	m, err := mailer.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("--smtp-…: %w", err)
	}
	return m, nil
}

// signers read the secrets that sign notifications and webhook steps; a nil
// signer sends unsigned.
func (sf stackFlags) signers() (notify, steps *webhook.Signer, err error) {
	read := func(flag, file string) (*webhook.Signer, error) {
		if file == "" {
			return nil, nil
		}
		secrets, err := webhook.ReadSecrets(file)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flag, err)
		}
		return &webhook.Signer{Secrets: secrets}, nil
	}
	if notify, err = read("notify-webhook-secret-file", *sf.notifySecretFile); err != nil {
		return nil, nil, err
	}
	if steps, err = read("webhook-secret-file", *sf.webhookSecretFile); err != nil {
		return nil, nil, err
	}
	return notify, steps, nil
}

// limits are the limits of a run from the stack's flags.
func (sf stackFlags) limits() (workflows.Limits, error) {
	if *sf.runEvents < 100 || *sf.runBytes < 1<<20 {
		return workflows.Limits{}, fmt.Errorf("run-max-events must be at least 100 and run-max-bytes at least 1 MiB, not %d and %d", *sf.runEvents, *sf.runBytes)
	}
	return workflows.Limits{Events: *sf.runEvents, Bytes: *sf.runBytes}, nil
}

// storeOptions are the store's options from the stack's flags.
func (sf stackFlags) storeOptions() ([]store.Option, error) {
	if *sf.dbTimeout <= 0 {
		return nil, fmt.Errorf("db-timeout must be positive, not %v", *sf.dbTimeout)
	}
	return []store.Option{store.WithTimeout(*sf.dbTimeout)}, nil
}
