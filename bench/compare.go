package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// CompareOptions size the side-by-side run.
type CompareOptions struct {
	// Rounds of each kind at each concurrency, interleaved.
	Rounds int
	// PerRound is how many lifecycles a round runs, by concurrency.
	PerRound map[int]int
	// Samples is how many lifecycles of each kind have their history counted.
	Samples int
}

// concurrencies are the numbers of lifecycles in flight that are compared.
var concurrencies = []int{1, 20}

// tally is what the rounds of one kind at one concurrency add up to.
type tally struct {
	lifecycles int
	elapsed    time.Duration
}

func (t tally) perSecond() float64 {
	if t.elapsed <= 0 {
		return 0
	}
	return float64(t.lifecycles) / t.elapsed.Seconds()
}

// Compare runs the interpreter and the native incident in interleaved rounds
// (interp, native, interp, native…) at each concurrency on d's stack, and
// prints lifecycles per second, their ratio, the latencies of the action
// updates (not the start) and history events per lifecycle (the mean of
// opts.Samples histories from the rounds at concurrency 1). progress hears
// of each round.
func Compare(ctx context.Context, d Driver, opts CompareOptions, out *Output, progress io.Writer) error {
	kinds := []Kind{Interp, Native}
	// A warm-up lifecycle of each kind: the first ones pay for connections
	// and caches, which is not what is compared.
	for _, k := range kinds {
		if _, _, err := d.Lifecycle(ctx, k); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	tallies := map[Kind]map[int]tally{Interp: {}, Native: {}}
	latencies := map[Kind][]time.Duration{}
	samples := map[Kind][]string{}
	for _, c := range concurrencies {
		for r := range opts.Rounds {
			for _, k := range kinds {
				res, err := runRound(ctx, d, k, c, opts.PerRound[c])
				if err != nil {
					return fmt.Errorf("%s round %d at C=%d: %w", k, r+1, c, err)
				}
				t := tallies[k][c]
				t.lifecycles += len(res.ids)
				t.elapsed += res.elapsed
				tallies[k][c] = t
				latencies[k] = append(latencies[k], res.latencies...)
				if c == 1 {
					samples[k] = append(samples[k], res.ids...)
				}
				fmt.Fprintf(progress, "bench: %s C=%d round %d: %d lifecycles in %s (%.2f/s)\n", k, c, r+1, len(res.ids), res.elapsed.Round(time.Millisecond),
					tally{len(res.ids), res.elapsed}.perSecond())
			}
		}
	}
	for _, c := range concurrencies {
		i, n := tallies[Interp][c].perSecond(), tallies[Native][c].perSecond()
		ratio := 0.0
		if n > 0 {
			ratio = i / n
		}
		out.Put(fmt.Sprintf("ratio_c%d", c), fmt.Sprintf("%.3f", ratio))
		out.Put(fmt.Sprintf("lps_interp_c%d", c), fmt.Sprintf("%.2f", i))
		out.Put(fmt.Sprintf("lps_native_c%d", c), fmt.Sprintf("%.2f", n))
	}
	for _, k := range kinds {
		out.Put("update_p50_"+string(k), ms(percentile(latencies[k], 50)))
		out.Put("update_p99_"+string(k), ms(percentile(latencies[k], 99)))
	}
	for _, k := range kinds {
		ids := samples[k][:min(opts.Samples, len(samples[k]))]
		total := 0
		for _, id := range ids {
			n, err := d.HistoryEvents(ctx, id)
			if err != nil {
				return err
			}
			total += n
		}
		if len(ids) == 0 {
			return fmt.Errorf("no %s lifecycle to count the history of", k)
		}
		out.Put("events_"+string(k), fmt.Sprintf("%.1f", float64(total)/float64(len(ids))))
	}
	return out.Err()
}

// round is what one round did.
type round struct {
	ids       []string
	latencies []time.Duration
	elapsed   time.Duration
}

// runRound runs n lifecycles of kind with c of them in flight at a time.
func runRound(ctx context.Context, d Driver, kind Kind, c, n int) (round, error) {
	var (
		next  atomic.Int64
		mu    sync.Mutex
		res   round
		first error
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	begin := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				id, lat, err := d.Lifecycle(ctx, kind)
				mu.Lock()
				if err != nil && first == nil {
					first = err
					cancel()
				}
				if err == nil {
					res.ids = append(res.ids, id)
					res.latencies = append(res.latencies, lat...)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(begin)
	return res, first
}
