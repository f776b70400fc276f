package temporalserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// namespaceVisibleTimeout bounds how long EnsureNamespace waits for a newly
// registered namespace to be usable: the services learn of new namespaces
// through a registry refreshed every few seconds (10s by default).
const namespaceVisibleTimeout = 60 * time.Second

// EnsureNamespace registers the namespace with the given retention when it
// does not exist, and waits until the server's namespace registry knows it
// (DescribeNamespace reads the database and answers at once; what resolves
// the name through the registry, such as listing its search attributes,
// fails until the registry is refreshed). A fresh Temporal
// cluster has no namespace at all (not even "default"), and several itilflow
// processes may start against it at once: a namespace registered meanwhile
// by another one (NamespaceAlreadyExists) is no error. The retention of a
// namespace that already exists is left alone: operators may have set it.
func EnsureNamespace(ctx context.Context, c client.Client, namespace string, retention time.Duration) error {
	ws := c.WorkflowService()
	_, err := ws.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	var notFound *serviceerror.NamespaceNotFound
	switch {
	case err == nil:
		// It exists, perhaps registered a moment ago by another process and
		// not usable yet: wait for it as for one registered here.
	case !errors.As(err, &notFound):
		return fmt.Errorf("describe namespace %q: %w", namespace, err)
	default:
		_, err = ws.RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        namespace,
			Description:                      "itilflow's processes (registered by itilflow serve)",
			WorkflowExecutionRetentionPeriod: durationpb.New(retention),
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("register namespace %q: %w", namespace, err)
		}
	}

	waitCtx, cancel := context.WithTimeout(ctx, namespaceVisibleTimeout)
	defer cancel()
	for {
		_, err := c.OperatorService().ListSearchAttributes(waitCtx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
		if err == nil {
			return nil
		}
		select {
		case <-waitCtx.Done():
			return fmt.Errorf("wait for registered namespace %q: %w", namespace, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
