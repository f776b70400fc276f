package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// slowHookDefinition calls a webhook as it starts, with two retries.
const slowHookDefinition = `name: slow-hook
title: Slow hook
input:
  title: {type: string, required: true}
initial: open
states:
  open:
    on_enter:
      - webhook: {url: HOOK, timeout: 10s, retries: 2}
    actions:
      close: {to: closed}
  closed: {final: true}
`

// slowReceiver answers each call after a delay, and records whether the caller
// waited for the answer or hung up first.
type slowReceiver struct {
	delay   time.Duration
	started chan struct{}
	mu      sync.Mutex
	calls   []string // "<Idempotency-Key> completed" or "<Idempotency-Key> abandoned"
}

func (s *slowReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.ReadAll(r.Body)
	select {
	case s.started <- struct{}{}:
	default:
	}
	delay := s.delay
	if r.URL.Path == "/stall" {
		delay = time.Minute
	}
	outcome := "completed"
	select {
	case <-time.After(delay):
		io.WriteString(w, `{"ok":true}`)
	case <-r.Context().Done():
		outcome = "abandoned"
	}
	s.mu.Lock()
	s.calls = append(s.calls, r.Header.Get("Idempotency-Key")+" "+outcome)
	s.mu.Unlock()
}

func (s *slowReceiver) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// lockedBuffer is a log that the test reads while the process writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSIGTERMLetsAWebhookCallFinish stops the real binary with SIGTERM while a
// webhook call is in flight. The worker must wait for the call rather than
// cancel it: the receiver sees one call, answered, and after a restart on the
// same data the process records it once — no abandoned call repeated by a
// retry, which would spend an attempt on a call the receiver may have acted on.
func TestSIGTERMLetsAWebhookCallFinish(t *testing.T) {
	recv := &slowReceiver{delay: 3 * time.Second, started: make(chan struct{}, 1)}
	hook := httptest.NewServer(recv)
	defer hook.Close()
	cfg := newDevConfig(t)
	cfg.extra = []string{"--log-level", "info"}
	bin := filepath.Join(t.TempDir(), "itilflow")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	start := func(log io.Writer) (cmd *exec.Cmd, exited <-chan error) {
		cmd = exec.Command(bin, cfg.args()...)
		cmd.Env = append(os.Environ(), "DATABASE_URL=")
		cmd.Stdout, cmd.Stderr = io.Discard, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		waitHealthy(t, cfg.httpAddr, done)
		return cmd, done
	}
	log := &lockedBuffer{}
	cmd, exited := start(log)
	c := apiClient{t: t, base: cfg.httpAddr}
	c.must(201, "PUT", "/api/v1/definitions/slow-hook", "dev-process-owner", strings.Replace(slowHookDefinition, "HOOK", hook.URL, 1))
	id := c.must(201, "POST", "/api/v1/processes/slow-hook", "dev-requester", map[string]any{"input": map[string]any{"title": "t"}})["id"].(string)
	select {
	case <-recv.started:
	case <-time.After(30 * time.Second):
		t.Fatal("the webhook was not called within 30s")
	}

	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("dev exited with %v after SIGTERM:\n%s", err, log)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("dev did not stop within 30s of SIGTERM:\n%s", log)
	}
	t.Logf("dev stopped %v after SIGTERM; its log:\n%s", time.Since(signalled).Round(10*time.Millisecond), log)
	if got := recv.seen(); len(got) != 1 || !strings.HasPrefix(got[0], id+"/") || !strings.HasSuffix(got[0], " completed") {
		t.Fatalf("the receiver saw %v, want one completed call", got)
	}
	for _, want := range []string{
		"stopping the API: no new requests",
		"stopping the worker; waiting for the activities in flight to finish",
		"CallWebhook for " + id + " (attempt 1, running ",
		"worker stopped",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, log)
		}
	}

	log = &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log of the restarted dev:\n%s", log)
		}
	})
	cmd, exited = start(log)
	p := c.waitFor(id, "told of the call", func(p map[string]any) bool { return eventCount(p, "webhook_called") > 0 })
	if n, failed := eventCount(p, "webhook_called"), eventCount(p, "webhook_failed"); n != 1 || failed != 0 {
		t.Fatalf("webhook_called %d times, webhook_failed %d times: %v", n, failed, p["events"])
	}
	if got := recv.seen(); len(got) != 1 {
		t.Fatalf("the receiver saw %v after the restart, want the one call", got)
	}

	t.Run("SecondSignalStopsAtOnce", func(t *testing.T) {
		// A call that would take a minute: the drain waits for it, until a
		// second signal.
		c.must(201, "PUT", "/api/v1/definitions/slow-hook", "dev-process-owner", strings.Replace(slowHookDefinition, "HOOK", hook.URL+"/stall", 1))
		c.must(201, "POST", "/api/v1/processes/slow-hook", "dev-requester", map[string]any{"input": map[string]any{"title": "t"}})
		select {
		case <-recv.started:
		case <-time.After(30 * time.Second):
			t.Fatal("the webhook was not called within 30s")
		}
		pid := filepath.Join(cfg.dataDir, "pg", "data", "postmaster.pid")
		if _, err := os.Stat(pid); err != nil {
			t.Fatalf("PostgreSQL's pid file: %v", err)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(log.String(), "waiting for the activities in flight"); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the worker is not waiting for the call:\n%s", log)
			}
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-exited:
			if err == nil || !strings.Contains(log.String(), "stopping at once") {
				t.Fatalf("dev exited with %v after a second signal:\n%s", err, log)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("dev did not stop at a second signal:\n%s", log)
		}
		// PostgreSQL, told by the kernel that its parent died, shuts down
		// by itself; it must be gone before the data directory is removed.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if _, err := os.Stat(pid); os.IsNotExist(err) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("PostgreSQL still runs 30s after dev exited")
			}
		}
	})
}

// TestOnSignals: the first signal cancels (a graceful stop), the second exits.
func TestOnSignals(t *testing.T) {
	signals := make(chan os.Signal, 2)
	cancelled, exited := make(chan struct{}), make(chan int, 1)
	var out lockedBuffer
	go onSignals(signals, func() { close(cancelled) }, &out, func(code int) { exited <- code })
	signals <- syscall.SIGTERM
	<-cancelled
	if len(exited) != 0 {
		t.Fatal("the first signal exited")
	}
	signals <- os.Interrupt
	if code := <-exited; code == 0 {
		t.Fatal("a second signal exits with 0")
	}
	if !strings.Contains(out.String(), "terminated: stopping gracefully") || !strings.Contains(out.String(), "interrupt again: stopping at once") {
		t.Fatalf("said %q", out.String())
	}
}
