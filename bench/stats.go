package bench

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// percentile is the p-th percentile (0–100) of ds by the nearest rank; 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// ms formats a duration in milliseconds with one decimal.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

// Output prints the figures one key=value a line, in the order added.
type Output struct {
	w   io.Writer
	err error
}

// NewOutput writes to w.
func NewOutput(w io.Writer) *Output { return &Output{w: w} }

// Put prints key=value; the first write error is kept for Err.
func (o *Output) Put(key string, value any) {
	if o.err == nil {
		_, o.err = fmt.Fprintf(o.w, "%s=%v\n", key, value)
	}
}

// Err is the first write error.
func (o *Output) Err() error { return o.err }
