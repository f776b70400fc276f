package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

const tinyDefinition = "name: tiny\ninitial: a\nstates:\n  a: {actions: {go: {to: b, roles: [requester]}}}\n  b: {final: true}\n"

// heavyDefinition is a valid definition of about size bytes with a CEL condition
// on every action: slow to check, though well within the limits.
func heavyDefinition(size int) string {
	var b strings.Builder
	b.WriteString("name: heavy\ninput:\n  title: {type: string, required: true}\n  n: {type: number}\ninitial: s0\nstates:\n")
	for i := 0; b.Len() < size; i++ {
		cond := make([]string, 12)
		for j := range cond {
			cond[j] = fmt.Sprintf("(input.n > %d.0 || input.title.startsWith('x%d'))", j, j)
		}
		fmt.Fprintf(&b, "  s%d:\n    actions:\n      go: {to: s%d, roles: [requester], when: \"%s\"}\n", i, i+1, strings.Join(cond, " && "))
		if b.Len() >= size {
			fmt.Fprintf(&b, "  s%d: {final: true}\n", i+1)
		}
	}
	return b.String()
}

// aliasBomb is a definition of a few hundred bytes whose merge keys double the
// parser's work at each of depth levels.
func aliasBomb(depth int) string {
	var b strings.Builder
	b.WriteString("name: bomb\ninitial: a\nx0: &x0 {to: b, roles: [requester]}\n")
	for i := 1; i <= depth; i++ {
		fmt.Fprintf(&b, "x%d: &x%d {<<: [*x%d, *x%d]}\n", i, i, i-1, i-1)
	}
	fmt.Fprintf(&b, "states:\n  a:\n    actions:\n      go: {<<: *x%d}\n  b: {final: true}\n", depth)
	return b.String()
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	took   time.Duration
}

func (a answer) errorText() string {
	b, _ := json.Marshal(a.body["error"])
	return string(b)
}

func (at adminTest) send(method, path, token string, body io.Reader, contentLength int64) answer {
	at.t.Helper()
	req := httptest.NewRequest(method, path, body)
	req.ContentLength = contentLength
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	start := time.Now()
	at.s.ServeHTTP(rec, req)
	a := answer{status: rec.Code, header: rec.Header(), took: time.Since(start)}
	if err := json.Unmarshal(rec.Body.Bytes(), &a.body); err != nil {
		at.t.Fatalf("%s %s: %d, not JSON: %s", method, path, rec.Code, rec.Body)
	}
	return a
}

func (at adminTest) validate(token, src string) answer {
	at.t.Helper()
	return at.send(http.MethodPost, "/api/v1/definitions/validate", token, strings.NewReader(src), int64(len(src)))
}

func TestValidateLimits(t *testing.T) {
	at := newAdminTest(t)
	if err := at.store.UpsertUser(context.Background(), store.User{ID: "pat.owner", Roles: []string{"process-owner"}}); err != nil {
		t.Fatal(err)
	}
	if err := at.store.AddToken(context.Background(), "pat.owner", "pat.owner", "test"); err != nil {
		t.Fatal(err)
	}

	t.Run("NeedsProcessOwnerOrAdmin", func(t *testing.T) {
		if a := at.validate("rita.requester", tinyDefinition); a.status != 403 || !strings.Contains(a.errorText(), "process-owner or admin") {
			t.Fatalf("a requester: %d %s", a.status, a.errorText())
		}
		for _, who := range []string{"pat.owner", "ada.admin"} {
			if a := at.validate(who, tinyDefinition); a.status != 200 || a.body["valid"] != true {
				t.Fatalf("%s: %d %v", who, a.status, a.body)
			}
		}
	})
	t.Run("RefusesTooLarge", func(t *testing.T) {
		big := "# " + strings.Repeat("x", maxDefinitionBytes) + "\n" + tinyDefinition
		if a := at.validate("pat.owner", big); a.status != 413 || !strings.Contains(a.errorText(), "256 KiB") {
			t.Fatalf("%d %s", a.status, a.errorText())
		}
		// Without a Content-Length the body is read up to the limit, no further.
		if a := at.send(http.MethodPost, "/api/v1/definitions/validate", "pat.owner", strings.NewReader(big), -1); a.status != 413 {
			t.Fatalf("chunked: %d %s", a.status, a.errorText())
		}
		if a := at.send(http.MethodPut, "/api/v1/definitions/tiny", "pat.owner", strings.NewReader(big), int64(len(big))); a.status != 413 {
			t.Fatalf("publish: %d %s", a.status, a.errorText())
		}
	})
	t.Run("RefusesAliasBombs", func(t *testing.T) {
		// 40 levels: 2^40 merges, in 1.5 KB of YAML.
		a := at.validate("pat.owner", aliasBomb(40))
		if a.status != 422 || !strings.Contains(a.errorText(), "expand it to more than") || a.took > 2*time.Second {
			t.Fatalf("%d after %v: %s", a.status, a.took, a.errorText())
		}
	})
	t.Run("AnswersWithinTheBudget", func(t *testing.T) {
		// One slot; the budget is shorter than any check of this definition.
		at.s.heavy = newWorkLimiter(1, 10*time.Millisecond, time.Millisecond)
		heavy := heavyDefinition(200 << 10)
		a := at.validate("pat.owner", heavy)
		if a.status != 422 || !strings.Contains(a.errorText(), "definition too complex to check within 1ms") {
			t.Fatalf("%d after %v: %s", a.status, a.took, a.errorText())
		}
		// The check goes on in its slot: the next request waits 10ms, then 503.
		b := at.validate("pat.owner", tinyDefinition)
		if b.status != 503 || b.header.Get("Retry-After") == "" || !strings.Contains(b.errorText(), "busy") {
			t.Fatalf("while the slot is taken: %d %v %s", b.status, b.header, b.errorText())
		}
		// Once the check finishes, its slot is free again.
		at.s.heavy.budget = heavyBudget
		deadline := time.Now().Add(30 * time.Second)
		for {
			c := at.validate("pat.owner", tinyDefinition)
			if c.status == 200 {
				break
			}
			if c.status != 503 || time.Now().After(deadline) {
				t.Fatalf("after the check: %d %s", c.status, c.errorText())
			}
		}
		if a := at.validate("pat.owner", heavy); a.status != 200 {
			t.Fatalf("the heavy definition within the real budget: %d %s", a.status, a.errorText())
		}
	})
}

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
