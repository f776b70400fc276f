package main

// TestBigMeetingHistoryStaysSmall runs a CAB meeting of 200 changes, three
// votes each with a 2,000-character comment (in Chinese: 6 KB of UTF-8), on
// the real stack, and measures the meeting's workflow history: under 10 MB in
// all, no event over 256 KB. Before compact projections every projection and
// every vote's answer carried every vote so far: the history grew with the
// square of the votes, and a single payload passed Temporal's 2 MB limit
// before the meeting ended.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"
)

const bulkChange = `name: bulk-change
input:
  title: {type: string, required: true}
initial: authorising
states:
  authorising:
    approval:
      board: bulk-cab
      approved: done
      rejected: done
  done: {final: true}
`

const bulkCAB = `name: bulk-cab
input:
  title: {type: string, required: true}
variables:
  changes: {type: list}
initial: agenda
states:
  agenda:
    actions:
      open: {to: meeting, roles: [change-manager], do: [{collect: {process: bulk-change, into: changes}}]}
  meeting:
    approval:
      approvers: {users: [cara.cab, cole.cab, cody.cab]}
      mandatory: [carl.change]
      quorum: majority
      agenda: changes
      approved: minutes
      rejected: minutes
  minutes:
    actions:
      close: {to: closed, roles: [change-manager]}
  closed: {final: true}
`

func TestBigMeetingHistoryStaysSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("a meeting of 200 changes takes a minute")
	}
	const items = 200
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	c.must(201, "PUT", "/api/v1/definitions/bulk-change", "dev-process-owner", bulkChange)
	c.must(201, "PUT", "/api/v1/definitions/bulk-cab", "dev-process-owner", bulkCAB)
	changes := make([]string, items)
	parallel(t, items, 4, func(i int) error {
		// A 503 says Temporal did not answer in time (a loaded machine): a
		// client retries it with the same key, which starts one change.
		start := func() (int, map[string]any) {
			return c.call("POST", "/api/v1/processes/bulk-change", "dev-requester", map[string]any{"input": map[string]any{"title": fmt.Sprintf("Change %d", i)}},
				"Idempotency-Key", fmt.Sprintf("bulk-change-%d", i))
		}
		status, out := start()
		for tries := 0; status == 503 && tries < 5; tries++ {
			time.Sleep(time.Second)
			status, out = start()
		}
		if status != 201 {
			return fmt.Errorf("start %d: %d %v", i, status, out)
		}
		changes[i] = out["id"].(string)
		return nil
	})
	meeting := c.must(201, "POST", "/api/v1/processes/bulk-cab", "dev-change-manager", map[string]any{"input": map[string]any{"title": "Quarterly CAB"}})["id"].(string)
	c.must(200, "POST", "/api/v1/processes/"+meeting+"/actions/open", "dev-change-manager", nil)
	pollProcess(c, meeting, "an agenda of every change", 60*time.Second, func(p map[string]any) bool { return len(agendaOf(p)) == items })

	comment := strings.Repeat("变更评审意见：风险可控。", 200)[:2000*3] // 2,000 characters, 6,000 bytes
	start := time.Now()
	parallel(t, items, 4, func(i int) error {
		for _, who := range []string{"dev-cab1", "dev-cab2", "dev-change-manager"} {
			status, out := c.call("POST", "/api/v1/processes/"+meeting+"/approvals/meeting", who, map[string]any{"decision": "approve", "item": changes[i], "comment": comment})
			if status != 200 {
				return fmt.Errorf("%s on %s: %d %v", who, changes[i], status, out)
			}
		}
		return nil
	})
	t.Logf("%d votes in %s", 3*items, time.Since(start).Round(time.Millisecond))
	m := pollProcess(c, meeting, "the minutes", 60*time.Second, func(p map[string]any) bool { return p["state"] == "minutes" })
	if n := eventCount(m, "decision_released"); n != items {
		// Releases go on in the background after the decision.
		m = pollProcess(c, meeting, "every decision released", 60*time.Second, func(p map[string]any) bool { return eventCount(p, "decision_released") == items })
	}
	// The projection merged every compact view back into the whole meeting.
	open := c.must(200, "GET", "/api/v1/processes/"+changes[items-1], "dev-auditor", nil)
	if open["state"] != "done" {
		t.Fatalf("the last change is in %v", open["state"])
	}

	tc, err := dialTemporal(context.Background(), client.Options{HostPort: fmt.Sprintf("127.0.0.1:%d", cfg.temporalPort)})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	total, largest, events := 0, 0, 0
	byType := map[string]int{}
	it := tc.GetWorkflowHistory(context.Background(), meeting, "", false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		n := proto.Size(e)
		total += n
		largest = max(largest, n)
		events++
		byType[e.GetEventType().String()] += n
	}
	t.Logf("meeting history: %d events, %.2f MB, largest event %.1f KB; by type: %v", events, float64(total)/1e6, float64(largest)/1e3, byType)
	if total > 10_000_000 {
		t.Errorf("the meeting's history is %.2f MB, over 10 MB", float64(total)/1e6)
	}
	if largest > 256_000 {
		t.Errorf("an event of the meeting's history is %.1f KB, over 256 KB", float64(largest)/1e3)
	}
}

// parallel runs fn(0..n-1) on workers goroutines and fails the test with the
// first error, once they are done (a goroutine may not end the test itself).
func parallel(t *testing.T, n, workers int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		t.Fatal(first)
	}
}

// BenchmarkIncidentLifecycleHistory measures what one incident leaves in its
// workflow history from start to close (acknowledge, wait for the customer,
// the reply, resolve, close): events, bytes and the largest event.
//
//	go test ./cmd/itilflow -run '^$' -bench IncidentLifecycleHistory -benchtime 20x
func BenchmarkIncidentLifecycleHistory(b *testing.B) {
	cfg := newDevConfig(b)
	startInProcess(b, cfg)
	c := apiClient{t: b, base: cfg.httpAddr}
	tc, err := dialTemporal(context.Background(), client.Options{HostPort: fmt.Sprintf("127.0.0.1:%d", cfg.temporalPort)})
	if err != nil {
		b.Fatal(err)
	}
	defer tc.Close()
	events, bytes, largest := 0, 0, 0
	for i := 0; i < b.N; i++ {
		id := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "Printer", "priority": "P3"}})["id"].(string)
		act := "/api/v1/processes/" + id + "/actions/"
		c.must(200, "POST", act+"acknowledge", "dev-tier1", nil)
		c.must(200, "POST", act+"wait_for_customer", "dev-tier1", nil)
		c.must(200, "POST", act+"customer_replied", "dev-requester", nil)
		c.must(200, "POST", act+"resolve", "dev-tier1", map[string]any{"input": map[string]any{"resolution": "Replaced the toner"}})
		c.must(200, "POST", act+"waive_knowledge", "dev-service-desk", map[string]any{"input": map[string]any{"knowledge_waiver": "toner needs no article"}})
		c.must(200, "POST", act+"close", "dev-service-desk", map[string]any{"input": map[string]any{"satisfaction": "5"}})
		pollProcess(c, id, "the end", 30*time.Second, func(p map[string]any) bool { return p["ended_at"] != nil })
		// The workflow ends once its last projection is stored.
		for {
			d, err := tc.DescribeWorkflowExecution(context.Background(), id, "")
			if err == nil && d.GetWorkflowExecutionInfo().GetCloseTime() != nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		it := tc.GetWorkflowHistory(context.Background(), id, "", false, 0)
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				b.Fatal(err)
			}
			n := proto.Size(e)
			events, bytes, largest = events+1, bytes+n, max(largest, n)
		}
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/lifecycle")
	b.ReportMetric(float64(bytes)/float64(b.N), "bytes/lifecycle")
	b.ReportMetric(float64(largest), "largest-event-bytes")
}
