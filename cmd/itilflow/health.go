package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// healthProbeTimeout bounds a probe: orchestrators give a check a few seconds,
// and /healthz answers within 2s (api/health.go).
const healthProbeTimeout = 4 * time.Second

// runHealth asks the serve on --http-addr (ITILFLOW_HTTP_ADDR, as serve reads
// it) for /healthz. It exists for container health checks: the image is
// distroless, with no shell or curl to make the request.
func runHealth(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("health", getenv, stderr)
	addr := f.string("http-addr", "127.0.0.1:8080", "address of the serve to probe")
	if err := f.parse(args); err != nil {
		return err
	}
	// serve listens on 0.0.0.0 in a container; the probe runs beside it.
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return &engine.Error{Code: engine.EINVALID, Op: "health", Message: fmt.Sprintf("--http-addr %q: want host:port", *addr), Err: err}
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, healthProbeTimeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &engine.Error{Code: engine.EUNAVAILABLE, Op: "health", Message: "no answer from " + url, Err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return &engine.Error{Code: engine.EUNAVAILABLE, Op: "health", Message: fmt.Sprintf("%s answered %d: %s", url, resp.StatusCode, body)}
	}
	fmt.Fprintf(stdout, "%s", body)
	return nil
}
