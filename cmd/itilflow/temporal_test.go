package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert makes a certificate for name, signed by parent (self-signed when
// nil), and writes it and its key as PEM files in dir.
func writeCert(t *testing.T, dir, name string, isCA bool, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: isCA, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key, certFile, keyFile
}

// TestTemporalMutualTLS checks that the Temporal client flags present the
// client certificate to a frontend that requires one and verify the
// frontend's certificate against the given CA.
func TestTemporalMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey, caFile, _ := writeCert(t, dir, "itilflow-test-ca", true, nil, nil)
	_, _, serverCert, serverKey := writeCert(t, dir, "temporal.internal", false, ca, caKey)
	_, _, clientCert, clientKey := writeCert(t, dir, "itilflow-worker", false, ca, caKey)

	pool := x509.NewCertPool()
	pool.AddCert(ca)
	pair, err := tls.LoadX509KeyPair(serverCert, serverKey)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	seen := make(chan string, 8)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			tc := conn.(*tls.Conn)
			if tc.Handshake() == nil && len(tc.ConnectionState().PeerCertificates) > 0 {
				seen <- tc.ConnectionState().PeerCertificates[0].Subject.CommonName
			}
			conn.Close()
		}
	}()

	flags := func(args ...string) temporalConn {
		f := newFlags("test", func(string) string { return "" }, nil)
		conn := temporalFlags(f)
		if err := f.parse(append([]string{"--temporal-address", ln.Addr().String()}, args...)); err != nil {
			t.Fatal(err)
		}
		return conn
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	// The frontend here speaks no gRPC: the dial fails after the handshake,
	// which is all this test looks at.
	flags("--temporal-tls-cert", clientCert, "--temporal-tls-key", clientKey, "--temporal-tls-ca", caFile,
		"--temporal-tls-server-name", "temporal.internal").dial(ctx)
	select {
	case who := <-seen:
		if who != "itilflow-worker" {
			t.Fatalf("the frontend saw the certificate of %q", who)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no verified client certificate reached the frontend")
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--temporal-tls-cert", clientCert}, "go together"},
		{[]string{"--temporal-tls-ca", clientKey}, "holds no PEM certificate"},
		{[]string{"--temporal-tls-cert", clientCert, "--temporal-tls-key", filepath.Join(dir, "missing.pem")}, "client certificate"},
	} {
		if _, err := flags(bad.args...).dial(ctx); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %v, want an error saying %q", bad.args, err, bad.want)
		}
	}
}
