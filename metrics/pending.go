package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// pendingProjections are the projections the workflows handed to this
// worker that are not stored yet: an attempt running, or one that failed and
// waits for Temporal's retry. A workflow has at most one projection in
// flight, so they are kept by workflow id.
type pendingProjections struct {
	now func() time.Time
	mu  sync.Mutex
	by  map[string]pendingProjection
}

type pendingProjection struct {
	scheduled time.Time // when the workflow scheduled it (its first attempt)
	events    int
	seen      time.Time // the latest attempt
}

// pendingForgotten is how long after its latest attempt a projection that was
// never stored stops counting: longer than the projection's longest retry
// interval (1m) plus its attempt timeout (30s), so one that is still retried
// is never forgotten, and one whose workflow was terminated meanwhile does not
// count for ever.
const pendingForgotten = 5 * time.Minute

var (
	pendingEventsDesc = prometheus.NewDesc("itilflow_projection_pending_events",
		"Events the workflows handed to this worker's projection that PostgreSQL has not stored yet.", nil, nil)
	pendingAgeDesc = prometheus.NewDesc("itilflow_projection_pending_seconds",
		"Age of the oldest projection this worker has not stored yet, since its workflow scheduled it (0 when none).", nil, nil)
)

func newPendingProjections(now func() time.Time) *pendingProjections {
	return &pendingProjections{now: now, by: map[string]pendingProjection{}}
}

func (p *pendingProjections) attempting(workflow string, scheduled time.Time, events int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.by[workflow] = pendingProjection{scheduled: scheduled, events: events, seen: p.now()}
}

func (p *pendingProjections) done(workflow string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.by, workflow)
}

func (p *pendingProjections) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingEventsDesc
	ch <- pendingAgeDesc
}

func (p *pendingProjections) Collect(ch chan<- prometheus.Metric) {
	p.mu.Lock()
	now := p.now()
	events, oldest := 0, time.Time{}
	for id, e := range p.by {
		if now.Sub(e.seen) > pendingForgotten {
			delete(p.by, id)
			continue
		}
		events += e.events
		if oldest.IsZero() || e.scheduled.Before(oldest) {
			oldest = e.scheduled
		}
	}
	p.mu.Unlock()
	age := 0.0
	if !oldest.IsZero() {
		age = max(now.Sub(oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(pendingEventsDesc, prometheus.GaugeValue, float64(events))
	ch <- prometheus.MustNewConstMetric(pendingAgeDesc, prometheus.GaugeValue, age)
}

// ProjectionAttempt is called as a projection activity's attempt begins
// (activities.ProjectionWatcher): workflow is its workflow's id, scheduled
// when the workflow scheduled it, events how many events it carries.
func (m *Metrics) ProjectionAttempt(workflow string, scheduled time.Time, events int) {
	m.pending.attempting(workflow, scheduled, events)
}

// ProjectionDone is called as the attempt ends: err is nil when the
// projection was stored, and retried says whether Temporal will try again.
func (m *Metrics) ProjectionDone(workflow string, scheduled time.Time, err error, retried bool) {
	switch {
	case err == nil:
		m.pending.done(workflow)
		m.projectionDelay.Observe(max(m.now().Sub(scheduled).Seconds(), 0))
	case retried:
		m.projectionFailures.Inc()
	default:
		// Never retried: the workflow sends the events again with its next
		// change, as a new projection.
		m.projectionFailures.Inc()
		m.pending.done(workflow)
	}
}
