package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// asCommand, set in its environment, has this test binary run as the
// itilflow command (see TestMain): commands run from a directory, as people
// run them, without building the binary again.
const asCommand = "ITILFLOW_TEST_BINARY_AS_COMMAND"

// commandOnPath writes an `itilflow` that runs this test binary as the
// command into a new directory, and returns the directory, for PATH.
func commandOnPath(t testing.TB) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	script := "#!/bin/sh\n" + asCommand + "=1 exec '" + self + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "itilflow"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// cleanEnv is an environment with none of the variables the commands read
// (DATABASE_URL, TEMPORAL_…, ITILFLOW_…), PATH with the itilflow of bin
// first, and home as HOME, so that no setting of the machine's gets in.
func cleanEnv(bin, home string) []string {
	return []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + home, "LANG=C.UTF-8"}
}

// devBesideHere is a dev config whose data directory is the default one,
// .itilflow, of the directory it returns.
func devBesideHere(t *testing.T) (devConfig, string) {
	cfg := newDevConfig(t)
	here := filepath.Dir(cfg.dataDir)
	cfg.dataDir = filepath.Join(here, defaultDataDir)
	return cfg, here
}

func TestCommandsFindTheDevRunningHere(t *testing.T) {
	cfg, here := devBesideHere(t)
	stop := startInProcess(t, cfg)
	bin := commandOnPath(t)
	itilflow := func(args ...string) (stdout, stderr string, err error) {
		cmd := exec.Command(filepath.Join(bin, "itilflow"), args...)
		cmd.Dir, cmd.Env = here, cleanEnv(bin, here)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err = cmd.Run()
		return out.String(), errOut.String(), err
	}

	t.Run("AuditVerifyNeedsNoEnvironment", func(t *testing.T) {
		out, errOut, err := itilflow("audit", "verify")
		if err != nil || !strings.Contains(out, "audit log ok") || !strings.Contains(out, "checkpoint ok") || strings.Contains(out, "NOT CHECKED") {
			t.Fatalf("audit verify: %v\n%s%s", err, out, errOut)
		}
		if !strings.Contains(errOut, "DATABASE_URL is not set: using the PostgreSQL of the dev running on .itilflow (pid ") {
			t.Fatalf("does not say which database it verified:\n%s", errOut)
		}
	})
	t.Run("DoctorFindsPostgreSQLAndTemporal", func(t *testing.T) {
		out, errOut, err := itilflow("doctor")
		if err != nil || !strings.Contains(errOut, "using the Temporal of the dev running on .itilflow") {
			t.Fatalf("doctor: %v\n%s%s", err, out, errOut)
		}
	})
	t.Run("AGivenDatabaseURLWins", func(t *testing.T) {
		cmd := exec.Command(filepath.Join(bin, "itilflow"), "audit", "verify")
		cmd.Dir, cmd.Env = here, append(cleanEnv(bin, here), "DATABASE_URL=postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
		out, err := cmd.CombinedOutput()
		if err == nil || strings.Contains(string(out), "dev running") {
			t.Fatalf("used the dev although DATABASE_URL was set: %v\n%s", err, out)
		}
	})

	stop()
	t.Run("AStoppedDevIsNotUsed", func(t *testing.T) {
		if _, err := os.Stat(filepath.Join(cfg.dataDir, devFileName)); !os.IsNotExist(err) {
			t.Fatalf("dev left %s behind: %v", devFileName, err)
		}
		_, errOut, err := itilflow("audit", "verify")
		if err == nil || !strings.Contains(errOut, "DATABASE_URL is not set and no itilflow dev runs on .itilflow (no .itilflow/dev.json)") {
			t.Fatalf("audit verify without dev: %v\n%s", err, errOut)
		}
	})
}

// TestAKilledDevIsNotUsed checks the file a dev killed with -9 leaves: the
// commands pass it by, saying why.
func TestAKilledDevIsNotUsed(t *testing.T) {
	dir := t.TempDir()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip("no true(1) to get the pid of a process that ended")
	}
	if _, err := writeDevFile(dir, devFile{PID: gone.Process.Pid, StartedAt: time.Now(), DatabaseURL: "postgres://postgres@127.0.0.1:5432/itilflow?sslmode=disable",
		Temporal: "127.0.0.1:7233"}); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	f := newFlags("test", env(nil), &stderr)
	loc := f.local()
	if err := f.parse([]string{"--data-dir", dir}); err != nil {
		t.Fatal(err)
	}
	_, err := loc.databaseURL()
	if err == nil || !strings.Contains(err.Error(), "is left by pid") || !strings.Contains(err.Error(), "which no longer runs") {
		t.Fatalf("a dead dev's file: %v", err)
	}
	if addr := loc.temporalAddress(""); addr != defaultTemporalAddress || !strings.Contains(stderr.String(), "trying "+defaultTemporalAddress) {
		t.Fatalf("temporal address %q, said %q", addr, stderr.String())
	}
}

// TestDevFileIsRemovedOnlyByItsWriter: a dev that stops late must not remove
// the file of a dev started since on the same directory.
func TestDevFileIsRemovedOnlyByItsWriter(t *testing.T) {
	dir := t.TempDir()
	first, err := writeDevFile(dir, devFile{PID: os.Getpid(), StartedAt: time.Unix(1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writeDevFile(dir, devFile{PID: os.Getpid(), StartedAt: time.Unix(2, 0), DatabaseURL: "postgres://x:secret@db/itilflow"}); err != nil {
		t.Fatal(err)
	}
	first()
	f, err := readDevFile(dir)
	if err != nil || !f.StartedAt.Equal(time.Unix(2, 0)) {
		t.Fatalf("the second dev's file: %+v, %v", f, err)
	}
	if info, _ := os.Stat(filepath.Join(dir, devFileName)); info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v: a DATABASE_URL may carry a password", info.Mode())
	}
	var stderr bytes.Buffer
	loc := &localStack{dataDir: &dir, getenv: env(nil), stderr: &stderr}
	if u, err := loc.databaseURL(); err != nil || u != "postgres://x:secret@db/itilflow" || strings.Contains(stderr.String(), "secret") {
		t.Fatalf("url %q, %v; said %q", u, err, stderr.String())
	}
}
