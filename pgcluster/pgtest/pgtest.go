// Package pgtest gives tests a real, empty PostgreSQL database each. It uses the
// server at ITILFLOW_TEST_DATABASE_URL when set, and otherwise one private cluster
// per test binary, started from the system's PostgreSQL binaries by Main.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the driver the store uses

	"github.com/itilflow/itilflow/pgcluster"
)

// server is the PostgreSQL every test of this binary creates its databases on:
// set once by Main before any test runs, read-only afterwards.
var server string

// Main starts the test cluster (unless ITILFLOW_TEST_DATABASE_URL names a server),
// runs the tests and stops it. Call it from TestMain.
func Main(m *testing.M) int {
	if u := os.Getenv("ITILFLOW_TEST_DATABASE_URL"); u != "" {
		server = u
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "itilflow-pgtest-")
	if err == nil {
		// The cluster runs as the postgres user when we are root: it must reach dir.
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: filepath.Join(dir, "pg")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer c.Stop()
	server = c.URL()
	return m.Run()
}

// NewDatabase creates an empty database for the test and returns its URL. The
// database is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	if server == "" {
		t.Fatal("pgtest: call pgtest.Main from TestMain")
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "test_" + hex.EncodeToString(b)
	admin, err := sqlx.Open("postgres", server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sqlx.Open("postgres", server)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
