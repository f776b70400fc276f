package main

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// metricsDefinition warns at half its 3-second response target and breaches
// at the target, for a priority the metrics are labelled with.
const metricsDefinition = `name: metered
title: Metered check
input:
  title: {type: string, required: true}
  priority: {type: enum, values: [P1, P2], default: P2}
initial: new
states:
  new:
    actions:
      acknowledge: {to: done, roles: [service-desk]}
  done: {final: true}
slas:
  response:
    target: 3s
    warn_at: 50%
    stop_on_leave: [new]
`

// scrape GETs /metrics as Prometheus does, without a token, and returns the
// families and the text.
func scrape(t *testing.T, addr string) (map[string]*dto.MetricFamily, string, time.Duration) {
	t.Helper()
	began := time.Now()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	took := time.Since(began)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v\n%s", resp.StatusCode, err, body)
	}
	var p expfmt.TextParser
	families, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("/metrics is not Prometheus's text format: %v\n%s", err, body)
	}
	return families, string(body), took
}

// sample is the value of name{labels} (a histogram's count), 0 if absent.
func sample(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f := families[name]
	if f == nil {
		return 0
	}
series:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if got[k] != v {
				continue series
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

func TestMetricsMoveWhileAnIncidentBreaches(t *testing.T) {
	cfg := newDevConfig(t)
	stop := startInProcess(t, cfg)
	c := apiClient{t: t, base: cfg.httpAddr}
	c.must(201, "PUT", "/api/v1/definitions/metered", "dev-process-owner", metricsDefinition)
	sla := map[string]string{"definition": "metered", "sla": "response", "priority": "P1"}

	before, _, _ := scrape(t, cfg.httpAddr)
	if got := sample(before, "itilflow_store_up", nil); got != 1 {
		t.Fatalf("itilflow_store_up = %v before anything happened", got)
	}
	if got := sample(before, "itilflow_sla_breaches_total", sla); got != 0 {
		t.Fatalf("breaches before any process: %v", got)
	}

	p := c.must(201, "POST", "/api/v1/definitions/metered/processes", "dev-requester",
		map[string]any{"input": map[string]any{"title": "metered breach", "priority": "P1"}})
	id := p["id"].(string)
	open, _, _ := scrape(t, cfg.httpAddr)
	if got := sample(open, "itilflow_open_processes", map[string]string{"definition": "metered", "state": "new"}); got != 1 {
		t.Errorf("open metered processes in new = %v, want 1", got)
	}
	c.waitFor(id, "breached", breached("response"))

	t.Run("SLAWarningAndBreachAreCountedOnce", func(t *testing.T) {
		// The breach is projected before the API shows it, and counted as
		// its projection commits; poll a little all the same.
		var fams map[string]*dto.MetricFamily
		var text string
		var took time.Duration
		deadline := time.Now().Add(10 * time.Second)
		for {
			fams, text, took = scrape(t, cfg.httpAddr)
			if sample(fams, "itilflow_sla_breaches_total", sla) >= 1 || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if got := sample(fams, "itilflow_sla_warnings_total", sla); got != 1 {
			t.Errorf("warnings = %v, want 1", got)
		}
		if got := sample(fams, "itilflow_sla_breaches_total", sla); got != 1 {
			t.Errorf("breaches = %v, want 1", got)
		}
		// Nothing is behind: the breach the workflow decided is stored.
		if got := sample(fams, "itilflow_projection_overdue_slas", nil); got != 0 {
			t.Errorf("overdue clocks = %v, want 0", got)
		}
		t.Logf("scrape took %s, %d bytes; itilflow's series while %s breaches:\n%s", took, len(text), id, itilflowLines(text))
	})

	t.Run("APIRequestsByRouteTemplate", func(t *testing.T) {
		fams, _, _ := scrape(t, cfg.httpAddr)
		start := map[string]string{"method": "POST", "route": "/api/v1/definitions/:name/processes", "status": "201"}
		if got := sample(fams, "itilflow_http_requests_total", start); got != 1 {
			t.Errorf("starts = %v, want 1", got)
		}
		if got := sample(fams, "itilflow_http_requests_total", map[string]string{"method": "GET", "route": "/api/v1/processes/:id", "status": "200"}); got < 1 {
			t.Errorf("reads of a process = %v, want at least 1", got)
		}
		if got := sample(fams, "itilflow_http_request_duration_seconds", map[string]string{"method": "POST", "route": "/api/v1/definitions/:name/processes"}); got != 1 {
			t.Errorf("start latencies = %v, want 1", got)
		}
	})

	t.Run("FirstResponseEndsTheOpenProcess", func(t *testing.T) {
		c.must(200, "POST", "/api/v1/processes/"+id+"/actions/acknowledge", "dev-service-desk", nil)
		c.waitFor(id, "ended", func(p map[string]any) bool { return p["ended_at"] != nil })
		fams, _, _ := scrape(t, cfg.httpAddr)
		if got := sample(fams, "itilflow_time_to_first_response_seconds", map[string]string{"definition": "metered", "priority": "P1"}); got != 1 {
			t.Errorf("first responses observed = %v, want 1", got)
		}
		if got := sample(fams, "itilflow_open_processes", map[string]string{"definition": "metered", "state": "new"}); got != 0 {
			t.Errorf("open metered processes in new = %v after it ended", got)
		}
	})

	t.Run("TemporalWorkerMetrics", func(t *testing.T) {
		// The SDK's metrics are flushed to the registry every second.
		deadline := time.Now().Add(10 * time.Second)
		for {
			fams, _, _ := scrape(t, cfg.httpAddr)
			// The projection runs as a local activity (workflows.leanTasks).
			if fams["temporal_workflow_completed_total"] != nil && fams["temporal_local_activity_execution_latency_seconds"] != nil {
				var names []string
				for n := range fams {
					if strings.HasPrefix(n, "temporal_") {
						names = append(names, n)
					}
				}
				sort.Strings(names)
				t.Logf("%d families from the SDK: %s", len(names), strings.Join(names, " "))
				return
			}
			if time.Now().After(deadline) {
				var names []string
				for n := range fams {
					if strings.HasPrefix(n, "temporal_") {
						names = append(names, n)
					}
				}
				t.Fatalf("no worker metrics from the SDK; temporal_ families: %v", names)
			}
			time.Sleep(250 * time.Millisecond)
		}
	})

	t.Run("AnonymousReadersSeeAggregatesOnly", func(t *testing.T) {
		_, text, _ := scrape(t, cfg.httpAddr)
		for _, secret := range []string{id, "metered breach", "rita.requester", "sam.desk", "dev-"} {
			if strings.Contains(text, secret) {
				t.Errorf("/metrics names %q", secret)
			}
		}
	})

	// Gauges are right straight after a restart: the first scrape after the
	// start, before any projection ran in the new process, counts what
	// PostgreSQL holds. (Outside t.Run: the dev it starts lives on.)
	kept := c.must(201, "POST", "/api/v1/definitions/metered/processes", "dev-requester",
		map[string]any{"input": map[string]any{"title": "still open", "priority": "P2"}})["id"].(string)
	c.waitFor(kept, "projected", func(p map[string]any) bool { return p["state"] == "new" })
	stop()
	startInProcess(t, cfg)
	after, _, _ := scrape(t, cfg.httpAddr)
	if got := sample(after, "itilflow_open_processes", map[string]string{"definition": "metered", "state": "new"}); got != 1 {
		t.Errorf("open metered processes in new after a restart = %v, want 1", got)
	}
}

// itilflowLines are the lines of a scrape about itilflow's own series.
func itilflowLines(text string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "itilflow_") && !strings.Contains(l, "_bucket{") {
			out = append(out, l)
		}
	}
	return fmt.Sprintln(strings.Join(out, "\n"))
}

func TestMetricsAddrMovesMetricsOffTheAPIsAddress(t *testing.T) {
	cfg := newDevConfig(t)
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg.extra = []string{"--metrics-addr", metricsAddr}
	startInProcess(t, cfg)
	fams, _, _ := scrape(t, metricsAddr)
	if got := sample(fams, "itilflow_store_up", nil); got != 1 {
		t.Errorf("itilflow_store_up on --metrics-addr = %v, want 1", got)
	}
	resp, err := http.Get("http://" + cfg.httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "itilflow_store_up") {
		t.Errorf("the API's address still serves the metrics (%d)", resp.StatusCode)
	}
}
