package temporalserver_test

import (
	"context"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/itilflow/itilflow/temporalserver"
)

// TestEnsureNamespace registers a namespace the server does not have, from
// two callers at once as two serve processes starting together would, then
// adds search attributes to it the same way: both succeed, the namespace
// has the retention asked for, and a later call changes nothing.
func TestEnsureNamespace(t *testing.T) {
	ctx := context.Background()
	s, c := startServer(t, ctx, baseOptions(""))
	const fresh = "itilflow-fresh"
	const retention = 400 * 24 * time.Hour
	attrs := map[string]enumspb.IndexedValueType{"ItilFresh": enumspb.INDEXED_VALUE_TYPE_KEYWORD}

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A client of its own each, as separate processes have.
			pc, err := s.NewClient(client.Options{Namespace: fresh, Logger: quietLogger()})
			if err != nil {
				errs[i] = err
				return
			}
			defer pc.Close()
			if errs[i] = temporalserver.EnsureNamespace(ctx, pc, fresh, retention); errs[i] != nil {
				return
			}
			errs[i] = temporalserver.EnsureSearchAttributes(ctx, pc, fresh, attrs)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	desc, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: fresh})
	if err != nil {
		t.Fatal(err)
	}
	if got := desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(); got != retention {
		t.Fatalf("retention of the registered namespace: %v, want %v", got, retention)
	}
	// An existing namespace keeps the retention it has.
	if err := temporalserver.EnsureNamespace(ctx, c, fresh, time.Hour); err != nil {
		t.Fatal(err)
	}
	desc, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: fresh})
	if err != nil {
		t.Fatal(err)
	}
	if got := desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(); got != retention {
		t.Fatalf("retention after a second EnsureNamespace: %v, want it left at %v", got, retention)
	}
}
