package activities

import (
	"context"
	"net/http"

	"github.com/itilflow/itilflow/engine"
)

// ProjectInput is one projection of an instance: its view after event View.Seq and
// the events not yet stored.
type ProjectInput struct {
	View   engine.View    `json:"view"`
	Events []engine.Event `json:"events"`
}

// Projector stores projections. The store package implements it.
type Projector interface {
	// Project stores the view and appends the events. It must be idempotent: a view
	// older than the stored one is ignored, and events already stored are skipped.
	Project(ctx context.Context, view engine.View, events []engine.Event) error
}

// Activities are registered on the worker with their dependencies.
type Activities struct {
	Projector Projector
	// HTTPClient calls webhooks. It must be set: the wiring decides timeouts,
	// proxies and TLS, not a package default.
	HTTPClient *http.Client
	// Processes and Starter start the processes that start steps ask for.
	Processes Processes
	Starter   Starter
	// Boards and Releaser collect meetings' agendas and release their
	// decisions to the processes decided.
	Boards   Boards
	Releaser Releaser
	// Directory resolves the people behind approvers' roles and groups.
	Directory Directory
	// Outbox and NotifyURL deliver notifications to a webhook; without a URL
	// they stay in the outbox for GET /api/v1/notifications.
	Outbox    Outbox
	NotifyURL string
}

// Project writes a projection.
func (a *Activities) Project(ctx context.Context, in ProjectInput) error {
	return a.Projector.Project(ctx, in.View, in.Events)
}
