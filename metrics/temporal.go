package metrics

import (
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// TemporalHandler is a metrics handler for a Temporal client (and so for its
// workers) that reports the SDK's metrics (temporal_workflow_task_…,
// temporal_activity_…, temporal_request_…) into reg, under the names the SDK
// documents for Prometheus. Timers become histograms, which Prometheus can
// aggregate across replicas. Close the closer when the client is closed: it
// stops the reporting loop. onError hears of a metric that could not be
// registered (the SDK's would clash with one of ours).
func TemporalHandler(reg prometheus.Registerer, onError func(error)) (client.MetricsHandler, io.Closer) {
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:       reg,
		DefaultTimerType: tallyprom.HistogramTimerType,
		OnRegisterError:  onError,
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &tallyprom.DefaultSanitizerOpts,
	}, time.Second)
	return sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope)), closer
}
