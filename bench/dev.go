package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DevOptions say how to run `itilflow dev`, the whole product, for the
// lateness and scale runs.
type DevOptions struct {
	// Binary is the built itilflow command.
	Binary string
	// Definitions is the directory of the shipped definitions dev publishes.
	Definitions string
	// Dir holds the data directories of the runs.
	Dir string
	// Log receives dev's own output.
	Log io.Writer
}

// Dev is a running `itilflow dev` and a client of its API.
type Dev struct {
	cmd  *exec.Cmd
	done chan error
	base string
	http *http.Client
}

// StartDev runs `itilflow dev` with its data in opts.Dir/name and waits until
// its API answers.
func StartDev(ctx context.Context, opts DevOptions, name string) (*Dev, error) {
	if opts.Binary == "" {
		return nil, fmt.Errorf("no itilflow binary given (-itilflow)")
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	temporalPort, err := freePort()
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(opts.Dir, name)
	// 0755: PostgreSQL runs as its own user when we are root and must reach it.
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("dev data directory: %w", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(httpPort))
	// Not CommandContext: dev is stopped with SIGINT (Stop), so that it
	// stops its PostgreSQL, not killed.
	cmd := exec.Command(opts.Binary, "dev", "--data-dir", dataDir, "--http-addr", addr,
		"--temporal-port", strconv.Itoa(temporalPort), "--ui-port", "0", "--definitions", opts.Definitions, "--log-level", "error")
	// Its banner is for people; its errors go to the log.
	cmd.Stdout, cmd.Stderr = io.Discard, opts.Log
	// Its own process group: a Ctrl-C of the benchmark reaches dev through
	// Stop, once, rather than twice.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dev: %w", err)
	}
	d := &Dev{cmd: cmd, done: make(chan error, 1), base: "http://" + addr,
		http: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	go func() { d.done <- cmd.Wait() }()
	if err := d.awaitHealthy(ctx, 3*time.Minute); err != nil {
		d.Stop()
		return nil, err
	}
	return d, nil
}

func (d *Dev) awaitHealthy(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		resp, err := d.http.Get(d.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-d.done:
			return fmt.Errorf("dev exited before it answered: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dev did not answer /healthz within %s", within)
		}
	}
}

// Stop stops dev as Ctrl-C would, and kills it if it has not stopped within
// a minute.
func (d *Dev) Stop() {
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(time.Minute):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// Call sends a request to the API as the user of token; a body that is a
// string is sent as YAML, anything else as JSON. It returns the status and
// the decoded JSON answer.
func (d *Dev) Call(ctx context.Context, method, path, token string, body any) (int, map[string]any, error) {
	return d.CallWithKey(ctx, method, path, token, body, "")
}

// CallWithKey is Call with an Idempotency-Key, unless key is "".
func (d *Dev) CallWithKey(ctx context.Context, method, path, token string, body any, key string) (int, map[string]any, error) {
	var r io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		r, contentType = strings.NewReader(b), "application/yaml"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return resp.StatusCode, nil, fmt.Errorf("%s %s: answer is not JSON: %.200s", method, path, raw)
		}
	}
	return resp.StatusCode, out, nil
}

// HeapInuse is the bytes of heap in use by dev right after a garbage
// collection: /debug/pprof/heap?gc=1 (which dev serves) collects, then
// /metrics reports go_memstats_heap_inuse_bytes.
func (d *Dev) HeapInuse(ctx context.Context) (int64, error) {
	if err := d.drain(ctx, "/debug/pprof/heap?gc=1"); err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("go_memstats_heap_inuse_bytes %q: %w", v, err)
			}
			return int64(f), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	return 0, fmt.Errorf("metrics: no go_memstats_heap_inuse_bytes")
}

func (d *Dev) drain(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: status %d", path, resp.StatusCode)
	}
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
