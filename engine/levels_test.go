package engine_test

import (
	"strings"
	"testing"

	"github.com/itilflow/itilflow/engine"
)

// The behaviours of b75fb54 shipped without a level; they are gated by
// LevelRolesResolvedBeside and LevelBoardDutiesRechecked, and definitions
// below those levels decide as their histories from before it recorded.

// ownerOrCab is voted on by the change's owner, given by an expression, or
// by anyone holding cab-member: a quorum that does not count the approvers.
const ownerOrCab = `
name: change
input:
  owner: {type: user}
initial: authorise
states:
  authorise:
    approval:
      approvers: {users: ["= input.owner"], roles: [cab-member]}
      quorum: any
      approved: done
      rejected: done
  done: {final: true}
`

// atLevel parses src and stamps it with level, as if published then.
func atLevel(t *testing.T, src string, level int) *engine.Definition {
	t.Helper()
	def := mustParse(t, src)
	def.Level = level
	return def
}

func notifiedUsers(in *engine.Instance) []string {
	var out []string
	for _, e := range in.Pending {
		if u, ok := e.Data["user"].(string); ok && e.Type == engine.EventNotification {
			out = append(out, u)
		}
	}
	return out
}

func TestRolesBesideExpressionsAreResolvedFromTheirLevel(t *testing.T) {
	cara := engine.ActionRequest{Action: "approve", Actor: engine.Actor{ID: "cara", Roles: []string{"cab-member"}}}
	t.Run("Before", func(t *testing.T) {
		def := atLevel(t, ownerOrCab, engine.LevelRolesResolvedBeside-1)
		in := start(t, def, map[string]any{"owner": "olga"})
		if n := eventTypes(in)[engine.EventApproversRequested]; n != 0 {
			t.Fatalf("the roles were sent to the directory (%d requests)", n)
		}
		if strings.Join(in.Electorate, ",") != "olga" {
			t.Fatalf("electorate %v, want the owner alone", in.Electorate)
		}
		if got := strings.Join(notifiedUsers(in), ","); got != "olga,olga" {
			t.Fatalf("notified %s, want olga twice, as then", got)
		}
		if _, err := in.Check(def, cara, t0); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Fatalf("a role holder outside the electorate may vote: %v", err)
		}
	})
	t.Run("From", func(t *testing.T) {
		def := atLevel(t, ownerOrCab, engine.LevelRolesResolvedBeside)
		in := start(t, def, map[string]any{"owner": "olga"})
		if len(in.Effects) != 1 || in.Effects[0].Resolve == nil || strings.Join(in.Effects[0].Resolve.Roles, ",") != "cab-member" {
			t.Fatalf("effects %+v, want the role resolved", in.Effects)
		}
		if _, err := in.Check(def, cara, t0); engine.ErrorCode(err) != engine.EUNAVAILABLE {
			t.Fatalf("a vote before the directory answered: %v", err)
		}
		in.CompleteResolve(def, in.Effects[0].ID, []string{"cara", "cole"}, "", t0)
		if got := strings.Join(notifiedUsers(in), ","); got != "cara,cole,olga" {
			t.Fatalf("notified %s, want each approver once", got)
		}
		if err := in.Apply(def, cara, t0); err != nil || in.State != "done" {
			t.Fatalf("the role holder's vote: %v, state %s", err, in.State)
		}
	})
}

func TestRolesBesideGroupsAreResolvedFromTheirLevel(t *testing.T) {
	src := strings.Replace(ownerOrCab, `users: ["= input.owner"]`, `groups: [cab]`, 1)
	for level, want := range map[int]string{engine.LevelRolesResolvedBeside - 1: "", engine.LevelRolesResolvedBeside: "cab-member"} {
		in := start(t, atLevel(t, src, level), nil)
		if len(in.Effects) != 1 || in.Effects[0].Resolve == nil {
			t.Fatalf("level %d: effects %+v, want the group resolved", level, in.Effects)
		}
		if got := strings.Join(in.Effects[0].Resolve.Roles, ","); got != want {
			t.Errorf("level %d: roles resolved %q, want %q", level, got, want)
		}
	}
}

const meeting = `
name: cab
variables:
  changes: {type: list}
  problems: {type: list}
initial: agenda
states:
  agenda:
    actions:
      open:
        to: meeting
        do: [{collect: {process: change, into: changes}}, {collect: {process: problem, into: problems}}]
  meeting:
    approval:
      approvers: {users: [ann, bob]}
      quorum: all
      agenda: changes
      approved: done
      rejected: done
  done: {final: true}
`

func TestAgendaItemsWithoutDetailsFromTheirLevel(t *testing.T) {
	// The details a meeting keeps are those of its last collect step: after
	// the problems are collected, nothing says who has a part in change-1.
	vote := engine.ActionRequest{Action: "approve", Actor: engine.Actor{ID: "ann"}, Item: "change-1"}
	for _, c := range []struct {
		level int
		code  string // of the vote's refusal
		items int    // the view lists
	}{
		{engine.LevelBoardDutiesRechecked - 1, "", 1},
		{engine.LevelBoardDutiesRechecked, engine.EINVALID, 0},
	} {
		def := atLevel(t, meeting, c.level)
		in, err := engine.Start(def, "cab-1", 1, nil, engine.Actor{ID: "carl"}, "", t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := in.Apply(def, engine.ActionRequest{Action: "open", Actor: engine.System}, t0); err != nil {
			t.Fatal(err)
		}
		changes, problems := in.Effects[0].ID, in.Effects[1].ID
		in.CompleteCollect(def, changes, []engine.AgendaItem{{ID: "change-1", StartedBy: "rita"}}, "", t0)
		in.CompleteCollect(def, problems, []engine.AgendaItem{{ID: "problem-1", StartedBy: "pia"}}, "", t0)
		if _, err := in.Check(def, vote, t0); engine.ErrorCode(err) != c.code {
			t.Errorf("level %d: a vote on an item without details: %v, want %q", c.level, err, c.code)
		}
		if items := len(in.View(def, t0).Approval.Items); items != c.items {
			t.Errorf("level %d: the view lists %d items, want %d", c.level, items, c.items)
		}
	}
}

const decidedByBoard = `
name: change
input:
  owner: {type: user}
initial: authorising
states:
  authorising:
    approval:
      board: cab
      exclude: [input.owner]
      approved: done
      rejected: done
  done: {final: true}
`

func TestReleasesAreRecheckedFromTheirLevelAndAdmittedByTheRule(t *testing.T) {
	ownerVoted := engine.Release{Meeting: "cab-1", Board: "cab", Process: "incident-000001", State: "authorising", Outcome: engine.OutcomeApproved,
		Votes: []engine.Vote{{Actor: "olga", Decision: engine.ActionApprove, At: t0}}}
	t.Run("Before", func(t *testing.T) {
		def := atLevel(t, decidedByBoard, engine.LevelBoardDutiesRechecked-1)
		in := start(t, def, map[string]any{"owner": "olga"})
		if err := in.CheckRelease(def, ownerVoted); err != nil {
			t.Fatalf("replaying an old history must decide as it was recorded: %v", err)
		}
		if err := in.AdmitRelease(def, ownerVoted); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Fatalf("a new release counting the owner was admitted: %v", err)
		}
	})
	t.Run("From", func(t *testing.T) {
		def := atLevel(t, decidedByBoard, engine.LevelBoardDutiesRechecked)
		in := start(t, def, map[string]any{"owner": "olga"})
		if err := in.CheckRelease(def, ownerVoted); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Fatalf("a release counting the owner: %v", err)
		}
	})
	t.Run("NamingNoBoard", func(t *testing.T) {
		// Before, a release naming no board was taken by an approval that
		// names none.
		def := atLevel(t, ownerOrCab, engine.LevelBoardDutiesRechecked-1)
		in := start(t, def, map[string]any{"owner": "olga"})
		unnamed := engine.Release{Meeting: "cab-1", Process: "incident-000001", State: "authorise", Outcome: engine.OutcomeApproved}
		if err := in.CheckRelease(def, unnamed); err != nil {
			t.Fatalf("replaying an old history must decide as it was recorded: %v", err)
		}
		if err := in.AdmitRelease(def, unnamed); engine.ErrorCode(err) != engine.EINVALID {
			t.Fatalf("a new release naming no board was admitted: %v", err)
		}
	})
}
