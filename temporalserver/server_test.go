package temporalserver_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/itilflow/itilflow/temporalserver"
)

const (
	testNamespace = "itilflow"
	taskQueue     = "temporalserver-test"
	workflowName  = "SleepThenGreet"
	// childEnv makes the test binary act as the process that is SIGKILLed.
	childEnv = "TEMPORALSERVER_TEST_CHILD_DB"
	// childReady prefixes the line the child prints once its workflow started.
	childReady = "CHILD-READY "
)

func sleepThenGreet(ctx workflow.Context, name string) (string, error) {
	if err := workflow.Sleep(ctx, 2*time.Second); err != nil {
		return "", err
	}
	return "hello " + name, nil
}

func quietLogger() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
}

// logLevel of the servers under test: quiet unless TEMPORALSERVER_TEST_LOG_LEVEL
// says otherwise.
func logLevel() string {
	if l := os.Getenv("TEMPORALSERVER_TEST_LOG_LEVEL"); l != "" {
		return l
	}
	return "none"
}

func baseOptions(dbFile string) temporalserver.Options {
	return temporalserver.Options{
		DBFile:    dbFile,
		Namespace: testNamespace,
		SearchAttributes: map[string]enumspb.IndexedValueType{
			"ItilState": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		},
		LogLevel: logLevel(),
	}
}

func startServer(t *testing.T, ctx context.Context, opts temporalserver.Options) (*temporalserver.Server, client.Client) {
	t.Helper()
	began := time.Now()
	s, err := temporalserver.Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	t.Logf("server up at %s in %v", s.HostPort(), time.Since(began).Round(time.Millisecond))
	c, err := s.NewClient(client.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(c.Close)
	return s, c
}

func startWorker(t *testing.T, c client.Client) worker.Worker {
	t.Helper()
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(sleepThenGreet, workflow.RegisterOptions{Name: workflowName})
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)
	return w
}

func startWorkflow(ctx context.Context, c client.Client, id, name string) error {
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: taskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword("ItilState").ValueSet("open"),
		),
	}, workflowName, name)
	return err
}

// awaitTimerStarted waits until the workflow's first task ran on a worker.
func awaitTimerStarted(t *testing.T, ctx context.Context, c client.Client, id string) {
	t.Helper()
	for {
		iter := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			if err != nil {
				t.Fatalf("read history: %v", err)
			}
			if ev.GetEventType() == enumspb.EVENT_TYPE_TIMER_STARTED {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timer of %s never started: %v", id, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func awaitResult(t *testing.T, ctx context.Context, c client.Client, id, want string) {
	t.Helper()
	var got string
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, &got); err != nil {
		t.Fatalf("workflow %s: %v", id, err)
	}
	if got != want {
		t.Fatalf("workflow %s returned %q, want %q", id, got, want)
	}
}

func listSearchAttributes(t *testing.T, ctx context.Context, c client.Client) map[string]enumspb.IndexedValueType {
	t.Helper()
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: testNamespace})
	if err != nil {
		t.Fatalf("ListSearchAttributes: %v", err)
	}
	return resp.GetCustomAttributes()
}

// TestServer is the only test that links the Temporal server; everything is
// a subtest of it.
func TestServer(t *testing.T) {
	if db := os.Getenv(childEnv); db != "" {
		runChild(t, db)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	t.Run("RestartOnSameFile", func(t *testing.T) {
		dbFile := filepath.Join(t.TempDir(), "data", "temporal.db")
		const id = "restart-wf"

		s1, c1 := startServer(t, ctx, baseOptions(dbFile))
		if _, err := os.Stat(dbFile); err != nil {
			t.Fatalf("database file: %v", err)
		}
		if left, _ := filepath.Glob(dbFile + ".init-*"); len(left) > 0 {
			t.Fatalf("schema temp files left behind: %v", left)
		}
		w1 := startWorker(t, c1)
		if err := startWorkflow(ctx, c1, id, "restart"); err != nil {
			t.Fatalf("start workflow: %v", err)
		}
		awaitTimerStarted(t, ctx, c1, id)
		w1.Stop()
		c1.Close()
		if err := s1.Stop(); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if err := s1.Stop(); err != nil {
			t.Fatalf("second Stop: %v", err)
		}

		// A later release adds an attribute: it must be added to the
		// namespace created by the first run.
		opts := baseOptions(dbFile)
		opts.SearchAttributes["ItilPriority"] = enumspb.INDEXED_VALUE_TYPE_INT
		s2, c2 := startServer(t, ctx, opts)
		if s2.HostPort() == s1.HostPort() {
			t.Logf("same port reused: %s", s2.HostPort())
		}
		if s2.Namespace() != testNamespace {
			t.Fatalf("Namespace() = %q", s2.Namespace())
		}
		startWorker(t, c2)
		began := time.Now()
		awaitResult(t, ctx, c2, id, "hello restart")
		t.Logf("workflow completed %v after restart", time.Since(began).Round(time.Millisecond))

		ns, err := c2.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: testNamespace})
		if err != nil {
			t.Fatalf("DescribeNamespace: %v", err)
		}
		if got := ns.GetNamespaceInfo().GetName(); got != testNamespace {
			t.Fatalf("namespace name %q", got)
		}
		if got := ns.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(); got != temporalserver.DefaultRetention {
			t.Fatalf("retention %v, want %v: closed histories must outlive an audit", got, temporalserver.DefaultRetention)
		}
		sas := listSearchAttributes(t, ctx, c2)
		for name, want := range opts.SearchAttributes {
			if got, ok := sas[name]; !ok || got != want {
				t.Fatalf("search attribute %s: got %v (present %v), want %v; all: %v", name, got, ok, want, sas)
			}
		}

		// The attribute is usable in visibility queries (visibility is
		// written asynchronously, so poll).
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := c2.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: testNamespace,
				Query:     `ItilState = "open"`,
			})
			if err != nil {
				t.Fatalf("ListWorkflow: %v", err)
			}
			if len(resp.GetExecutions()) == 1 && resp.GetExecutions()[0].GetExecution().GetWorkflowId() == id {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("ListWorkflow ItilState=open: %d executions", len(resp.GetExecutions()))
			}
			time.Sleep(200 * time.Millisecond)
		}

		// Existing attributes are left alone; a type clash names the attribute.
		if err := temporalserver.EnsureSearchAttributes(ctx, c2, testNamespace, opts.SearchAttributes); err != nil {
			t.Fatalf("EnsureSearchAttributes (all present): %v", err)
		}
		err = temporalserver.EnsureSearchAttributes(ctx, c2, testNamespace, map[string]enumspb.IndexedValueType{
			"ItilState": enumspb.INDEXED_VALUE_TYPE_INT,
		})
		if err == nil || !strings.Contains(err.Error(), "ItilState") {
			t.Fatalf("EnsureSearchAttributes with wrong type: err = %v, want an error naming ItilState", err)
		}
		if err := s2.Stop(); err != nil {
			t.Fatalf("Stop: %v", err)
		}
	})

	t.Run("SurvivesSIGKILL", func(t *testing.T) {
		dbFile := filepath.Join(t.TempDir(), "temporal.db")
		id := killChildAfterStart(t, ctx, dbFile)
		_, c := startServer(t, ctx, baseOptions(dbFile))
		startWorker(t, c)
		began := time.Now()
		awaitResult(t, ctx, c, id, "hello sigkill")
		t.Logf("workflow completed %v after restart", time.Since(began).Round(time.Millisecond))
	})

	t.Run("BusyPort", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		opts := baseOptions("")
		opts.Port = l.Addr().(*net.TCPAddr).Port
		if s, err := temporalserver.Start(ctx, opts); err == nil {
			_ = s.Stop()
			t.Fatal("Start on a busy port succeeded")
		} else {
			t.Logf("expected error: %v", err)
		}
	})

	t.Run("InMemory", func(t *testing.T) {
		opts := baseOptions("")
		opts.Namespace = ""
		s, c := startServer(t, ctx, opts)
		if s.Namespace() != "default" {
			t.Fatalf("Namespace() = %q, want default", s.Namespace())
		}
		startWorker(t, c)
		const id = "memory-wf"
		if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, workflowName, "memory"); err != nil {
			t.Fatalf("start workflow: %v", err)
		}
		awaitResult(t, ctx, c, id, "hello memory")
	})
}

// killChildAfterStart runs this test binary as a child that starts a server
// on dbFile and a workflow, then SIGKILLs it. It returns the workflow ID.
func killChildAfterStart(t *testing.T, ctx context.Context, dbFile string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestServer$", "-test.count=1", "-test.timeout=3m")
	cmd.Env = append(os.Environ(), childEnv+"="+dbFile)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			t.Fatalf("child never got ready: %v", ctx.Err())
		case line, ok := <-lines:
			if !ok {
				t.Fatal("child exited before it was ready")
			}
			if id, found := strings.CutPrefix(line, childReady); found {
				if err := cmd.Process.Kill(); err != nil { // SIGKILL
					t.Fatalf("kill child: %v", err)
				}
				err := cmd.Wait()
				t.Logf("child killed after starting %s (%v)", id, err)
				go func() {
					for range lines { // drain
					}
				}()
				return id
			}
		}
	}
}

// runChild is the body of the child process: start a server, start a
// workflow (no worker: it stays pending), announce it, wait to be killed.
func runChild(t *testing.T, dbFile string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, c := startServer(t, ctx, baseOptions(dbFile))
	const id = "sigkill-wf"
	if err := startWorkflow(ctx, c, id, "sigkill"); err != nil {
		t.Fatalf("child: start workflow: %v", err)
	}
	fmt.Println(childReady + id)
	<-ctx.Done()
	t.Fatal("child: not killed in time")
}
