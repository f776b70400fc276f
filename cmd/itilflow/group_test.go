package main

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/pgcluster/pgtest"
	"github.com/itilflow/itilflow/store"
)

func TestGroupCommand(t *testing.T) {
	ctx := context.Background()
	_, vars := migratedDatabase(t, nil)
	for _, id := range []string{"cara", "cole", "carl"} {
		if err := run(ctx, []string{"user", "add", id, "--roles", "cab-member"}, vars, io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"group", "add", "cab", "--name", "Change Advisory Board", "--members", "cole, cara"}, vars, &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "group cab saved with members cara, cole") {
		t.Fatalf("group add: %v %q", err, out.String())
	}
	err := run(ctx, []string{"group", "add", "cab", "--members", "cara,ghost"}, vars, io.Discard, io.Discard)
	if engine.ErrorCode(err) != engine.ENOTFOUND || !strings.Contains(err.Error(), `"ghost"`) {
		t.Fatalf("unknown member: %v", err)
	}
	if err := run(ctx, []string{"group", "add", "change-managers", "--members", "carl"}, vars, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"group", "list"}, vars, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !slices.Equal(strings.Fields(lines[1]), []string{"cab", "Change", "Advisory", "Board", "cara,cole"}) ||
		!slices.Equal(strings.Fields(lines[2]), []string{"change-managers", "change-managers", "carl"}) {
		t.Fatalf("group list:\n%s", out.String())
	}
	for _, args := range [][]string{{"group"}, {"group", "add"}, {"group", "add", "--name", "x"}, {"group", "remove", "cab"}} {
		if err := run(ctx, args, vars, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// TestDevUsersFileHasAnAdminAndGroups seeds the shipped dev-users.yaml: the
// groups follow the users, an admin exists, and a second start leaves the audit
// log as the first left it.
func TestDevUsersFileHasAnAdminAndGroups(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t), store.WithAuditKey([]byte("the dev users test's audit key, 32 bytes")))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := seedDevUsers(ctx, st, "../../definitions/dev-users.yaml"); err != nil {
			t.Fatal(err)
		}
	}
	if u, err := st.UserByToken(ctx, "dev-admin"); err != nil || !slices.Contains(u.Roles, "admin") {
		t.Fatalf("dev-admin: %+v %v", u, err)
	}
	cab, err := st.Members(ctx, nil, []string{"cab"})
	if err != nil || !slices.Equal(cab, []string{"cara.cab", "cody.cab", "cole.cab"}) {
		t.Fatalf("the CAB: %v %v", cab, err)
	}
	both, err := st.Members(ctx, []string{"cab-member"}, []string{"cab", "change-managers"})
	if err != nil || !slices.Equal(both, []string{"cara.cab", "carl.change", "cody.cab", "cole.cab"}) {
		t.Fatalf("CAB members and change managers: %v %v", both, err)
	}
	recs, err := st.Audit(ctx, store.AuditFilter{Action: store.AuditGroup, Limit: 10})
	if err != nil || len(recs) != 3 || recs[0].Actor != devSeeder { // cab, change-managers, users-hosting
		t.Fatalf("audit of the demo groups: %+v %v", recs, err)
	}
}
