package activities

import (
	"context"
	"net/http"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/gate"
	"github.com/itilflow/itilflow/webhook"
)

// ProjectInput is one projection of an instance: its view after event View.Seq and
// the events not yet stored.
type ProjectInput struct {
	View   engine.View    `json:"view"`
	Events []engine.Event `json:"events"`
	// Patch, when set, says View is compact (engine.CompactView): the store
	// merges it into the view it holds. Workflows started before compact
	// projections send full views and no patch.
	Patch *engine.ViewPatch `json:"patch,omitempty"`
}

// Projector stores projections. The store package implements it.
type Projector interface {
	// Project stores the view and appends the events. It must be idempotent: a view
	// older than the stored one is ignored, and events already stored are skipped.
	Project(ctx context.Context, view engine.View, events []engine.Event) error
	// ProjectCompact is Project for a compact view, merged into the stored one.
	ProjectCompact(ctx context.Context, view engine.View, events []engine.Event, patch engine.ViewPatch) error
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
	// Votes reads a meeting's votes, for releases that come without their
	// comments.
	Votes VoteReader
	// Directory resolves the people behind approvers' roles and groups.
	Directory Directory
	// Outbox and NotifyURL deliver notifications to a webhook; without a URL
	// they stay in the outbox for GET /api/v1/notifications.
	Outbox    Outbox
	NotifyURL string
	// NotifySigner and WebhookSigner sign what is posted to the notification
	// webhook and the calls of webhook steps (Itilflow-Signature), each with
	// its own secrets; nil sends them unsigned.
	NotifySigner  *webhook.Signer
	WebhookSigner *webhook.Signer
}

// Project writes a projection. Text the database cannot hold (a NUL from a
// webhook's answer, or from a history recorded before the API refused it) is
// replaced with U+FFFD first, so a projection never fails for ever on its
// data: the history keeps the original, the projection a readable copy.
func (a *Activities) Project(ctx context.Context, in ProjectInput) error {
	in, cleaned, err := gate.CleanJSON(in)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("projection cannot be encoded", "encoding", err)
	}
	if cleaned {
		activity.GetLogger(ctx).Warn("projection held text the database cannot store; replaced it with U+FFFD", "process", in.View.ID)
	}
	if in.Patch != nil {
		err = a.Projector.ProjectCompact(ctx, in.View, in.Events, *in.Patch)
	} else {
		err = a.Projector.Project(ctx, in.View, in.Events)
	}
	if engine.ErrorCode(err) == engine.EINVALID {
		// Retrying cannot make it storable.
		return temporal.NewNonRetryableApplicationError(err.Error(), engine.EINVALID, err)
	}
	return err
}
