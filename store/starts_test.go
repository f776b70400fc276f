package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// TestStartIDIsIdempotent: a start step's activity may run more than once; every
// run of the same step must get the id the first one allocated.
func TestStartIDIsIdempotent(t *testing.T) {
	s, ctx := open(t), context.Background()
	first, err := s.StartID(ctx, "incident-000001/7", "change")
	if err != nil || !strings.HasPrefix(first, "change-") {
		t.Fatalf("first start id %q, %v", first, err)
	}
	again, err := s.StartID(ctx, "incident-000001/7", "change")
	if err != nil || again != first {
		t.Fatalf("retry got %q, %v; want %q", again, err, first)
	}
	other, err := s.StartID(ctx, "incident-000001/9", "change")
	if err != nil || other == first {
		t.Fatalf("another step got %q, %v; want a new id", other, err)
	}

	// Attempts racing for one key agree on one id.
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := s.StartID(ctx, "problem-000002/3", "change")
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("racing attempts got different ids: %v", ids)
		}
	}
}
