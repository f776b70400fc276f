package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/itilflow/itilflow/activities"
)

// NotifierType is the workflow type of the notification deliverer, and
// NotifierID the id of its one instance.
const (
	NotifierType = "itilflow.Notifier"
	NotifierID   = "itilflow-notifier"
)

// notifierIdle is how long the notifier waits when the outbox is empty, and
// notifierRuns how many delivery runs one workflow run makes before it
// continues as new, so its history stays small.
const (
	notifierIdle = 5 * time.Second
	notifierRuns = 500
)

var notifyOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 2 * time.Minute,
	// Retried until the webhook answers: a notification is never dropped.
	RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
}

// Notifier delivers the notification outbox to the notification webhook for as
// long as it runs: one activity run at a time, a pause when nothing is waiting.
func Notifier(ctx workflow.Context) error {
	actx := workflow.WithActivityOptions(ctx, notifyOptions)
	var acts *activities.Activities
	for i := 0; i < notifierRuns; i++ {
		var delivered int
		if err := workflow.ExecuteActivity(actx, acts.DeliverNotifications).Get(ctx, &delivered); err != nil {
			return err
		}
		if delivered == 0 {
			if err := workflow.Sleep(ctx, notifierIdle); err != nil {
				return err
			}
		}
	}
	return workflow.NewContinueAsNewError(ctx, NotifierType)
}
