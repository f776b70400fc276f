package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/pgcluster/pgtest"
	"github.com/itilflow/itilflow/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const tinyDefinition = "name: tiny\ninitial: a\nstates:\n  a: {actions: {go: {to: b, roles: [requester]}}}\n  b: {final: true}\n"

// heavyDefinition is a valid definition of about size bytes with a CEL condition
// on every action: slow to check, though well within the limits.
func heavyDefinition(size int) string {
	var b strings.Builder
	b.WriteString("name: heavy\ninput:\n  title: {type: string, required: true}\n  n: {type: number}\ninitial: s0\nstates:\n")
	for i := 0; b.Len() < size; i++ {
		cond := make([]string, 12)
		for j := range cond {
			cond[j] = fmt.Sprintf("(input.n > %d.0 || input.title.startsWith('x%d'))", j, j)
		}
		fmt.Fprintf(&b, "  s%d:\n    actions:\n      go: {to: s%d, roles: [requester], when: \"%s\"}\n", i, i+1, strings.Join(cond, " && "))
		if b.Len() >= size {
			fmt.Fprintf(&b, "  s%d: {final: true}\n", i+1)
		}
	}
	return b.String()
}

// newDefinitionsTest is the service on a fresh database, without Temporal:
// definitions never reach it.
func newDefinitionsTest(t *testing.T) *Service {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t), store.WithAuditKey([]byte("the service tests' audit key, 32 bytes or more")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return New(st, nil, nil, slog.New(slog.DiscardHandler))
}

func as(id string, roles ...string) Caller { return Caller{Actor: engine.Actor{ID: id, Roles: roles}} }

// detail is the first detail of err's *engine.Error.
func detail(t *testing.T, err error) engine.Detail {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) || len(e.Details) == 0 {
		t.Fatalf("want an error with details, got %v", err)
	}
	return e.Details[0]
}

func TestDefinitions(t *testing.T) {
	ctx := context.Background()
	s := newDefinitionsTest(t)
	owner, admin, requester := as("pat.owner", RoleProcessOwner), as("ada.admin", "admin"), as("rita.requester", "requester")

	t.Run("CheckNeedsProcessOwnerOrAdmin", func(t *testing.T) {
		if _, err := s.CheckDefinition(ctx, requester, Draft{Source: []byte(tinyDefinition)}); engine.ErrorCode(err) != engine.EFORBIDDEN ||
			!strings.Contains(err.Error(), "process-owner or admin") {
			t.Fatalf("a requester: %v", err)
		}
		for _, who := range []Caller{owner, admin} {
			if def, err := s.CheckDefinition(ctx, who, Draft{Source: []byte(tinyDefinition)}); err != nil || def.Name != "tiny" {
				t.Fatalf("%s: %v %v", who.ID, def, err)
			}
		}
	})
	t.Run("OnlyProcessOwnersPublish", func(t *testing.T) {
		if _, _, err := s.PublishDefinition(ctx, admin, Draft{Source: []byte(tinyDefinition), Name: "tiny"}); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Fatalf("an admin: %v", err)
		}
		v, created, err := s.PublishDefinition(ctx, owner, Draft{Source: []byte(tinyDefinition), Name: "tiny"})
		if err != nil || !created || v.Version != 1 {
			t.Fatalf("the owner: %+v %v %v", v, created, err)
		}
		if v, created, err := s.PublishDefinition(ctx, owner, Draft{Source: []byte(tinyDefinition), Name: "tiny"}); err != nil || created || v.Version != 1 {
			t.Fatalf("the same text again: %+v %v %v", v, created, err)
		}
	})
	t.Run("RefusesANameThatIsNotTheEditedOneAtItsLine", func(t *testing.T) {
		_, err := s.CheckDefinition(ctx, owner, Draft{Source: []byte("# a comment\n" + tinyDefinition), Name: "other"})
		if d := detail(t, err); engine.ErrorCode(err) != engine.EINVALID || d.Line != 2 || d.Column != 7 || d.Field != "name" {
			t.Fatalf("%v at %+v, want 2:7", err, d)
		}
	})
	t.Run("RefusesANewDefinitionOfATakenNameAtItsLine", func(t *testing.T) {
		_, err := s.CheckDefinition(ctx, owner, Draft{Source: []byte(tinyDefinition), New: true})
		if d := detail(t, err); engine.ErrorCode(err) != engine.EINVALID || d.Line != 1 || !strings.Contains(d.Message, "taken") {
			t.Fatalf("%v at %+v", err, d)
		}
		fresh := strings.Replace(tinyDefinition, "name: tiny", "name: fresh", 1)
		if _, err := s.CheckDefinition(ctx, owner, Draft{Source: []byte(fresh), New: true}); err != nil {
			t.Fatalf("a new name: %v", err)
		}
	})
	t.Run("RefusesTooLargeWhateverTheDoor", func(t *testing.T) {
		big := "# " + strings.Repeat("x", MaxDefinitionBytes) + "\n" + tinyDefinition
		if _, err := s.CheckDefinition(ctx, owner, Draft{Source: []byte(big)}); engine.ErrorCode(err) != engine.EINVALID || !strings.Contains(err.Error(), "256 KiB") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("DiffsAndDrawsVersions", func(t *testing.T) {
		changed := strings.Replace(tinyDefinition, "roles: [requester]", "roles: [requester, service-desk]", 1)
		if _, created, err := s.PublishDefinition(ctx, owner, Draft{Source: []byte(changed), Name: "tiny"}); err != nil || !created {
			t.Fatalf("publishing v2: %v %v", created, err)
		}
		diff, err := s.DiffDefinition(ctx, "tiny", 1, 0)
		if err != nil || !strings.Contains(diff, "+++ tiny v2") || !strings.Contains(diff, "+  a: {actions: {go: {to: b, roles: [requester, service-desk]}}}") {
			t.Fatalf("%v\n%s", err, diff)
		}
		if _, err := s.DiffDefinition(ctx, "tiny", 0, 2); engine.ErrorCode(err) != engine.EBADREQUEST {
			t.Fatalf("without from: %v", err)
		}
		if g, err := s.DrawDefinition(ctx, "tiny", 1, ""); err != nil || !strings.HasPrefix(g, "stateDiagram") {
			t.Fatalf("mermaid: %v %q", err, g)
		}
		if g, err := s.DrawDefinition(ctx, "tiny", 0, GraphSVG); err != nil || !strings.Contains(g, "<svg") || !strings.Contains(g, "<title>tiny</title>") {
			t.Fatalf("svg: %v %.200q", err, g)
		}
		if _, err := s.DrawDefinition(ctx, "tiny", 0, "png"); engine.ErrorCode(err) != engine.EBADREQUEST {
			t.Fatalf("an unknown format: %v", err)
		}
	})
	t.Run("AnswersWithinTheBudget", func(t *testing.T) {
		// One slot; the budget is shorter than any check of this definition.
		s.heavy = newWorkLimiter(1, 10*time.Millisecond, time.Millisecond)
		heavy := []byte(heavyDefinition(200 << 10))
		_, err := s.CheckDefinition(ctx, owner, Draft{Source: heavy})
		if engine.ErrorCode(err) != engine.EINVALID || !strings.Contains(err.Error(), "definition too complex to check within 1ms") {
			t.Fatalf("%v", err)
		}
		// The check goes on in its slot: the next one waits 10ms, then is told
		// the server is busy.
		if _, err := s.CheckDefinition(ctx, owner, Draft{Source: []byte(tinyDefinition)}); engine.ErrorCode(err) != engine.EUNAVAILABLE || !strings.Contains(err.Error(), "busy") {
			t.Fatalf("while the slot is taken: %v", err)
		}
		// Once the check finishes, its slot is free again.
		s.heavy.budget = heavyBudget
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := s.CheckDefinition(ctx, owner, Draft{Source: []byte(tinyDefinition)})
			if err == nil {
				break
			}
			if engine.ErrorCode(err) != engine.EUNAVAILABLE || time.Now().After(deadline) {
				t.Fatalf("after the check: %v", err)
			}
		}
		if _, err := s.CheckDefinition(ctx, owner, Draft{Source: heavy}); err != nil {
			t.Fatalf("the heavy definition within the real budget: %v", err)
		}
	})
}
