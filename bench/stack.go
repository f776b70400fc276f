package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/itilflow/itilflow/activities"
	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/pgcluster"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/temporalserver"
	"github.com/itilflow/itilflow/workflows"
)

// Stack is one in-process Temporal server and one PostgreSQL with the store
// migrated, and a worker running both the interpreter and the native
// incident with the product's activities: the two are measured on the same
// server, database and worker.
type Stack struct {
	Temporal client.Client
	Store    *store.Store
	// Incident is the published definitions/incident.yaml.
	Incident store.Definition
	stops    []func()
}

// StartStack starts the stack with its data under dir; definitions is the
// directory of the shipped definitions (incident.yaml, calendars.yaml).
func StartStack(ctx context.Context, dir, definitions string) (_ *Stack, err error) {
	s := &Stack{}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	// 0755: PostgreSQL runs as its own user when we are root and must reach pg/.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench data directory: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench data directory: %w", err)
	}
	pg, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(dir, "pg")})
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s.stops = append(s.stops, func() { _ = pg.Stop() })
	ts, err := temporalserver.Start(ctx, temporalserver.Options{
		DBFile:           filepath.Join(dir, "temporal.db"),
		Namespace:        "default",
		SearchAttributes: workflows.SearchAttributes(),
		LogLevel:         "error",
	})
	if err != nil {
		return nil, fmt.Errorf("embedded Temporal: %w", err)
	}
	s.stops = append(s.stops, func() { _ = ts.Stop() })
	tc, err := ts.NewClient(client.Options{Logger: sdklog.NewStructuredLogger(quietLogger())})
	if err != nil {
		return nil, fmt.Errorf("temporal client: %w", err)
	}
	s.Temporal = tc
	s.stops = append(s.stops, tc.Close)
	st, err := store.Open(ctx, pg.URL(), store.WithAuditKey([]byte("itilflow bench: an audit key of 32 bytes or more")))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s.Store = st
	s.stops = append(s.stops, func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if s.Incident, err = publishIncident(ctx, st, definitions); err != nil {
		return nil, err
	}
	w := worker.New(tc, workflows.TaskQueue, worker.Options{})
	workflows.Register(w)
	RegisterNative(w)
	// The activities the product's worker registers (cmd/itilflow/stack.go),
	// so that whatever the interpreter schedules runs as in production.
	w.RegisterActivity(&activities.Activities{
		Projector:  st,
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
		Processes:  st,
		Starter:    workflows.ClientStarter{Client: tc},
		Boards:     st,
		Counter:    st,
		Releaser:   workflows.ClientReleaser{Client: tc},
		Votes:      st,
		Directory:  st,
		Outbox:     st,
	})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	s.stops = append(s.stops, w.Stop)
	return s, nil
}

// publishIncident publishes incident.yaml with the calendars it names.
func publishIncident(ctx context.Context, st *store.Store, definitions string) (store.Definition, error) {
	calSrc, err := os.ReadFile(filepath.Join(definitions, "calendars.yaml"))
	if err != nil {
		return store.Definition{}, fmt.Errorf("calendars: %w", err)
	}
	cals, err := engine.ParseCalendars(calSrc)
	if err != nil {
		return store.Definition{}, fmt.Errorf("calendars.yaml: %w", err)
	}
	src, err := os.ReadFile(filepath.Join(definitions, "incident.yaml"))
	if err != nil {
		return store.Definition{}, fmt.Errorf("incident definition: %w", err)
	}
	// As the service checks a definition: the processes its start steps
	// name must exist, and incident.yaml's rule starts a problem.
	def, err := engine.Compile(src, engine.Env{Calendars: cals, Processes: []string{"incident", "problem"}})
	if err != nil {
		return store.Definition{}, fmt.Errorf("incident.yaml: %w", err)
	}
	d, _, err := st.PublishDefinition(ctx, def, src, "bench", "")
	if err != nil {
		return store.Definition{}, fmt.Errorf("publish incident: %w", err)
	}
	return d, nil
}

// Stop stops what StartStack started, the last first.
func (s *Stack) Stop() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
	s.stops = nil
}

// quietLogger keeps the SDK's warnings (an update retried under load) out
// of the key=value output; errors still show on stderr.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}
