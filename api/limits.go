package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"

	"github.com/itilflow/itilflow/engine"
)

// maxDefinitionBytes bounds a definition sent to be checked or published. The
// largest shipped definition is 9 KB: 256 KiB leaves 28 times that, and at that
// size a definition with a CEL condition on every action compiles in 0.25s,
// where four 0.9 MB ones sent at once took up to 3.3s each and 170 MB.
const maxDefinitionBytes = 256 << 10

// maxYAMLNodes bounds the nodes a definition's YAML expands to through anchors
// and merge keys (<<: *a), which the parser walks once per use: each level of
// "a2: &a2 {<<: [*a1, *a1]}" doubles the work while the text grows by a line.
// Shipped definitions have about 75 nodes per KB, and even a 256 KiB list of
// one-letter items has fewer than 150,000.
const maxYAMLNodes = 1_000_000

const (
	// heavySlots is how many checks, publications, graphs and diffs compute at
	// once: they are CPU-bound, and the machine should keep serving the rest.
	heavySlots = 2
	// heavyWait is how long a request waits for a slot before it gets 503.
	heavyWait = 2 * time.Second
	// heavyBudget is how long a request waits for its computation. engine.Compile
	// cannot be cancelled: past the budget the request is answered and the
	// computation keeps its slot until it finishes, so no more than heavySlots
	// ever run.
	heavyBudget = 5 * time.Second
)

// workLimiter runs CPU-heavy work in a bounded number of slots, each piece
// within a time budget.
type workLimiter struct {
	slots        chan struct{}
	wait, budget time.Duration
}

func newWorkLimiter(slots int, wait, budget time.Duration) *workLimiter {
	return &workLimiter{slots: make(chan struct{}, slots), wait: wait, budget: budget}
}

// bounded runs f in a slot of l and returns its result, or EUNAVAILABLE when no
// slot frees up in time, or EINVALID "<tooMuch> within <budget>" when f takes
// longer than the budget. f then runs on, in its slot, until it returns.
func bounded[T any](ctx context.Context, l *workLimiter, tooMuch string, f func() (T, error)) (T, error) {
	var zero T
	wait := time.NewTimer(l.wait)
	defer wait.Stop()
	select {
	case l.slots <- struct{}{}:
	case <-wait.C:
		return zero, engine.Errorf(engine.EUNAVAILABLE, "the server is busy checking other definitions; retry in a few seconds")
	case <-ctx.Done():
		return zero, &engine.Error{Code: engine.EUNAVAILABLE, Message: "the request ended while waiting to be checked", Err: ctx.Err()}
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-l.slots }()
		// Echo's Recover does not reach this goroutine.
		defer func() {
			if r := recover(); r != nil {
				done <- result{err: fmt.Errorf("%s: panic: %v", tooMuch, r)}
			}
		}()
		v, err := f()
		done <- result{v, err}
	}()
	budget := time.NewTimer(l.budget)
	defer budget.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-budget.C:
		return zero, engine.Errorf(engine.EINVALID, "%s within %v", tooMuch, l.budget)
	case <-ctx.Done():
		return zero, &engine.Error{Code: engine.EUNAVAILABLE, Message: "the request ended while being checked", Err: ctx.Err()}
	}
}

// readLimited reads a request body of at most limit bytes; a larger one is 413.
func readLimited(c echo.Context, limit int64, what string) ([]byte, error) {
	req := c.Request()
	body, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		return nil, &engine.Error{Code: engine.EBADREQUEST, Message: "cannot read request body", Err: err}
	}
	if int64(len(body)) > limit {
		// Read the rest (the server's body limit bounds it), so that a client
		// still sending gets this answer rather than a reset connection.
		_, _ = io.Copy(io.Discard, req.Body)
		size := ""
		if req.ContentLength > 0 {
			size = fmt.Sprintf(" (%d bytes)", req.ContentLength)
		}
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge,
			fmt.Sprintf("the %s is larger than the limit of %d KiB%s", what, limit>>10, size))
	}
	return body, nil
}

// checkYAMLExpansion refuses YAML whose anchors and merge keys expand to more
// than maxYAMLNodes nodes. YAML that does not parse passes: the compiler reports
// where.
func checkYAMLExpansion(src []byte) error {
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil {
		return nil
	}
	if n := expandedNodes(&doc, map[*yaml.Node]int{}); n > maxYAMLNodes {
		return &engine.Error{Code: engine.EINVALID, Message: "definition too complex to check",
			Details: []engine.Detail{{Line: 1, Column: 1, Message: fmt.Sprintf(
				"its anchors and merge keys (<<: *name) expand it to more than %d YAML nodes", maxYAMLNodes)}}}
	}
	return nil
}

// expandedNodes counts the nodes of n with aliases expanded, each distinct node
// counted once (memo), and stops counting past maxYAMLNodes.
func expandedNodes(n *yaml.Node, memo map[*yaml.Node]int) int {
	if c, ok := memo[n]; ok {
		return c
	}
	memo[n] = maxYAMLNodes + 1 // were there a cycle, it would count as too many
	size := 1
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		size += expandedNodes(n.Alias, memo)
	}
	for _, c := range n.Content {
		if size += expandedNodes(c, memo); size > maxYAMLNodes {
			size = maxYAMLNodes + 1
			break
		}
	}
	memo[n] = size
	return size
}

const (
	// maxHeaderBytes is the most request header the API accepts, counted as
	// net/http counts it (request line and header lines). 64 KiB holds a JWT with
	// hundreds of group claims: eight times what common proxies pass on.
	maxHeaderBytes = 64 << 10
	// ServerMaxHeaderBytes is the http.Server's MaxHeaderBytes the API wants:
	// well above maxHeaderBytes, so that an oversized header reaches the API and
	// is refused with 431 and the error object. A header larger still (over
	// 1 MiB and net/http's 4 KiB of slack) is refused by net/http itself, before
	// any handler runs, with a plain-text 431.
	ServerMaxHeaderBytes = 1 << 20
)

// limitHeaders refuses a request whose header is over maxHeaderBytes.
func limitHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if n := headerBytes(c.Request()); n > maxHeaderBytes {
			return echo.NewHTTPError(http.StatusRequestHeaderFieldsTooLarge,
				fmt.Sprintf("the request header has %d bytes; the limit is %d KiB", n, maxHeaderBytes>>10))
		}
		return next(c)
	}
}

// headerBytes is the size of r's request line and header as sent: "GET /x
// HTTP/1.1\r\n", then "Name: value\r\n" per value, Host included.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	n += len("Host: ") + len(r.Host) + 2
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + len(": ") + len(v) + 2
		}
	}
	return n
}
