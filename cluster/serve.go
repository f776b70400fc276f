package cluster

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"time"
)

// serveReadyTimeout bounds how long StartServe waits for /healthz: on a
// fresh cluster the first serve registers the namespace, which takes a
// namespace registry refresh (about 10s) to be usable.
const serveReadyTimeout = 2 * time.Minute

// Serve is one `itilflow serve` process.
type Serve struct {
	*Process
	Role string
	Addr string // host:port of its HTTP listener: the API (role api) or /healthz and /metrics (role worker)
}

// URL is the base address of the process's HTTP listener.
func (s *Serve) URL() string { return "http://" + s.Addr }

// startServe runs `itilflow serve --role role` with env, logging to dir, and
// waits until its /healthz answers.
func startServe(ctx context.Context, bin, dir, name, role, definitions string, env []string) (*Serve, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	args := []string{"serve", "--role", role, "--http-addr", addr, "--definitions", definitions, "--log-level", "warn"}
	p, err := startProcess(name, filepath.Join(dir, name+".log"), bin, args, env)
	if err != nil {
		return nil, err
	}
	s := &Serve{Process: p, Role: role, Addr: addr}
	if err := waitHealthy(ctx, s); err != nil {
		_ = p.Kill()
		return nil, err
	}
	return s, nil
}

// waitHealthy polls the process's /healthz until it answers 200, failing
// early when the process exits.
func waitHealthy(ctx context.Context, s *Serve) error {
	ctx, cancel := context.WithTimeout(ctx, serveReadyTimeout)
	defer cancel()
	for {
		if err := s.Exited(); err != nil {
			return fmt.Errorf("cluster: %w\n%s", err, s.LogTail(30))
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/healthz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: %s not healthy at %s within %v\n%s", s.Name, s.Addr, serveReadyTimeout, s.LogTail(30))
		case <-time.After(200 * time.Millisecond):
		}
	}
}
