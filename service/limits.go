package service

import (
	"context"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/itilflow/itilflow/engine"
)

// MaxDefinitionBytes bounds a definition sent to be checked or published. The
// largest shipped definition is 9 KB: 256 KiB leaves 28 times that, and at that
// size a definition with a CEL condition on every action compiles in 0.25s,
// where four 0.9 MB ones sent at once took up to 3.3s each and 170 MB. Front
// doors refuse a larger body before reading it all (the API with 413); the
// service refuses larger text whatever door it came through.
const MaxDefinitionBytes = 256 << 10

// maxYAMLNodes bounds the nodes a definition's YAML expands to through anchors
// and merge keys (<<: *a), which the parser walks once per use: each level of
// "a2: &a2 {<<: [*a1, *a1]}" doubles the work while the text grows by a line.
// Shipped definitions have about 75 nodes per KB, and even a 256 KiB list of
// one-letter items has fewer than 150,000.
const maxYAMLNodes = 1_000_000

const (
	// heavySlots is how many checks, publications, graphs and diffs compute at
	// once, whichever door asked: they are CPU-bound, and the machine should
	// keep serving the rest.
	heavySlots = 2
	// heavyWait is how long a request waits for a slot before it is told the
	// server is busy (EUNAVAILABLE).
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
		// No front door's recovery reaches this goroutine.
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
