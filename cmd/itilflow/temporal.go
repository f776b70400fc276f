package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// temporalConn is how a command reaches an external Temporal frontend: its
// address and namespace and, for a frontend that requires mutual TLS (see
// docs/security.md), a client certificate.
type temporalConn struct {
	address, namespace *string
	tls                temporalTLS
	// local finds the Temporal of a running dev when no address is given.
	local *localStack
}

// temporalFlags are the connection flags of the commands that talk to Temporal
// directly (history export, replay --id, reconcile, whatif, audit verify --deep).
func temporalFlags(f *flags) temporalConn {
	return temporalConn{
		address: f.String("temporal-address", envOr(f.getenv, "TEMPORAL_ADDRESS", ""),
			"Temporal frontend (env TEMPORAL_ADDRESS; default: the Temporal of the dev running on --data-dir, else "+defaultTemporalAddress+")"),
		namespace: f.String("namespace", envOr(f.getenv, "TEMPORAL_NAMESPACE", "default"), "Temporal namespace (env TEMPORAL_NAMESPACE)"),
		tls:       f.temporalTLS(),
		local:     f.local(),
	}
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// dial connects with the flags' address, namespace and certificate.
func (t temporalConn) dial(ctx context.Context) (client.Client, error) {
	conf, err := t.tls.config()
	if err != nil {
		return nil, err
	}
	return dialTemporal(ctx, client.Options{HostPort: t.local.temporalAddress(*t.address), Namespace: *t.namespace,
		ConnectionOptions: client.ConnectionOptions{TLS: conf}})
}

// dialTemporal connects to Temporal within 15 seconds, logging nothing.
func dialTemporal(ctx context.Context, opts client.Options) (client.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if opts.Logger == nil {
		opts.Logger = sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	}
	c, err := client.DialContext(dctx, opts)
	if err != nil {
		return nil, fmt.Errorf("Temporal at %s is unreachable: %w", opts.HostPort, err)
	}
	return c, nil
}

// temporalTLS names the files of a client certificate for Temporal's frontend.
type temporalTLS struct {
	cert, key, ca, serverName *string
}

func (f *flags) temporalTLS() temporalTLS {
	return temporalTLS{
		cert:       f.string("temporal-tls-cert", "", "client certificate (PEM) for a Temporal frontend that requires mutual TLS"),
		key:        f.string("temporal-tls-key", "", "the client certificate's private key (PEM)"),
		ca:         f.string("temporal-tls-ca", "", "CA certificates (PEM) that sign the frontend's certificate; default: the system's"),
		serverName: f.string("temporal-tls-server-name", "", "the name the frontend's certificate carries, when it is not the address's host"),
	}
}

// config is the TLS configuration the flags describe, or nil when none is
// set (a plain connection, as to dev's embedded server).
func (t temporalTLS) config() (*tls.Config, error) {
	if *t.cert == "" && *t.key == "" && *t.ca == "" && *t.serverName == "" {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: *t.serverName}
	switch {
	case (*t.cert == "") != (*t.key == ""):
		return nil, errors.New("--temporal-tls-cert and --temporal-tls-key go together: a client certificate needs its key")
	case *t.cert != "":
		pair, err := tls.LoadX509KeyPair(*t.cert, *t.key)
		if err != nil {
			return nil, fmt.Errorf("Temporal client certificate: %w", err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	if *t.ca != "" {
		pem, err := os.ReadFile(*t.ca)
		if err != nil {
			return nil, fmt.Errorf("--temporal-tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--temporal-tls-ca: %s holds no PEM certificate", *t.ca)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}
