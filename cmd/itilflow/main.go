// Command itilflow runs ITIL processes written as YAML as durable Temporal
// workflows. `itilflow dev` is the whole product on one machine; `itilflow serve`
// is the same API and worker against an external Temporal and PostgreSQL.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go onSignals(signals, cancel, os.Stderr, os.Exit)
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "itilflow:", err)
		os.Exit(1)
	}
}

// onSignals stops the program gracefully at the first signal (cancel), and at
// once at the second (exit): a stopping worker may wait minutes for the
// activities in flight, and whoever is waiting may not want to.
func onSignals(signals <-chan os.Signal, cancel func(), stderr io.Writer, exit func(int)) {
	s := <-signals
	fmt.Fprintf(stderr, "itilflow: %v: stopping gracefully; a second signal stops at once\n", s)
	cancel()
	s = <-signals
	fmt.Fprintf(stderr, "itilflow: %v again: stopping at once\n", s)
	exit(1)
}

const usage = `itilflow runs ITIL processes written as YAML as durable Temporal workflows.

Usage:
  itilflow dev       run everything on this machine (embedded Temporal and PostgreSQL)
  itilflow serve     run the API and worker against TEMPORAL_ADDRESS and DATABASE_URL
  itilflow migrate   apply the database migrations to DATABASE_URL and exit
  itilflow validate FILE...
                     check process definitions; print problems as file:line:col: message
  itilflow test [-v] [FILE.test.yaml...]
                     run scenario tests (default definitions/*.test.yaml) with time skipping
  itilflow graph [--format mermaid|dot] FILE
                     draw a definition's states, actions, timers and SLA stops
  itilflow history export --id ID
                     print a process's workflow history as JSON (as the temporal CLI does)
  itilflow replay [--id ID]... [FILE...]
                     replay histories against this binary's workflow code
  itilflow audit verify [--deep]
                     check the audit chain in DATABASE_URL, against the latest checkpoint and the
                     events rows; --deep also compares every process with its workflow history
  itilflow report NAME --from PERIOD [--to PERIOD] [--format table|csv|json]
                     compute a report (fault-summary, sla-attainment, resolution-rates, response-times,
                     daily-log, report-punctuality, changes, staff-scores) on DATABASE_URL; PERIOD is a
                     day (2026-11-03), a month (2026-11), a quarter (2026-Q4) or an RFC 3339 time
  itilflow whatif --definition FILE --since TIME
                     replay past processes' actions under a proposed definition and report what would change
  itilflow reconcile [--dry-run]
                     compare open processes in DATABASE_URL with their workflow histories and repair drift
  itilflow doctor [--activity-attempts N]
                     list stuck workflows and why: workflow tasks that keep failing (non-determinism,
                     panics), processes open in DATABASE_URL whose workflow closed, activities that keep
                     retrying; exits non-zero when it finds any
  itilflow health [--http-addr ADDR]
                     probe a running serve's /healthz on --http-addr; exits non-zero unless it answers 200
                     (for container health checks: the image has no shell or curl)
  itilflow user add|token|revoke ID
                     manage users and API tokens in DATABASE_URL (tokens are shown once)
  itilflow group add|list [ID]
                     manage groups of users in DATABASE_URL
  itilflow ci import FILE | ci list
                     import configuration items (YAML or CSV) into the registry in DATABASE_URL
  itilflow definitions publish [--by NAME] FILE... | list | retire NAME --reason TEXT | reinstate NAME
                     publish files as a person, list definitions (origin, publisher, retirement),
                     retire one (no new processes; running ones go on) or reinstate it, in
                     DATABASE_URL. dev and serve publish a --definitions file only when it
                     changed and no person published that definition since: they warn instead
  itilflow load      start many processes through a running API and print figures
  itilflow version   print the version and commit, and those of the embedded Temporal

The commands that work on DATABASE_URL or TEMPORAL_ADDRESS use, when it is not
set, the itilflow dev running on --data-dir (ITILFLOW_DATA_DIR, default .itilflow:
run them where dev runs), and say so on stderr.

Run "itilflow COMMAND -h" for a command's flags.
`

// run is the whole program; main only supplies the process's environment, so tests
// can run it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "dev":
		return runDev(ctx, args[1:], getenv, stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], getenv, stdout, stderr)
	case "validate":
		return runValidate(args[1:], getenv, stdout, stderr)
	case "test":
		return runTest(args[1:], getenv, stdout, stderr)
	case "graph":
		return runGraph(args[1:], getenv, stdout, stderr)
	case "load":
		return runLoad(ctx, args[1:], getenv, stdout, stderr)
	case "history":
		return runHistory(ctx, args[1:], getenv, stdout, stderr)
	case "replay":
		return runReplay(ctx, args[1:], getenv, stdout, stderr)
	case "audit":
		return runAudit(ctx, args[1:], getenv, stdout, stderr)
	case "report":
		return runReport(ctx, args[1:], getenv, stdout, stderr)
	case "whatif":
		return runWhatIf(ctx, args[1:], getenv, stdout, stderr)
	case "reconcile":
		return runReconcile(ctx, args[1:], getenv, stdout, stderr)
	case "doctor":
		return runDoctor(ctx, args[1:], getenv, stdout, stderr)
	case "health":
		return runHealth(ctx, args[1:], getenv, stdout, stderr)
	case "user":
		return runUser(ctx, args[1:], getenv, stdout, stderr)
	case "group":
		return runGroup(ctx, args[1:], getenv, stdout, stderr)
	case "ci":
		return runCI(ctx, args[1:], getenv, stdout, stderr)
	case "definitions":
		return runDefinitions(ctx, args[1:], getenv, stdout, stderr)
	case "version", "--version":
		return runVersion(args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
