package main

// TestAPIFuzz drives random requests — random bytes in path, query, headers
// and bodies, and JSON bodies with hostile strings — into every route of the
// OpenAPI document, against the real stack, and fails on any 5xx. It is
// bounded by time (ITILFLOW_FUZZ_TIME, default 30s) and reproducible by seed
// (ITILFLOW_FUZZ_SEED; the seed it used is logged).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fuzzRoute is one operation of the OpenAPI document.
type fuzzRoute struct {
	method, path string
	query        []string // the query parameters it documents
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

func TestAPIFuzz(t *testing.T) {
	budget := 30 * time.Second
	if v := os.Getenv("ITILFLOW_FUZZ_TIME"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("ITILFLOW_FUZZ_TIME: %v", err)
		}
		budget = d
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("ITILFLOW_FUZZ_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("ITILFLOW_FUZZ_SEED: %v", err)
		}
		seed = n
	}
	t.Logf("seed %d (ITILFLOW_FUZZ_SEED=%d reproduces this run's choices)", seed, seed)

	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	routes := openAPIRoutes(t, cfg.httpAddr)
	inc := c.must(201, "POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": "fuzz me"}})
	shipped, err := os.ReadFile("../../definitions/incident.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := &fuzzer{ids: []string{inc["id"].(string), "incident-000001", "cab-review-000001"},
		names: []string{"incident", "change-normal", "cab-review", "rita.requester", "cab", "1", "authorising", "acknowledge", "meeting"},
		yaml:  shipped}

	var (
		sent     atomic.Int64
		mu       sync.Mutex
		failures []string
		byStatus = map[int]int{}
	)
	deadline := time.Now().Add(budget)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, w))
			client := &http.Client{Timeout: 40 * time.Second}
			for time.Now().Before(deadline) {
				rt := routes[r.IntN(len(routes))]
				req, desc := f.request(r, cfg.httpAddr, rt)
				resp, err := client.Do(req)
				if err != nil {
					// The client refusing to send what it built (a URL it
					// cannot parse) is not the server's failure.
					continue
				}
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
				resp.Body.Close()
				sent.Add(1)
				mu.Lock()
				byStatus[resp.StatusCode]++
				if resp.StatusCode >= 500 {
					failures = append(failures, fmt.Sprintf("%d for %s\n    answer: %s", resp.StatusCode, desc, body))
				}
				mu.Unlock()
			}
		}(uint64(w))
	}
	wg.Wait()
	codes := make([]int, 0, len(byStatus))
	for code := range byStatus {
		codes = append(codes, code)
	}
	sort.Ints(codes)
	var dist []string
	for _, code := range codes {
		dist = append(dist, fmt.Sprintf("%d×%d", code, byStatus[code]))
	}
	t.Logf("%d requests over %d routes in %s (%.0f/s): %s", sent.Load(), len(routes), budget, float64(sent.Load())/budget.Seconds(), strings.Join(dist, " "))
	if sent.Load() < int64(len(routes)) {
		t.Fatalf("only %d requests were sent", sent.Load())
	}
	for i, f := range failures {
		if i == 10 {
			t.Errorf("… and %d more", len(failures)-10)
			break
		}
		t.Errorf("%s", f)
	}
}

// openAPIRoutes reads every operation of the served OpenAPI document.
func openAPIRoutes(t *testing.T, addr string) []fuzzRoute {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(getText(t, addr, "/api/v1/openapi.json")), &doc); err != nil {
		t.Fatal(err)
	}
	var out []fuzzRoute
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			if method == "parameters" {
				continue
			}
			var op struct {
				Parameters []struct {
					Name string `json:"name"`
					In   string `json:"in"`
				} `json:"parameters"`
			}
			json.Unmarshal(raw, &op)
			rt := fuzzRoute{method: strings.ToUpper(method), path: path}
			for _, p := range op.Parameters {
				if p.In == "query" {
					rt.query = append(rt.query, p.Name)
				}
			}
			out = append(out, rt)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].method+out[i].path < out[j].method+out[j].path })
	if len(out) < 30 {
		t.Fatalf("the OpenAPI document has %d operations", len(out))
	}
	return out
}

// fuzzer builds hostile requests, often close enough to valid ones to get
// past the first checks.
type fuzzer struct {
	ids, names []string
	// yaml is a shipped definition, to publish with one byte changed.
	yaml []byte
}

var fuzzTokens = []string{"dev-requester", "dev-requester2", "dev-tier1", "dev-change-manager", "dev-cab1", "dev-process-owner",
	"dev-auditor", "dev-admin", "nope", "", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.x"}

var fuzzFields = []string{"input", "title", "priority", "description", "comment", "decision", "item", "on_behalf_of", "to", "starts_at",
	"ends_at", "reason", "name", "roles", "members", "label", "resolution", "satisfaction", "agenda", "meeting_at", "change_type"}

// str returns a hostile string.
func (f *fuzzer) str(r *rand.Rand) string {
	switch r.IntN(14) {
	case 0:
		return ""
	case 1:
		return "\x00"
	case 2:
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	case 3:
		return "caf\xe9 \xff\xfe"
	case 4:
		return strings.Repeat("x", r.IntN(300000))
	case 5:
		return "   \t\n"
	case 6:
		return "Cafe\u0301 故障 🚨 \u202e\u200b"
	case 7:
		return "'; DROP TABLE processes; --"
	case 8:
		return "../../etc/passwd%00"
	case 9:
		return f.ids[r.IntN(len(f.ids))]
	case 10:
		return f.names[r.IntN(len(f.names))]
	case 11:
		return time.Now().Add(time.Duration(r.IntN(1000)-500) * time.Hour).Format(time.RFC3339)
	case 12:
		return "2999-12-31T23:59:59Z"
	}
	return strconv.Itoa(r.IntN(1 << 20))
}

// value returns a JSON value of any kind, nested at most depth deep.
func (f *fuzzer) value(r *rand.Rand, depth int) any {
	switch r.IntN(8) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return []float64{0, -1, 1e308, 9007199254740993, 0.5}[r.IntN(5)]
	case 3:
		if depth > 0 {
			list := make([]any, r.IntN(4))
			for i := range list {
				list[i] = f.value(r, depth-1)
			}
			return list
		}
	case 4:
		if depth > 0 {
			return f.object(r, depth-1)
		}
	}
	return f.str(r)
}

func (f *fuzzer) object(r *rand.Rand, depth int) map[string]any {
	m := map[string]any{}
	for i := r.IntN(5); i >= 0; i-- {
		key := fuzzFields[r.IntN(len(fuzzFields))]
		if r.IntN(8) == 0 {
			key = f.str(r)
		}
		m[key] = f.value(r, depth)
	}
	return m
}

// body returns a request body: none, raw bytes, or JSON (whose strings may
// hold bytes that are not UTF-8, which encoding/json would not write).
func (f *fuzzer) body(r *rand.Rand) []byte {
	switch r.IntN(8) {
	case 0:
		return nil
	case 6: // YAML that spells a NUL the parser lets through
		return []byte("name: incident\ntitle: \"a\\0b\"\ninitial: a\nstates:\n  a: {actions: {go: {to: b}}}\n  b: {final: true}\n")
	case 7:
		b := bytes.Clone(f.yaml)
		b[r.IntN(len(b))] = byte(r.IntN(256))
		return b
	case 1:
		b := make([]byte, r.IntN(200))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	case 2:
		return []byte(`{"input":{"title":"a` + "\xff" + `","priority":"P1"},"comment":"\u0000"}`)
	case 3:
		return []byte(strings.Repeat(`{"input":`, 200) + strings.Repeat("}", 200))
	}
	b, _ := json.Marshal(f.object(r, 3))
	return b
}

// request builds one request for rt and describes it for a failure report.
func (f *fuzzer) request(r *rand.Rand, addr string, rt fuzzRoute) (*http.Request, string) {
	path := pathParam.ReplaceAllStringFunc(rt.path, func(string) string {
		switch r.IntN(4) {
		case 0:
			return []string{"%00", "%ff", "%C0%80", "a%2Fb", "%20", "."}[r.IntN(6)]
		case 1:
			return url.PathEscape(f.str(r))
		}
		if r.IntN(2) == 0 {
			return f.ids[r.IntN(len(f.ids))]
		}
		return f.names[r.IntN(len(f.names))]
	})
	q := url.Values{}
	for _, name := range rt.query {
		if r.IntN(2) == 0 {
			q.Set(name, f.str(r))
		}
	}
	if r.IntN(5) == 0 {
		q.Set(f.str(r), f.str(r))
	}
	target := "http://" + addr + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	body := f.body(r)
	req, err := http.NewRequest(rt.method, target, bytes.NewReader(body))
	if err != nil {
		req, _ = http.NewRequest(rt.method, "http://"+addr+rt.path, bytes.NewReader(body))
	}
	token := fuzzTokens[r.IntN(len(fuzzTokens))]
	switch r.IntN(6) {
	case 0:
		req.Header.Set("Authorization", "bearer "+token)
	case 1:
		req.Header.Set("Authorization", "Basic "+token)
	default:
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if r.IntN(3) == 0 {
		key := f.str(r)
		if len(key) > 300 {
			key = key[:300]
		}
		req.Header.Set("Idempotency-Key", strings.Map(func(c rune) rune {
			if c < 0x20 || c == 0x7f { // what net/http would refuse to send
				return -1
			}
			return c
		}, key))
	}
	if r.IntN(2) == 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	excerpt := string(body)
	if len(excerpt) > 200 {
		excerpt = excerpt[:200] + "…"
	}
	return req, fmt.Sprintf("%s %s as %q, Idempotency-Key %q, body %q", rt.method, req.URL.String(), token, req.Header.Get("Idempotency-Key"), excerpt)
}
