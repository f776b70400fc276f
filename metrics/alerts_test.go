package metrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"gopkg.in/yaml.v3"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/metrics"
)

const alertsFile = "../deploy/prometheus/alerts.yaml"

// exported is every metric name itilflow serves, with a histogram's _bucket,
// _sum and _count: a registry is fed one of everything (a projection with
// each kind of event, an API request, a pending projection, a store to read,
// an SDK metric), since a labelled metric with no series yet is not served.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	st, ctx := openStore(t), context.Background()
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	st.ObserveProjections(m)
	at := t0.Add(time.Hour)
	clock := func(name string) engine.SLAView {
		return engine.SLAView{Name: name, Status: engine.ClockStopped, Target: engine.Duration(time.Hour), StartedAt: t0, StoppedAt: &at}
	}
	events := []engine.Event{event(1, engine.EventStarted), event(2, engine.EventAction), event(3, engine.EventSLAWarning),
		event(4, engine.EventSLABreached), event(5, engine.EventSLAStopped), event(6, engine.EventSLAStopped), event(7, engine.EventApprovalDecided)}
	events[1].To = "authorising"
	events[4].SLA, events[5].SLA = metrics.ResponseSLA, metrics.ResolutionSLA
	events[6].From = "authorising"
	if err := st.Project(ctx, view("incident-000001", "incident", "resolved", "P1", 7, clock(metrics.ResponseSLA), clock(metrics.ResolutionSLA)), events); err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.Pre(m.Middleware)
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	m.ProjectionAttempt("incident-000002", t0, 1)
	m.ProjectionDone("incident-000002", t0, nil, false)
	h, closer := metrics.TemporalHandler(reg, func(err error) { t.Errorf("register: %v", err) })
	h.Counter("temporal_request").Inc(1)
	closer.Close()

	names := map[string]bool{}
	for _, f := range must(reg.Gather()) {
		names[f.GetName()] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+s] = true
			}
		}
	}
	return names
}

// promQLWords are PromQL's keywords and aggregations that take no
// parenthesis right after them in the rules (functions are told by theirs).
var promQLWords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"and": true, "or": true, "unless": true, "bool": true, "offset": true}

var (
	promQLStrings   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promQLMatchers  = regexp.MustCompile(`\{[^}]*\}`)
	promQLGroupings = regexp.MustCompile(`\b(by|without|on|ignoring)\s*\([^)]*\)`)
	promQLRanges    = regexp.MustCompile(`\[[^\]]*\]`)
	promQLIdents    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
)

// metricNames are the metrics an expression names: what is left of its
// identifiers once strings, label matchers, groupings, ranges, functions and
// keywords are taken out.
func metricNames(expr string) []string {
	for _, re := range []*regexp.Regexp{promQLStrings, promQLMatchers, promQLGroupings, promQLRanges} {
		expr = re.ReplaceAllString(expr, " ")
	}
	var out []string
	for _, id := range promQLIdents.FindAllString(expr, -1) {
		if strings.HasSuffix(id, "(") || promQLWords[id] {
			continue
		}
		out = append(out, id)
	}
	return out
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func TestAlertingRules(t *testing.T) {
	src, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("PromtoolChecksThem", func(t *testing.T) {
		promtool, err := exec.LookPath("promtool")
		if err != nil {
			t.Skip("promtool is not installed (Debian: apt-get install prometheus); the other subtests still parse the file")
		}
		out, err := exec.Command(promtool, "check", "rules", alertsFile).CombinedOutput()
		if err != nil {
			t.Fatalf("promtool check rules: %v\n%s", err, out)
		}
	})
	t.Run("EveryExpressionNamesMetricsItilflowExports", func(t *testing.T) {
		var rules ruleFile
		if err := yaml.Unmarshal(src, &rules); err != nil {
			t.Fatalf("%s: %v", alertsFile, err)
		}
		names := exported(t)
		alerts := map[string]bool{}
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" || strings.TrimSpace(r.Expr) == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
					t.Errorf("group %s: rule %q needs an alert name, an expression, a severity and a summary", g.Name, r.Alert)
				}
				if r.For != "" {
					if _, err := time.ParseDuration(r.For); err != nil {
						t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
					}
				}
				used := metricNames(r.Expr)
				if len(used) == 0 {
					t.Errorf("%s: %q names no metric", r.Alert, r.Expr)
				}
				for _, n := range used {
					if !names[n] {
						var known []string
						for k := range names {
							if strings.HasPrefix(k, "itilflow_") {
								known = append(known, k)
							}
						}
						sort.Strings(known)
						t.Errorf("%s: %q names %s, which itilflow does not export (it exports %s)", r.Alert, r.Expr, n, strings.Join(known, ", "))
					}
					for _, name := range []string{"itilflow_sla_breaches_total", "itilflow_projection_overdue_seconds"} {
						if n == name {
							alerts[name] = true
						}
					}
				}
			}
		}
		// The issue asks for alerts on breaches and on the projection's lag.
		for _, name := range []string{"itilflow_sla_breaches_total", "itilflow_projection_overdue_seconds"} {
			if !alerts[name] {
				t.Errorf("no rule alerts on %s", name)
			}
		}
	})
	t.Run("TheCheckCatchesAnUnknownMetric", func(t *testing.T) {
		got := metricNames(`sum by (definition) (increase(itilflow_sla_breachs_total{priority=~"P1|P2"}[5m])) > 0 or absent(up)`)
		if strings.Join(got, ",") != "itilflow_sla_breachs_total,up" {
			t.Errorf("metricNames = %v", got)
		}
	})
}
