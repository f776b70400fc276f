package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/itilflow/itilflow/apiclient"
)

// runLoad starts many processes through the API of a running itilflow (with the
// typed client generated from its OpenAPI document) and prints
// throughput, latency percentiles and the server's heap before and after. It only
// talks to loopback addresses: it is for measuring this machine, not others.
func runLoad(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("load", getenv, stderr)
	base := f.string("api", "http://127.0.0.1:8080", "base URL of a running itilflow (loopback only)")
	definition := f.string("definition", "incident", "definition to start")
	n := f.int("n", 1000, "processes to start")
	workers := f.int("concurrency", 8, "requests in flight")
	token := f.string("token", "dev-requester", "token that starts the processes")
	ackToken := f.string("ack-token", "dev-tier1", "token that acknowledges each process; empty to skip")
	timeout := f.int("timeout", 600, "give up after this many seconds")
	if err := f.parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*base)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("load only targets loopback addresses, not %q", u.Hostname())
	}
	if *n < 1 || *n > 100000 || *workers < 1 || *workers > 256 {
		return errors.New("want 1 <= n <= 100000 and 1 <= concurrency <= 256")
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(*timeout)*time.Second)
	defer cancel()
	httpClient := &http.Client{Timeout: time.Minute}
	api, err := apiclient.NewClientWithResponses(*base, apiclient.WithHTTPClient(httpClient))
	if err != nil {
		return err
	}
	l := &loader{base: *base, client: httpClient}

	before, _ := l.heap(ctx)
	starts, ids, err := l.phase(ctx, *n, *workers, func(i int) (string, error) {
		input := map[string]any{"title": fmt.Sprintf("load test %d", i), "priority": fmt.Sprintf("P%d", 1+i%4)}
		resp, err := api.StartProcessWithResponse(ctx, *definition, nil, apiclient.StartRequest{Input: &input}, bearer(*token))
		if err != nil {
			return "", err
		}
		if resp.JSON201 == nil {
			return "", fmt.Errorf("start %s: %d: %s", *definition, resp.StatusCode(), resp.Body)
		}
		return resp.JSON201.Id, nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "start   %s\n", starts)
	if *ackToken != "" {
		acks, _, err := l.phase(ctx, len(ids), *workers, func(i int) (string, error) {
			resp, err := api.TakeActionWithResponse(ctx, ids[i], "acknowledge", nil, apiclient.ActionRequest{}, bearer(*ackToken))
			if err != nil {
				return "", err
			}
			if resp.JSON200 == nil {
				return "", fmt.Errorf("acknowledge %s: %d: %s", ids[i], resp.StatusCode(), resp.Body)
			}
			return resp.JSON200.Id, nil
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "action  %s\n", acks)
	}
	if after, err := l.heap(ctx); err == nil {
		fmt.Fprintf(stdout, "server heap: %s before, %s after with %d more open processes (HeapInuse; Sys %s)\n",
			mib(before.HeapInuse), mib(after.HeapInuse), len(ids), mib(after.Sys))
	} else {
		fmt.Fprintf(stdout, "server heap: unknown (%v); /debug/vars is served by `itilflow dev`\n", err)
	}
	return nil
}

type loader struct {
	base   string
	client *http.Client
}

// stats summarises one phase.
type stats struct {
	n         int
	elapsed   time.Duration
	latencies []time.Duration
}

func (s stats) String() string {
	sort.Slice(s.latencies, func(i, j int) bool { return s.latencies[i] < s.latencies[j] })
	p := func(q float64) time.Duration {
		return s.latencies[int(q*float64(len(s.latencies)-1))].Round(100 * time.Microsecond)
	}
	return fmt.Sprintf("%d requests in %v: %.1f/s, latency p50 %v p95 %v p99 %v max %v",
		s.n, s.elapsed.Round(time.Millisecond), float64(s.n)/s.elapsed.Seconds(), p(0.5), p(0.95), p(0.99), p(1))
}

// phase runs do(0..n-1) on workers goroutines and stops at the first error.
func (l *loader) phase(ctx context.Context, n, workers int, do func(i int) (string, error)) (stats, []string, error) {
	var (
		mu     sync.Mutex
		lat    = make([]time.Duration, 0, n)
		ids    = make([]string, n)
		first  error
		next   = make(chan int)
		wg     sync.WaitGroup
		start  = time.Now()
		cctx   context.Context
		cancel context.CancelFunc
	)
	cctx, cancel = context.WithCancel(ctx)
	defer cancel()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t := time.Now()
				id, err := do(i)
				mu.Lock()
				if err != nil && first == nil {
					first = err
					cancel()
				}
				lat = append(lat, time.Since(t))
				ids[i] = id
				mu.Unlock()
			}
		}()
	}
feed:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-cctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return stats{n: len(lat), elapsed: time.Since(start), latencies: lat}, ids, first
}

// bearer has a request of the typed client carry the token.
func bearer(token string) apiclient.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

type memStats struct {
	HeapInuse uint64
	Sys       uint64
}

func (l *loader) heap(ctx context.Context) (memStats, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.base+"/debug/vars", nil)
	resp, err := l.client.Do(req)
	if err != nil {
		return memStats{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return memStats{}, fmt.Errorf("/debug/vars: %s", resp.Status)
	}
	var vars struct {
		Memstats memStats `json:"memstats"`
	}
	return vars.Memstats, json.NewDecoder(resp.Body).Decode(&vars)
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
