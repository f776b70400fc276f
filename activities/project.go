package activities

import (
	"context"
	"errors"
	"net/http"
	"time"

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

// ProjectionWatcher hears of each attempt of the projection activity, so that
// how far the projection lags behind the workflows can be measured (the
// metrics package implements it). workflow is the process's workflow id and
// scheduled when its workflow scheduled the projection; retried says whether
// Temporal will try a failed attempt again.
type ProjectionWatcher interface {
	ProjectionAttempt(workflow string, scheduled time.Time, events int)
	ProjectionDone(workflow string, scheduled time.Time, err error, retried bool)
}

// Activities are registered on the worker with their dependencies.
type Activities struct {
	Projector Projector
	// Watcher, when set, hears of every projection attempt.
	Watcher ProjectionWatcher
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
	// Counter reads the processes rules count.
	Counter Counter
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
func (a *Activities) Project(ctx context.Context, in ProjectInput) (err error) {
	if a.Watcher != nil {
		info := activity.GetInfo(ctx)
		id, scheduled := info.WorkflowExecution.ID, info.ScheduledTime
		a.Watcher.ProjectionAttempt(id, scheduled, len(in.Events))
		defer func() {
			var appErr *temporal.ApplicationError
			retried := err != nil && !(errors.As(err, &appErr) && appErr.NonRetryable())
			a.Watcher.ProjectionDone(id, scheduled, err, retried)
		}()
	}
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

// ProjectRecorded is Project run as a local activity, within the workflow
// task that made the change: a local activity's input is not written to the
// workflow history, so it returns it, and the history records it as its
// result — where history.Decode reads the events back for replay, as_of
// and audit verify --deep.
func (a *Activities) ProjectRecorded(ctx context.Context, in ProjectInput) (ProjectInput, error) {
	if err := a.Project(ctx, in); err != nil {
		return ProjectInput{}, err
	}
	return in, nil
}
