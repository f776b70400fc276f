package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// temporalReadyTimeout bounds how long startTemporal waits for the frontend:
// a first start creates the shards' rows, which takes a few seconds.
const temporalReadyTimeout = 2 * time.Minute

// startTemporal writes the server's config into dir and runs the server on
// the PostgreSQL at dbHost:dbPort, whose schema must be applied. It returns
// once the frontend answers health checks, with the frontend's address.
func startTemporal(ctx context.Context, bin, dir, dbHost string, dbPort int, dbUser, logLevel string, shards int) (*Process, string, error) {
	ports, err := freePorts(2 * len(temporalServices))
	if err != nil {
		return nil, "", err
	}
	cfg := temporalConfig{
		DBHost: dbHost, DBPort: dbPort, DBUser: dbUser,
		Shards:          shards,
		GRPC:            map[string]int{},
		Membership:      map[string]int{},
		DynamicConfig:   filepath.Join(dir, "dynamicconfig.yaml"),
		LogLevel:        logLevel,
		MaxConnsDefault: 8,
		MaxConnsVisible: 4,
	}
	for i, svc := range temporalServices {
		cfg.GRPC[svc], cfg.Membership[svc] = ports[2*i], ports[2*i+1]
	}
	cfg.Frontend = cfg.GRPC["frontend"]
	configPath := filepath.Join(dir, "temporal.yaml")
	if err := writeTemporalConfig(configPath, cfg); err != nil {
		return nil, "", err
	}
	// --allow-no-auth: the server listens on loopback only, for this
	// machine's itilflow processes; without it the server warns at start.
	p, err := startProcess("temporal-server", filepath.Join(dir, "temporal.log"), bin,
		[]string{"--config-file", configPath, "--allow-no-auth", "start"}, nil)
	if err != nil {
		return nil, "", err
	}
	hostPort := fmt.Sprintf("127.0.0.1:%d", cfg.Frontend)
	if err := waitTemporal(ctx, p, hostPort); err != nil {
		_ = p.Kill()
		return nil, "", err
	}
	return p, hostPort, nil
}

// waitTemporal waits until the frontend at hostPort answers a health check,
// failing early when the server exits.
func waitTemporal(ctx context.Context, p *Process, hostPort string) error {
	ctx, cancel := context.WithTimeout(ctx, temporalReadyTimeout)
	defer cancel()
	quiet := sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	var last error
	for {
		if err := p.Exited(); err != nil {
			return fmt.Errorf("cluster: Temporal server: %w\n%s", err, p.LogTail(30))
		}
		attempt, cancelAttempt := context.WithTimeout(ctx, 5*time.Second)
		c, err := client.DialContext(attempt, client.Options{HostPort: hostPort, Logger: quiet})
		if err == nil {
			_, err = c.CheckHealth(attempt, &client.CheckHealthRequest{})
			c.Close()
		}
		cancelAttempt()
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: Temporal server at %s not healthy within %v: %v\n%s", hostPort, temporalReadyTimeout, last, p.LogTail(30))
		case <-time.After(500 * time.Millisecond):
		}
	}
}
