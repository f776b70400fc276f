package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

const noticeDefinition = `name: notice
input:
  service: {type: string, required: true}
  affected: {type: list}
initial: open
states:
  open:
    actions:
      announce:
        to: open
        do:
          - notify: {users: [ada, "= input.affected", "= started_by"]}
          - notify: {role: "= 'owner-' + input.service"}
          - notify: {group: "= ['users-' + input.service, 'watchers']"}
          - notify: {group: cab}
      close: {to: closed}
  closed: {final: true}
`

func notified(in *engine.Instance) []string {
	var out []string
	for _, e := range in.Pending {
		if e.Type != engine.EventNotification {
			continue
		}
		for _, k := range []string{"role", "user"} {
			if s, ok := e.Data[k].(string); ok {
				out = append(out, k+":"+s)
			}
		}
	}
	return out
}

func TestNotifyPeopleNotOnlyRoles(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	def := mustParse(t, noticeDefinition)
	in, err := engine.Start(def, "n-1", 1, map[string]any{"service": "mail", "affected": []any{"bo", "ada", "cy"}}, engine.Actor{ID: "rita"}, "", t0)
	if err != nil {
		t.Fatal(err)
	}
	in.Pending = nil
	if err := in.Apply(def, engine.ActionRequest{Action: "announce", Actor: engine.Actor{ID: "dan"}}, t0); err != nil {
		t.Fatal(err)
	}
	t.Run("UsersAndComputedRolesAreToldAtOnce", func(t *testing.T) {
		got := strings.Join(notified(in), " ")
		if got != "user:ada user:bo user:cy user:rita role:owner-mail" {
			t.Fatalf("notified %s", got)
		}
	})
	t.Run("GroupsAreResolvedByTheWorkflowAndRecorded", func(t *testing.T) {
		if len(in.Effects) != 2 || in.Effects[0].Recipients == nil || strings.Join(in.Effects[0].Recipients.Groups, ",") != "users-mail,watchers" ||
			strings.Join(in.Effects[1].Recipients.Groups, ",") != "cab" {
			t.Fatalf("effects %+v", in.Effects)
		}
		in.Pending = nil
		in.CompleteRecipients(in.Effects[0].ID, []string{"zed", "amy", "zed"}, "", t0.Add(time.Second))
		var resolved *engine.Event
		for i, e := range in.Pending {
			if e.Type == engine.EventRecipientsResolved {
				resolved = &in.Pending[i]
			}
		}
		if resolved == nil || strings.Join(resolved.Data["recipients"].([]string), ",") != "amy,zed" {
			t.Fatalf("recipients_resolved %+v", resolved)
		}
		if got := strings.Join(notified(in), " "); got != "user:amy user:zed" {
			t.Fatalf("group members told: %s", got)
		}
		in.Pending = nil
		in.CompleteRecipients(in.Effects[0].ID, nil, "directory down for good", t0.Add(2*time.Second))
		if len(in.Pending) != 1 || in.Pending[0].Type != engine.EventStepFailed || len(in.Effects) != 0 {
			t.Fatalf("a failed resolution: %+v, effects %+v", in.Pending, in.Effects)
		}
	})
	t.Run("EarlierLevelsToldTheRoleNamedAfterTheText", func(t *testing.T) {
		old := mustParse(t, noticeDefinition)
		old.Level = engine.LevelTimersWait
		in, _ := engine.Start(old, "n-2", 1, map[string]any{"service": "mail"}, engine.Actor{ID: "rita"}, "", t0)
		in.Pending = nil
		_ = in.Apply(old, engine.ActionRequest{Action: "announce", Actor: engine.Actor{ID: "dan"}}, t0)
		if got := strings.Join(notified(in), " "); !strings.Contains(got, "role:= 'owner-' + input.service") {
			t.Fatalf("level %d notified %s, want the role as recorded then", old.Level, got)
		}
	})
}

func TestExpressionsWhereALiteralIsExpectedAreRefused(t *testing.T) {
	base := `name: bad
input:
  team: {type: string}
  people: {type: list}
initial: open
states:
  open:
    actions:
      go: {to: done, roles: ROLES, do: [STEP]}
  done: {final: true}
`
	for _, c := range []struct{ name, roles, step, want string }{
		{"ARoleOfAnAction", `["= input.team"]`, `{notify: {role: desk}}`, `states.open.actions.go.roles[0]: expected a name, got the expression`},
		{"AReassignGroup", `[desk]`, `{reassign: {group: "= input.team"}}`, `reassign.group: expected a name, got the expression`},
		{"AListForOneUser", `[desk]`, `{notify: {user: "= input.people"}}`, `a user needs a string (to notify several people, write users:)`},
		{"ANumberForARole", `[desk]`, `{notify: {role: "= 1"}}`, `needs a name or a list of names`},
		{"TwoRecipients", `[desk]`, `{notify: {role: desk, users: [ada]}}`, `notify needs exactly one of role, user, users or group`},
		{"UsersAsALiteral", `[desk]`, `{notify: {users: ada}}`, `expected a list of users or an expression giving them`},
		{"AMisspeltKey", `[desk]`, `{notify: {gruop: cab}}`, `unknown key "gruop" (did you mean "group"?)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(strings.Replace(base, "ROLES", c.roles, 1), "STEP", c.step, 1)
			_, err := engine.Parse([]byte(src))
			if err == nil || !strings.Contains(errorText(err), c.want) {
				t.Fatalf("Parse = %v, want %q", errorText(err), c.want)
			}
		})
	}
}
