// Command cluster runs itilflow on this machine as it is deployed: PostgreSQL,
// a standalone Temporal server on it with four history shards, an `itilflow
// serve --role api` and one or more `--role worker`, each its own process,
// until Ctrl-C. scripts/cluster builds and runs it; see docs/deploy.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/itilflow/itilflow/cluster"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".itilflow-cluster", "directory of the cluster's data, binaries and logs; kept across runs "+
		"(when run as root it must be reachable by the postgres user)")
	workers := fs.Int("workers", 1, "how many worker processes (serve --role worker) to run")
	definitions := fs.String("definitions", "definitions", "directory of process definitions the API publishes")
	devUsers := fs.Bool("dev-users", true, "create the demo users of <definitions>/dev-users.yaml with their dev tokens (dev-requester, ...)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }

	logf("cluster: building temporal-server, temporal-sql-tool and itilflow (minutes with an empty build cache)")
	bins, err := cluster.Build(ctx, filepath.Join(*dir, "bin"))
	if err != nil {
		return err
	}
	c, err := cluster.Start(ctx, cluster.Options{Dir: *dir, Binaries: bins, Definitions: *definitions, Logf: logf})
	if err != nil {
		return err
	}
	defer func() {
		logf("cluster: stopping")
		if err := c.Stop(); err != nil {
			logf("cluster: stop: %v", err)
		}
	}()
	api, err := c.StartServe(ctx, "api")
	if err != nil {
		return err
	}
	if *devUsers {
		if err := c.SeedDevUsers(ctx, filepath.Join(*definitions, "dev-users.yaml")); err != nil {
			return err
		}
	}
	var workerURLs []string
	for range *workers {
		w, err := c.StartServe(ctx, "worker")
		if err != nil {
			return err
		}
		workerURLs = append(workerURLs, w.URL()+"/healthz")
	}
	fmt.Fprintf(stdout, "\nitilflow cluster is running (data, binaries and logs in %s)\n\n", *dir)
	fmt.Fprintf(stdout, "  API         %s/api/v1   (console at %s/)\n", api.URL(), api.URL())
	fmt.Fprintf(stdout, "  workers     %v\n", workerURLs)
	fmt.Fprintf(stdout, "  Temporal    %s   (namespace default, %d history shards)\n", c.TemporalAddress, cluster.Shards)
	fmt.Fprintf(stdout, "  PostgreSQL  %s\n", c.DatabaseURL())
	if *devUsers {
		fmt.Fprintf(stdout, "  try         curl -H 'Authorization: Bearer dev-auditor' %s/api/v1/definitions\n", api.URL())
	}
	fmt.Fprintf(stdout, "\nCtrl-C stops everything.\n")
	<-ctx.Done()
	return nil
}
