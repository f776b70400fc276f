package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// LatenessOptions size the lateness run.
type LatenessOptions struct {
	// Open is how many incidents are started and watched.
	Open int
	// Target is their response target: their deadlines are spread over the
	// time the starts take, Target after each start.
	Target time.Duration
	// Starters is how many starts are sent at a time.
	Starters int
}

// watchedDefinition is the test definition of the lateness run: an
// incident's response SLA with a short target, which nobody meets.
func watchedDefinition(name string, target time.Duration) string {
	return fmt.Sprintf(`name: %s
title: Benchmark of SLA lateness
calendar: 24x7
input:
  title: {type: string, required: true, maxLength: 200}
initial: new
states:
  new:
    actions:
      acknowledge: {to: in_progress, roles: [tier1]}
  in_progress:
    actions:
      close: {to: closed, roles: [tier1]}
  closed: {final: true}
slas:
  response:
    target: %ds
    stop_on_leave: [new]
`, name, int(target.Seconds()))
}

// Tokens of dev's demo users (definitions/dev-users.yaml).
const (
	tokenOwner     = "dev-process-owner"
	tokenRequester = "dev-requester"
	tokenAuditor   = "dev-auditor"
)

// Lateness runs dev, starts opts.Open incidents whose response deadlines
// fall over the time the starts take, and measures for each how long after
// its due time the API shows it breached.
func Lateness(ctx context.Context, opts DevOptions, lo LatenessOptions, out *Output, progress io.Writer) error {
	dev, err := StartDev(ctx, opts, "dev-lateness")
	if err != nil {
		return err
	}
	defer dev.Stop()
	const def = "bench-lateness"
	if err := publish(ctx, dev, def, watchedDefinition(def, lo.Target)); err != nil {
		return err
	}
	watched, rate, err := startMany(ctx, dev, def, lo.Open, lo.Starters, progress)
	if err != nil {
		return err
	}
	out.Put("start_rate", fmt.Sprintf("%.1f", rate))
	res, err := watch(ctx, dev, watched, progress)
	if err != nil {
		return err
	}
	res.put(out, "")
	open, err := countOpen(ctx, dev, def)
	if err != nil {
		return err
	}
	out.Put("open", open)
	return out.Err()
}

// publish publishes a definition through the API, as a process owner does.
func publish(ctx context.Context, dev *Dev, name, src string) error {
	status, body, err := dev.Call(ctx, "PUT", "/api/v1/definitions/"+name, tokenOwner, src)
	if err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	if status != 200 && status != 201 {
		return fmt.Errorf("publish %s: status %d: %v", name, status, body)
	}
	return nil
}

// watched is a started incident and when its response SLA falls due.
type watched struct {
	id  string
	due time.Time
}

// startMany starts n incidents of def, starters at a time, and returns them
// with their due times and the rate of starts per second.
func startMany(ctx context.Context, dev *Dev, def string, n, starters int, progress io.Writer) ([]watched, float64, error) {
	out := make([]watched, n)
	var (
		next  atomic.Int64
		done  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	begin := time.Now()
	for range max(starters, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				w, err := startOne(ctx, dev, def, fmt.Sprintf("bench-%s-%d-%d", def, begin.UnixNano(), i))
				if err != nil {
					mu.Lock()
					first = cmpErr(first, err)
					mu.Unlock()
					return
				}
				out[i] = w
				if k := done.Add(1); k%1000 == 0 {
					fmt.Fprintf(progress, "bench: %d of %d %s started in %s\n", k, n, def, time.Since(begin).Round(time.Second))
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, 0, first
	}
	elapsed := time.Since(begin)
	return out, float64(n) / elapsed.Seconds(), nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// startOne starts one incident as a client does: a 503 (Temporal did not
// answer in time on a loaded machine) is retried with the same
// Idempotency-Key, which starts one process.
func startOne(ctx context.Context, dev *Dev, def, key string) (watched, error) {
	var (
		status int
		body   map[string]any
		err    error
	)
	for try := 0; try < 10; try++ {
		status, body, err = dev.CallWithKey(ctx, "POST", "/api/v1/processes/"+def, tokenRequester,
			map[string]any{"input": map[string]any{"title": "Benchmark " + key}}, key)
		if err == nil && status != 503 && status != 429 {
			break
		}
		select {
		case <-ctx.Done():
			return watched{}, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	if err != nil {
		return watched{}, err
	}
	if status != 201 && status != 200 {
		return watched{}, fmt.Errorf("start %s: status %d: %v", def, status, body)
	}
	id, _ := body["id"].(string)
	due, ok := responseDue(body)
	if id == "" || !ok {
		return watched{}, fmt.Errorf("start %s: no id or no response due time in %v", def, body)
	}
	return watched{id: id, due: due}, nil
}

// responseSLA is the response SLA of a process as the API shows it.
func responseSLA(p map[string]any) map[string]any {
	slas, _ := p["slas"].([]any)
	for _, s := range slas {
		if m, ok := s.(map[string]any); ok && m["name"] == "response" {
			return m
		}
	}
	return nil
}

func responseDue(p map[string]any) (time.Time, bool) {
	s, _ := responseSLA(p)["due"].(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// breached says whether the API shows the response SLA breached: the field
// a person or a report reads (slas[].breached).
func breached(p map[string]any) bool {
	b, _ := responseSLA(p)["breached"].(bool)
	return b
}

// countOpen counts the open processes of def, as the API lists them.
func countOpen(ctx context.Context, dev *Dev, def string) (int, error) {
	status, body, err := dev.Call(ctx, "GET", "/api/v1/processes?open=true&limit=1&definition="+def, tokenAuditor, nil)
	if err != nil {
		return 0, err
	}
	total, ok := body["total"].(float64)
	if status != 200 || !ok {
		return 0, fmt.Errorf("list %s: status %d: %v", def, status, body)
	}
	return int(total), nil
}
