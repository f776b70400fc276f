package service

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// TestWorkLimiterKeepsSlotsUntilWorkEnds: work past its budget is answered, but
// holds its slot until it returns, so no more than the slots ever run.
func TestWorkLimiterKeepsSlotsUntilWorkEnds(t *testing.T) {
	ctx := context.Background()
	l := newWorkLimiter(2, 20*time.Millisecond, 50*time.Millisecond)
	release := make(chan struct{})
	running := make(chan struct{}, 3)
	work := func() (int, error) {
		running <- struct{}{}
		<-release
		return 1, nil
	}
	for range 2 {
		if _, err := bounded(ctx, l, "too much", work); engine.ErrorCode(err) != engine.EINVALID || !strings.Contains(err.Error(), "too much within 50ms") {
			t.Fatalf("past the budget: %v", err)
		}
	}
	if _, err := bounded(ctx, l, "too much", work); engine.ErrorCode(err) != engine.EUNAVAILABLE {
		t.Fatalf("with both slots taken: %v", err)
	}
	if len(running) != 2 {
		t.Fatalf("%d pieces of work ran, want 2", len(running))
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, err := bounded(ctx, l, "too much", func() (int, error) { return 7, nil })
		if err == nil && v == 7 {
			break
		}
		if engine.ErrorCode(err) != engine.EUNAVAILABLE || time.Now().After(deadline) {
			t.Fatalf("after the work ended: %v %v", v, err)
		}
	}
	if _, err := bounded(ctx, l, "boom", func() (int, error) { panic("bug") }); err == nil || !strings.Contains(err.Error(), "panic: bug") {
		t.Fatalf("a panic: %v", err)
	}
}
