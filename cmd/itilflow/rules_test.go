package main

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// ruleEvaluated returns the data of a process's rule_evaluated event, or nil.
func ruleEvaluated(p map[string]any) map[string]any {
	events, _ := p["events"].([]any)
	for _, e := range events {
		if m := e.(map[string]any); m["type"] == "rule_evaluated" {
			d, _ := m["data"].(map[string]any)
			return d
		}
	}
	return nil
}

// TestTheThirdFaultOpensOneProblemOnTheRealStack: the shipped incident's rule
// on dev, with the second and third faults on a device opened at the same
// moment. Whichever counts last sees the other, so at least one fires; both
// name the problem by the oldest fault, so exactly one problem is opened,
// with all three incidents, and every incident that fired links to it.
func TestTheThirdFaultOpensOneProblemOnTheRealStack(t *testing.T) {
	cfg := newDevConfig(t)
	startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	const ci = "core-switch-9"
	c.must(200, "PUT", "/api/v1/cis/"+ci, "dev-admin", map[string]any{"name": "Core switch 9", "type": "switch"})
	open := func(title string) (string, error) {
		status, body := c.call("POST", "/api/v1/processes/incident", "dev-requester", map[string]any{"input": map[string]any{"title": title, "ci": ci}})
		if status != 201 {
			return "", fmt.Errorf("start %q: %d %v", title, status, body)
		}
		return body["id"].(string), nil
	}
	first, err := open("Core switch 9 down")
	if err != nil {
		t.Fatal(err)
	}
	p := c.waitFor(first, "counted", func(p map[string]any) bool { return ruleEvaluated(p) != nil })
	if d := ruleEvaluated(p); d["fired"] != false || d["count"] != 1.0 {
		t.Fatalf("the first fault: %v", d)
	}

	ids := make([]string, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i], errs[i] = open(fmt.Sprintf("Core switch 9 down again (%d)", i+2))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	fired := 0
	for _, id := range ids {
		p := c.waitFor(id, "counted", func(p map[string]any) bool { return ruleEvaluated(p) != nil })
		d := ruleEvaluated(p)
		if d["fired"] == true {
			fired++
			c.waitFor(id, "linked to its problem", func(p map[string]any) bool { links, _ := p["links"].([]any); return len(links) == 1 })
		}
	}
	if fired == 0 {
		t.Fatalf("neither the second nor the third fault fired the rule")
	}

	// Exactly one problem, now and after the steps have had time to settle.
	var problems []any
	deadline := time.Now().Add(60 * time.Second)
	for len(problems) == 0 && time.Now().Before(deadline) {
		problems, _ = c.must(200, "GET", "/api/v1/processes?definition=problem&ci="+ci, "dev-auditor", nil)["items"].([]any)
		time.Sleep(250 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	problems, _ = c.must(200, "GET", "/api/v1/processes?definition=problem&ci="+ci, "dev-auditor", nil)["items"].([]any)
	if len(problems) != 1 {
		t.Fatalf("%d problems on %s, want exactly 1: %v", len(problems), ci, problems)
	}
	problem := problems[0].(map[string]any)
	incidents, _ := problem["input"].(map[string]any)["incidents"].([]any)
	for _, id := range append([]string{first}, ids...) {
		if !slices.Contains(incidents, any(id)) {
			t.Errorf("the problem's incidents %v lack %s", incidents, id)
		}
	}
	for _, id := range ids {
		p := c.waitFor(id, "counted", func(p map[string]any) bool { return ruleEvaluated(p) != nil })
		if ruleEvaluated(p)["fired"] != true {
			continue
		}
		links, _ := p["links"].([]any)
		if len(links) != 1 || links[0].(map[string]any)["id"] != problem["id"] {
			t.Errorf("%s links %v, want the one problem %v", id, links, problem["id"])
		}
	}
	// The registry's page of the item lists the three incidents and the problem.
	page := c.must(200, "GET", "/api/v1/cis/"+ci, "dev-auditor", nil)
	if page["total"] != 4.0 {
		t.Errorf("the item's page counts %v processes, want 4: %v", page["total"], page["processes"])
	}
}
