// Package metrics is what itilflow tells Prometheus: processes open and
// waiting on votes (read from PostgreSQL at each scrape, so they are right
// straight after a restart), SLA warnings and breaches and the times to
// respond, resolve and decide (counted as projections commit, once per event),
// the API's requests, how far the projection lags behind the workflows, and
// the Temporal SDK's worker metrics. Everything goes to a registry the caller
// passes in; nothing registers with Prometheus's global default registry.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

// Names of the SLA clocks whose stop is the first response and the resolution
// (the incident processes' names). Clocks of other names are counted in the
// warnings and breaches, not in these histograms.
const (
	ResponseSLA   = "response"
	ResolutionSLA = "resolution"
)

// GaugeSource reads what the projection holds now. *store.Store implements it.
type GaugeSource interface {
	MetricGauges(ctx context.Context, now time.Time) (store.Gauges, error)
}

// Options configure Metrics.
type Options struct {
	// Store is read at each scrape; nil leaves out the gauges read from it.
	Store GaugeSource
	// StoreTimeout bounds those reads, so a slow database makes a scrape
	// report itilflow_store_up 0 rather than hang (default 2s).
	StoreTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log hears of scrapes the database did not answer (default: discarded).
	Log *slog.Logger
}

// Metrics holds itilflow's own metrics. It is a store.ProjectionObserver and
// an activities.ProjectionWatcher; Middleware instruments the API.
type Metrics struct {
	reg *prometheus.Registry
	now func() time.Time

	slaWarnings, slaBreaches  *prometheus.CounterVec
	firstResponse, resolution *prometheus.HistogramVec
	decisions                 *prometheus.HistogramVec
	requests                  *prometheus.CounterVec
	requestSeconds            *prometheus.HistogramVec
	projectionDelay           prometheus.Histogram
	projectionFailures        prometheus.Counter
	pending                   *pendingProjections
}

// durationBuckets span a minute to a week: response targets are minutes,
// resolution targets hours, approvals days.
var durationBuckets = []float64{60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600}

// New registers itilflow's metrics, the Go runtime's and the process's with
// reg. It fails if reg already holds metrics of the same names.
func New(reg *prometheus.Registry, opts Options) (*Metrics, error) {
	if reg == nil {
		return nil, &engine.Error{Code: engine.EINVALID, Op: "metrics.New", Message: "no registry"}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.StoreTimeout <= 0 {
		opts.StoreTimeout = 2 * time.Second
	}
	slaLabels := []string{"definition", "sla", "priority"}
	m := &Metrics{
		reg: reg,
		now: opts.Now,
		slaWarnings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "itilflow_sla_warnings_total",
			Help: "SLA clocks that reached their warning mark, counted once per warning as it is stored."}, slaLabels),
		slaBreaches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "itilflow_sla_breaches_total",
			Help: "SLA clocks that passed their target, counted once per breach as it is stored."}, slaLabels),
		firstResponse: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "itilflow_time_to_first_response_seconds",
			Help:    "Time on the response SLA clock (business time, pauses excluded) when it stopped.",
			Buckets: durationBuckets}, []string{"definition", "priority"}),
		resolution: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "itilflow_time_to_resolution_seconds",
			Help:    "Time on the resolution SLA clock (business time, pauses excluded) when it stopped.",
			Buckets: durationBuckets}, []string{"definition", "priority"}),
		decisions: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "itilflow_approval_decision_seconds",
			Help:    "Wall time from entering an approval state to the approval's decision.",
			Buckets: durationBuckets}, []string{"definition", "state", "outcome"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "itilflow_http_requests_total",
			Help: "API requests by method, route template and status."}, []string{"method", "route", "status"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "itilflow_http_request_duration_seconds",
			Help:    "API request latency by method and route template.",
			Buckets: prometheus.DefBuckets}, []string{"method", "route"}),
		projectionDelay: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "itilflow_projection_delay_seconds",
			Help:    "Time from a workflow scheduling a projection to PostgreSQL storing it, retries included.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900}}),
		projectionFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "itilflow_projection_failures_total",
			Help: "Projection attempts that failed (each is retried until the database takes it)."}),
		pending: newPendingProjections(opts.Now),
	}
	cs := []prometheus.Collector{m.slaWarnings, m.slaBreaches, m.firstResponse, m.resolution, m.decisions,
		m.requests, m.requestSeconds, m.projectionDelay, m.projectionFailures, m.pending,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}
	if opts.Store != nil {
		cs = append(cs, &storeCollector{src: opts.Store, timeout: opts.StoreTimeout, now: opts.Now, log: opts.Log})
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, &engine.Error{Code: engine.EINTERNAL, Op: "metrics.New", Message: "register a collector", Err: err}
		}
	}
	return m, nil
}

// Handler serves the registry in Prometheus's text format. A collector that
// fails (the database did not answer) leaves its metrics out and the rest
// are served: itilflow_store_up says so.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: m.reg})
}

// Projected counts what a committed projection stored for the first time
// (store.ProjectionObserver): each warning and breach, the response and
// resolution clocks that stopped, the approvals decided.
func (m *Metrics) Projected(p store.Projected) {
	v := p.View
	for _, e := range p.Events {
		switch e.Type {
		case engine.EventSLAWarning:
			m.slaWarnings.WithLabelValues(v.Definition, e.SLA, p.Priority).Inc()
		case engine.EventSLABreached:
			m.slaBreaches.WithLabelValues(v.Definition, e.SLA, p.Priority).Inc()
		case engine.EventSLAStopped:
			h := m.firstResponse
			switch e.SLA {
			case ResponseSLA:
			case ResolutionSLA:
				h = m.resolution
			default:
				continue
			}
			// A clock that stops because the process ended or was cancelled
			// before its stop condition was neither answered nor resolved.
			if r, _ := e.Data["reason"].(string); r == stoppedByEnd || r == stoppedByCancel {
				continue
			}
			if elapsed, ok := stoppedAfter(e, v); ok {
				h.WithLabelValues(v.Definition, p.Priority).Observe(elapsed.Seconds())
			}
		}
	}
	for _, d := range p.Decisions {
		m.decisions.WithLabelValues(v.Definition, d.State, d.Outcome).Observe(d.Open.Seconds())
	}
}

// The reasons the engine gives a clock it stops with the process rather than
// by the clock's own stop condition.
const (
	stoppedByEnd    = "process ended"
	stoppedByCancel = "process cancelled"
)

// stoppedAfter is the time on the clock an sla_stopped event stopped: the
// event's own record of it, or, for an event without one, the clock of that
// name in the view.
func stoppedAfter(e engine.Event, v engine.View) (time.Duration, bool) {
	if s, ok := e.Data["elapsed"].(string); ok {
		if d, err := engine.ParseDuration(s); err == nil {
			return time.Duration(d), true
		}
	}
	for _, c := range v.SLAs {
		if c.Name == e.SLA {
			return time.Duration(c.Elapsed), true
		}
	}
	return 0, false
}

// storeCollector reads the gauges from PostgreSQL at each scrape.
type storeCollector struct {
	src     GaugeSource
	timeout time.Duration
	now     func() time.Time
	log     *slog.Logger
}

var (
	openDesc = prometheus.NewDesc("itilflow_open_processes",
		"Processes not ended, by definition and state, as the projection holds them.", []string{"definition", "state"}, nil)
	approvalsDesc = prometheus.NewDesc("itilflow_approvals_pending",
		"Open processes waiting on a vote, by definition and the state that holds it.", []string{"definition", "state"}, nil)
	overdueDesc = prometheus.NewDesc("itilflow_projection_overdue_slas",
		"Running SLA clocks past their due time whose breach the projection does not hold yet.", nil, nil)
	overdueAgeDesc = prometheus.NewDesc("itilflow_projection_overdue_seconds",
		"How long ago the oldest of those clocks fell due: how far the projection lags behind the workflows (0 when none).", nil, nil)
	storeUpDesc = prometheus.NewDesc("itilflow_store_up",
		"1 if PostgreSQL answered this scrape's queries in time, else 0 (and the gauges read from it are left out).", nil, nil)
	storeSecondsDesc = prometheus.NewDesc("itilflow_store_scrape_duration_seconds",
		"How long this scrape's queries took.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{openDesc, approvalsDesc, overdueDesc, overdueAgeDesc, storeUpDesc, storeSecondsDesc} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	began := time.Now()
	now := c.now()
	g, err := c.src.MetricGauges(ctx, now)
	ch <- prometheus.MustNewConstMetric(storeSecondsDesc, prometheus.GaugeValue, time.Since(began).Seconds())
	if err != nil {
		ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 0)
		c.log.Warn("metrics: PostgreSQL did not answer the scrape's queries; its gauges are left out", "error", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 1)
	for _, n := range g.Open {
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(n.N), n.Definition, n.State)
	}
	for _, n := range g.Approvals {
		ch <- prometheus.MustNewConstMetric(approvalsDesc, prometheus.GaugeValue, float64(n.N), n.Definition, n.State)
	}
	ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(g.Overdue))
	age := 0.0
	if g.OldestDue != nil {
		age = now.Sub(*g.OldestDue).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(overdueAgeDesc, prometheus.GaugeValue, age)
}
