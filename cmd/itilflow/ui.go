package main

import (
	"context"
	"fmt"
	"net"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
)

// uiConfig is a fixed configuration for the UI server.
type uiConfig struct{ cfg *uiconfig.Config }

func (c uiConfig) GetConfig() (*uiconfig.Config, error) { return c.cfg, nil }

// startUI serves the Temporal UI for the embedded server on 127.0.0.1:port until
// ctx ends, and returns its URL.
func startUI(ctx context.Context, temporalAddr string, port int) (string, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// The UI server exits the whole process when it cannot listen, so make sure
	// it can before starting it.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("Temporal UI port: %w (choose another with --ui-port, or 0 to disable the UI)", err)
	}
	ln.Close()
	cfg := &uiconfig.Config{
		TemporalGRPCAddress: temporalAddr,
		Host:                "127.0.0.1",
		Port:                port,
		EnableUI:            true,
		DefaultNamespace:    "default",
		HideLogs:            true,
		DisableNewsFetch:    true, // no network beyond this machine is assumed
		CORS:                uiconfig.CORS{CookieInsecure: true},
	}
	if err := cfg.Validate(); err != nil {
		return "", err
	}
	srv := uiserver.NewServer(uioptions.WithConfigProvider(uiConfig{cfg}))
	go srv.Start()
	go func() {
		<-ctx.Done()
		srv.Stop()
	}()
	return "http://" + addr, nil
}
