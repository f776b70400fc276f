package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// Watching bounds: how often a process past its due time is read again, how
// many reads run at a time, and how long after its due time a breach that
// does not show counts as missed.
const (
	pollEvery   = 20 * time.Millisecond
	pollers     = 16
	missedAfter = 5 * time.Minute
)

// lateness is what watching found: how late each breach showed, and how
// many never did within missedAfter.
type lateness struct {
	late   []time.Duration
	missed int
	// reads are the latencies of the GETs, which bound how precisely the
	// lateness is measured.
	reads []time.Duration
}

// put prints the lateness figures, their keys ending in suffix.
func (l lateness) put(out *Output, suffix string) {
	out.Put("lateness_p50_ms"+suffix, ms(percentile(l.late, 50)))
	out.Put("lateness_p99_ms"+suffix, ms(percentile(l.late, 99)))
	out.Put("lateness_max_ms"+suffix, ms(percentile(l.late, 100)))
	out.Put("missed"+suffix, l.missed)
	out.Put("reads"+suffix, len(l.reads))
	out.Put("read_p50_ms"+suffix, ms(percentile(l.reads, 50)))
	out.Put("read_p99_ms"+suffix, ms(percentile(l.reads, 99)))
}

// watch reads each process with GET /api/v1/processes/{id} from its due time
// on, every pollEvery, until the response shows the SLA breached; the
// lateness of a process is the time that answer arrived minus its due time.
// Reading at the due time, not before, keeps the reads of the processes not
// yet due from loading dev.
func watch(parent context.Context, dev *Dev, ws []watched, progress io.Writer) (lateness, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	sorted := slices.SortedFunc(slices.Values(ws), func(a, b watched) int { return a.due.Compare(b.due) })
	// Each process is at most once in ready, so the buffer never fills.
	ready := make(chan watched, len(sorted))
	go func() {
		for _, w := range sorted {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(w.due)):
			}
			ready <- w
		}
	}()
	var (
		mu      sync.Mutex
		res     lateness
		first   error
		wg      sync.WaitGroup
		left    = len(sorted)
		allDone = make(chan struct{})
		once    sync.Once
	)
	settle := func(late time.Duration, missed bool, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			first = cmpErr(first, err)
		case missed:
			res.missed++
		default:
			res.late = append(res.late, late)
		}
		left--
		if left == 0 || err != nil {
			once.Do(func() { close(allDone) })
		}
	}
	if left == 0 {
		return res, nil
	}
	for range pollers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var w watched
				select {
				case <-ctx.Done():
					return
				case w = <-ready:
				}
				sent := time.Now()
				status, body, err := dev.Call(ctx, "GET", "/api/v1/processes/"+w.id, tokenAuditor, nil)
				seen := time.Now()
				mu.Lock()
				res.reads = append(res.reads, seen.Sub(sent))
				mu.Unlock()
				switch {
				case ctx.Err() != nil:
					return
				case err != nil:
					settle(0, false, err)
				case status != 200:
					settle(0, false, fmt.Errorf("read %s: status %d: %v", w.id, status, body))
				case breached(body):
					settle(seen.Sub(w.due), false, nil)
				case seen.Sub(w.due) > missedAfter:
					settle(0, true, nil)
				default:
					time.AfterFunc(pollEvery, func() { ready <- w })
				}
			}
		}()
	}
	start := time.Now()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-allDone:
			waiting = false
		case <-ctx.Done():
			waiting = false
		case <-tick.C:
			mu.Lock()
			fmt.Fprintf(progress, "bench: %d of %d breaches seen after %s\n", len(res.late), len(sorted), time.Since(start).Round(time.Second))
			mu.Unlock()
		}
	}
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if first != nil {
		return res, first
	}
	return res, parent.Err()
}
