package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// TestDevAnswersWhilePostgresIsFrozen stops every process of dev's PostgreSQL, as a
// hung server or a stalled disk does: its sockets stay open and nothing answers.
// The API must still answer at once — 503 with Retry-After, /healthz within 2s —
// and serve again as soon as PostgreSQL resumes.
func TestDevAnswersWhilePostgresIsFrozen(t *testing.T) {
	cfg := newDevConfig(t)
	// A JWT caller skips the token lookup: its requests reach the handlers' own
	// database calls.
	secret := []byte(strings.Repeat("k", 32))
	secretFile := filepath.Join(t.TempDir(), "jwt-secret")
	if err := os.WriteFile(secretFile, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.extra = []string{"--jwt-hs256-secret-file", secretFile}
	jwtRequester, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "rita.requester", "roles": []string{"requester"}, "exp": time.Now().Add(time.Hour).Unix()}).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	// Connections in the pool, so the calls below block on a live socket; and a
	// process whose SLA breaches 2s after it starts, while PostgreSQL is frozen:
	// its projection fails then, and must be retried until it lands.
	c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "before"}})
	c.must(201, "PUT", "/api/v1/definitions/quick", "dev-process-owner", quickDefinition)
	quick := c.must(201, "POST", "/api/v1/processes/quick", "dev-requester", map[string]any{"input": map[string]any{"title": "breach while frozen"}})

	resume := freezePostgres(t, filepath.Join(cfg.dataDir, "pg", "data"))
	for _, tc := range []struct {
		name, method, path, token, body string
		status                          int
		within                          time.Duration
	}{
		{"Health", "GET", "/healthz", "", "", 503, 2 * time.Second},
		{"ListProcesses", "GET", "/api/v1/processes", "dev-auditor", "", 503, 5 * time.Second},
		{"StartProcess", "POST", "/api/v1/processes/incident", "dev-requester", `{"input": {"title": "frozen"}}`, 503, 5 * time.Second},
		// Again, now that the pooled connections are gone: a new one must not
		// wait for the frozen server's handshake either.
		{"StartProcessAgain", "POST", "/api/v1/processes/incident", "dev-requester", `{"input": {"title": "frozen"}}`, 503, 5 * time.Second},
		{"StartProcessWithJWT", "POST", "/api/v1/processes/incident", jwtRequester, `{"input": {"title": "frozen"}}`, 503, 5 * time.Second},
		{"ListProcessesWithJWT", "GET", "/api/v1/processes", jwtRequester, "", 503, 5 * time.Second},
		{"HealthAgain", "GET", "/healthz", "", "", 503, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, header, body, took := timedCall(t, tc.method, "http://"+cfg.httpAddr+tc.path, tc.token, tc.body, 30*time.Second)
			t.Logf("%s %s: %d in %v: %s", tc.method, tc.path, status, took.Round(time.Millisecond), body)
			if status != tc.status || took > tc.within {
				t.Fatalf("%d after %v, want %d within %v", status, took, tc.status, tc.within)
			}
			if tc.path != "/healthz" && (header.Get("Retry-After") == "" || !strings.Contains(body, `"code":"unavailable"`)) {
				t.Fatalf("no Retry-After or error object: %v %s", header, body)
			}
		})
	}

	resume()
	// The breach's projection, refused while PostgreSQL was frozen, is retried.
	c.waitFor(quick["id"].(string), "breached", breached("response"))
	// The pool replaces its broken connections: a start answers with its
	// projection again.
	deadline := time.Now().Add(60 * time.Second)
	for {
		status, out := c.call("POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "after"}})
		if status == 201 {
			c.waitFor(out["id"].(string), "projected", func(p map[string]any) bool { return p["state"] == "new" })
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no start within 60s of resuming PostgreSQL: %d %v", status, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	c.must(200, "GET", "/healthz", "", nil)
}

// timedCall sends one request and reports what came back and how long it took;
// the client gives up after limit so a hanging server fails the test, not the run.
func timedCall(t *testing.T, method, url, token, body string, limit time.Duration) (int, http.Header, string, time.Duration) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := (&http.Client{Timeout: limit}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: no answer after %v: %v", method, url, time.Since(start), err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, resp.Header, b.String(), time.Since(start)
}

// freezePostgres stops (SIGSTOP) the postmaster of the cluster in dataDir and
// every process it forked, and returns the function that resumes them all; the
// test's cleanup resumes them too, so a failing test leaves no frozen server.
func freezePostgres(t *testing.T, dataDir string) (resume func()) {
	t.Helper()
	pidFile, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(pidFile), "\n")
	postmaster, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	signal := func(sig syscall.Signal) error {
		// The postmaster first: once it is stopped it forks no new children.
		if err := syscall.Kill(postmaster, sig); err != nil {
			return fmt.Errorf("postmaster %d: %w", postmaster, err)
		}
		for _, pid := range childrenOf(t, postmaster) {
			if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("backend %d: %w", pid, err)
			}
		}
		return nil
	}
	resumed := false
	resume = func() {
		if !resumed {
			resumed = true
			if err := signal(syscall.SIGCONT); err != nil {
				t.Errorf("resume PostgreSQL: %v", err)
			}
		}
	}
	t.Cleanup(resume)
	if err := signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("freeze PostgreSQL: %v", err)
	}
	return resume
}

// childrenOf lists the processes whose parent is pid, from /proc.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the process ended meanwhile
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == pid {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			out = append(out, child)
		}
	}
	return out
}
