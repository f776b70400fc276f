package bench

import (
	"context"
	"fmt"
	"io"
	"time"
)

// ScaleOptions size the scale run.
type ScaleOptions struct {
	// Sizes are the numbers of open incidents measured at, smallest first.
	Sizes []int
	// Probes is how many incidents with a short target are watched at each
	// size, on top of the open ones.
	Probes int
	// Target is the probes' response target.
	Target time.Duration
	// Starters is how many starts are sent at a time.
	Starters int
}

// Scale runs dev and, at each size, opens incidents until that many are
// open, then measures dev's heap in use after a garbage collection and the
// lateness of Probes breaches. The figures' keys end in _open<size>.
func Scale(ctx context.Context, opts DevOptions, so ScaleOptions, out *Output, progress io.Writer) error {
	dev, err := StartDev(ctx, opts, "dev-scale")
	if err != nil {
		return err
	}
	defer dev.Stop()
	const background, probe = "bench-open", "bench-probe"
	// The background load: incidents that stay open, their response SLA armed
	// a week away, so each holds a workflow with a pending timer as a real
	// open incident does.
	if err := publish(ctx, dev, background, watchedDefinition(background, 7*24*time.Hour)); err != nil {
		return err
	}
	if err := publish(ctx, dev, probe, watchedDefinition(probe, so.Target)); err != nil {
		return err
	}
	heap, err := dev.HeapInuse(ctx)
	if err != nil {
		return err
	}
	out.Put("heap_inuse_mb_open0", mb(heap))
	opened := 0
	for _, size := range so.Sizes {
		suffix := fmt.Sprintf("_open%d", size)
		if more := size - opened; more > 0 {
			_, rate, err := startMany(ctx, dev, background, more, so.Starters, progress)
			if err != nil {
				return err
			}
			opened = size
			out.Put("start_rate"+suffix, fmt.Sprintf("%.1f", rate))
		}
		heap, err := dev.HeapInuse(ctx)
		if err != nil {
			return err
		}
		out.Put("heap_inuse_mb"+suffix, mb(heap))
		probes, _, err := startMany(ctx, dev, probe, so.Probes, so.Starters, progress)
		if err != nil {
			return err
		}
		res, err := watch(ctx, dev, probes, progress)
		if err != nil {
			return err
		}
		res.put(out, suffix)
		open, err := countOpen(ctx, dev, background)
		if err != nil {
			return err
		}
		out.Put("open"+suffix, open)
	}
	return out.Err()
}

func mb(bytes int64) string { return fmt.Sprintf("%.1f", float64(bytes)/(1<<20)) }
