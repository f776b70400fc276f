package pgcluster_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/itilflow/itilflow/pgcluster"
)

// clusterDir returns a fresh Dir that the postgres user can reach when the
// tests run as root (t.TempDir's parent is 0700).
func clusterDir(t *testing.T) string {
	t.Helper()
	if _, err := pgcluster.FindBinaries(); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "pg")
}

func start(t *testing.T, dir string) *pgcluster.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

func connect(t *testing.T, url string) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Connect("postgres", url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStartStopRestart(t *testing.T) {
	dir := clusterDir(t)
	ctx := context.Background()
	c := start(t, dir)

	db := connect(t, c.URL())
	var one int
	if err := db.GetContext(ctx, &one, "SELECT 1"); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	for i := 0; i < 2; i++ { // idempotent
		if err := c.CreateDatabase(ctx, "test_iso"); err != nil {
			t.Fatalf("CreateDatabase #%d: %v", i+1, err)
		}
	}
	iso := connect(t, c.DatabaseURL("test_iso"))
	if err := iso.GetContext(ctx, &one, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	iso.Close()
	if _, err := db.ExecContext(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives')"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	url := c.URL()
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}

	c2 := start(t, dir)
	if c2.URL() != url {
		t.Errorf("port not reused: %s then %s", url, c2.URL())
	}
	var v string
	if err := connect(t, c2.URL()).GetContext(ctx, &v, "SELECT v FROM kept"); err != nil || v != "survives" {
		t.Fatalf("after restart: %q, %v", v, err)
	}
}

func TestLeftoverServer(t *testing.T) {
	dir := clusterDir(t)
	first := start(t, dir)
	second := start(t, dir) // no Stop in between: first is a leftover
	var one int
	if err := connect(t, second.URL()).Get(&one, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(); err != nil {
		t.Errorf("Stop on the replaced cluster: %v", err)
	}
}

func TestParentNotTraversable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only relevant when running as root")
	}
	if _, err := pgcluster.FindBinaries(); err != nil {
		t.Skip(err)
	}
	parent := filepath.Join(t.TempDir(), "private")
	if err := os.Mkdir(parent, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: filepath.Join(parent, "pg")})
	if err == nil || !strings.Contains(err.Error(), parent) || !strings.Contains(err.Error(), "chmod") {
		t.Fatalf("want error naming %s and chmod, got %v", parent, err)
	}
}

// TestHelperProcess is the child for TestServerDiesWithParent.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("PGCLUSTER_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	if _, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("ready\n")
	select {} // wait to be killed
}

// TestServerDiesWithParent checks the crash-safety promise: SIGKILL the
// process that started the cluster and the postmaster must go away.
func TestServerDiesWithParent(t *testing.T) {
	dir := clusterDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PGCLUSTER_HELPER_DIR="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "ready" {
	}
	pidFile := filepath.Join(dir, "data", "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("helper did not start a server: %v", err)
	}
	// If the promise is broken, don't leave the orphan behind.
	t.Cleanup(func() {
		if _, err := os.Stat(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0]); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	// postgres removes its pid file as the last step of shutdown.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(pidFile); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("postmaster still running 30s after its parent was killed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	start(t, dir) // and the cluster is usable again
}

// TestStalePidFileOfOtherProcess covers pid reuse (after a reboot or in a
// container): postmaster.pid names a live process that is not postgres.
func TestStalePidFileOfOtherProcess(t *testing.T) {
	dir := clusterDir(t)
	if err := start(t, dir).Stop(); err != nil {
		t.Fatal(err)
	}
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() }()
	pidFile := filepath.Join(dir, "data", "postmaster.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(sleeper.Process.Pid)+"\n"+filepath.Join(dir, "data")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var one int
	if err := connect(t, start(t, dir).URL()).Get(&one, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if err := sleeper.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the unrelated process was signalled: %v", err)
	}
}
