package engine_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/itilflow/itilflow/engine"
)

const relationsDefinition = `
name: ticket
input:
  title: {type: string, required: true}
  caller: {type: user}
variables:
  watchers: {type: list}
initial: open
states:
  open:
    actions:
      resolve: {to: resolved, roles: [service-desk]}
      assign: {to: open, roles: [service-desk], do: [{reassign: {user: "= input.caller"}}, {reassign: {group: tier1}}]}
      work: {to: open, roles: [$assignee]}
  resolved:
    actions:
      reopen: {to: open, roles: [$started_by, $input.caller, service-desk]}
      close: {to: closed, roles: [requester]}
    timers:
      - {after: 7d, action: close}
  closed:
    final: true
    on_enter: [{notify: {role: problem-manager}}, {notify: {user: "= started_by"}}]
visibility:
  people: [$vars.watchers]
`

func TestRelationsLetThePeopleOfAProcessAct(t *testing.T) {
	def := mustParse(t, relationsDefinition)
	rita := engine.Actor{ID: "rita", Roles: []string{"requester"}}
	rick := engine.Actor{ID: "rick", Roles: []string{"requester"}}
	cal := engine.Actor{ID: "cal", Roles: []string{"requester"}}
	in, err := engine.Start(def, "ticket-000001", 1, map[string]any{"title": "Printer", "caller": "cal"}, rita, "", t0)
	if err != nil {
		t.Fatal(err)
	}
	act(t, def, in, "resolve", desk, nil, t0)

	t.Run("TheStarterMayReopen", func(t *testing.T) {
		if _, err := in.Check(def, engine.ActionRequest{Action: "reopen", Actor: rita}, t0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("TheCallerMayReopen", func(t *testing.T) {
		if _, err := in.Check(def, engine.ActionRequest{Action: "reopen", Actor: cal}, t0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("AnotherRequesterMayNot", func(t *testing.T) {
		_, err := in.Check(def, engine.ActionRequest{Action: "reopen", Actor: rick}, t0)
		if engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Fatalf("got %v, want forbidden", err)
		}
		for _, want := range []string{"service-desk", "the person who started the process (rita)", "the person in input.caller (cal)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("refusal %q does not say %q", err, want)
			}
		}
		if got := def.AllowedActions(in.State, rick, in.Parties()); !slices.Equal(got, []string{"close"}) {
			t.Errorf("rick may take %v, want [close] (requester is still a role)", got)
		}
	})
	t.Run("AnEmptyAssigneeLetsNobodyIn", func(t *testing.T) {
		fresh, _ := engine.Start(def, "ticket-000002", 1, map[string]any{"title": "x"}, rita, "", t0)
		nobody := engine.Actor{ID: "", Roles: nil}
		if _, err := fresh.Check(def, engine.ActionRequest{Action: "work", Actor: nobody}, t0); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Fatalf("an empty id matched an empty assignee: %v", err)
		}
	})
	t.Run("TheAssigneeMayWork", func(t *testing.T) {
		in2, _ := engine.Start(def, "ticket-000003", 1, map[string]any{"title": "x", "caller": "cal"}, rita, "", t0)
		act(t, def, in2, "assign", desk, nil, t0)
		if _, err := in2.Check(def, engine.ActionRequest{Action: "work", Actor: cal}, t0); err != nil {
			t.Fatalf("the assignee was refused: %v", err)
		}
	})
}

func TestRelationsAreChecked(t *testing.T) {
	cases := []struct {
		name, roles, want string
	}{
		{"UnknownRelation", "[$owner]", `unknown relation "$owner"`},
		{"UnknownField", "[$input.calller]", `unknown input field "calller" (did you mean "caller"?)`},
		{"FieldOfWrongType", "[$input.count]", `of type int, which cannot hold a user id`},
		{"UnknownVariable", "[$vars.nope]", `unknown variable "nope"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := `
name: x
input: {caller: {type: user}, count: {type: int}}
initial: a
states:
  a: {actions: {go: {to: b, roles: ` + c.roles + `}}}
  b: {final: true}
`
			ps := problems(t, src)
			if len(ps) != 1 || !strings.Contains(ps[0].Message, c.want) || ps[0].Line != 6 {
				t.Fatalf("problems %+v, want one at line 6 saying %q", ps, c.want)
			}
		})
	}
	t.Run("NotInApprovers", func(t *testing.T) {
		ps := problems(t, `
name: x
initial: a
states:
  a: {approval: {approvers: {roles: [$started_by]}, quorum: any, approved: b, rejected: b}}
  b: {final: true}
`)
		if len(ps) != 1 || !strings.Contains(ps[0].Message, "relation, which is not allowed here") {
			t.Fatalf("problems %+v", ps)
		}
	})
	t.Run("VisibilityPeopleAreRelations", func(t *testing.T) {
		ps := problems(t, `
name: x
initial: a
states:
  a: {actions: {go: {to: b}}}
  b: {final: true}
visibility: {people: [watchers], roles: [$started_by]}
`)
		if len(ps) != 2 || !strings.Contains(ps[0].Message, "not a relation") || !strings.Contains(ps[1].Message, "not allowed here") {
			t.Fatalf("problems %+v", ps)
		}
	})
}

func TestWhoSeesAProcess(t *testing.T) {
	def := mustParse(t, relationsDefinition)
	t.Run("DefaultViewerRolesAreTheStaffRoles", func(t *testing.T) {
		want := []string{"problem-manager", "service-desk", "tier1"}
		if got := def.ViewerRoles(); !slices.Equal(got, want) {
			t.Fatalf("viewer roles %v, want %v (never requester, never a relation)", got, want)
		}
	})
	t.Run("VisibilityRolesReplaceTheDefault", func(t *testing.T) {
		d := mustParse(t, strings.Replace(relationsDefinition, "visibility:\n", "visibility:\n  roles: [cab-member]\n", 1))
		if got := d.ViewerRoles(); !slices.Equal(got, []string{"cab-member"}) {
			t.Fatalf("viewer roles %v", got)
		}
	})
	t.Run("ParticipantsAreThePeopleItNames", func(t *testing.T) {
		rita := engine.Actor{ID: "rita", Roles: []string{"requester"}}
		in, err := engine.Start(def, "ticket-000001", 1, map[string]any{"title": "Printer", "caller": "cal"}, rita, "", t0)
		if err != nil {
			t.Fatal(err)
		}
		act(t, def, in, "assign", desk, nil, t0)
		in.Vars["watchers"] = []any{"wes"}
		got := def.Participants(in.View(def, t0), in.Pending)
		want := []string{"cal", "rita", "sam", "wes"}
		if !slices.Equal(got, want) {
			t.Fatalf("participants %v, want %v", got, want)
		}
	})
}
