package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

// saveUsers creates users, each with the roles after the colon ("ann:cab,x").
func saveUsers(t *testing.T, s *store.Store, specs ...string) {
	t.Helper()
	for _, spec := range specs {
		id, roles, _ := strings.Cut(spec, ":")
		u := store.User{ID: id, Name: id}
		if roles != "" {
			u.Roles = strings.Split(roles, ",")
		}
		if err := s.SaveUser(context.Background(), u, "cli:root"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGroups(t *testing.T) {
	s, ctx := open(t), context.Background()
	saveUsers(t, s, "cara", "cole", "cody", "carl")

	t.Run("SetsMembersExactly", func(t *testing.T) {
		if err := s.SaveGroup(ctx, store.Group{ID: "cab", Name: "CAB", Members: []string{"cole", "cara", "cole"}}, "ada"); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveGroup(ctx, store.Group{ID: "cab", Name: "Change Advisory Board", Members: []string{"cody", "cara"}}, "ada"); err != nil {
			t.Fatal(err)
		}
		g, err := s.GroupByID(ctx, "cab")
		if err != nil || g.Name != "Change Advisory Board" || !slices.Equal(g.Members, []string{"cara", "cody"}) || g.CreatedAt.IsZero() {
			t.Fatalf("group %+v, %v", g, err)
		}
	})
	t.Run("ListsGroupsWithSortedMembers", func(t *testing.T) {
		if err := s.SaveGroup(ctx, store.Group{ID: "change-managers", Name: "Change managers", Members: []string{"carl"}}, "ada"); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveGroup(ctx, store.Group{ID: "empty", Name: "Nobody yet"}, "ada"); err != nil {
			t.Fatal(err)
		}
		gs, err := s.Groups(ctx)
		if err != nil || len(gs) != 3 {
			t.Fatalf("groups %+v, %v", gs, err)
		}
		var ids []string
		for _, g := range gs {
			ids = append(ids, g.ID)
		}
		if !slices.Equal(ids, []string{"cab", "change-managers", "empty"}) || !slices.Equal(gs[0].Members, []string{"cara", "cody"}) ||
			gs[2].Members == nil || len(gs[2].Members) != 0 {
			t.Fatalf("groups %+v", gs)
		}
	})
	t.Run("UnknownMemberIsNotFoundAndChangesNothing", func(t *testing.T) {
		err := s.SaveGroup(ctx, store.Group{ID: "cab", Name: "CAB", Members: []string{"cara", "nobody"}}, "ada")
		if engine.ErrorCode(err) != engine.ENOTFOUND || !strings.Contains(err.Error(), `"nobody"`) {
			t.Fatalf("unknown member: %v", err)
		}
		if g, _ := s.GroupByID(ctx, "cab"); g.Name != "Change Advisory Board" || !slices.Equal(g.Members, []string{"cara", "cody"}) {
			t.Fatalf("the refused save changed the group: %+v", g)
		}
	})
	t.Run("RefusesBadIDs", func(t *testing.T) {
		for _, g := range []store.Group{{ID: ""}, {ID: "a b"}, {ID: engine.System.ID}, {ID: "ok", Members: []string{"two words"}}} {
			if err := s.SaveGroup(ctx, g, "ada"); engine.ErrorCode(err) != engine.EINVALID {
				t.Errorf("group %+v: %v", g, err)
			}
		}
		if _, err := s.GroupByID(ctx, "ok"); engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Errorf("unknown group: %v", err)
		}
	})
	t.Run("AuditsEachChangeOnly", func(t *testing.T) {
		before, _ := s.Audit(ctx, store.AuditFilter{Action: store.AuditGroup, Limit: 100})
		if len(before) != 4 || before[0].Actor != "ada" || before[0].Target != "group:cab" {
			t.Fatalf("audit records of groups: %+v", before)
		}
		// Saving a group as it is (members in another order) records nothing.
		if err := s.SaveGroup(ctx, store.Group{ID: "cab", Name: "Change Advisory Board", Members: []string{"cody", "cara"}}, "ada"); err != nil {
			t.Fatal(err)
		}
		after, _ := s.Audit(ctx, store.AuditFilter{Action: store.AuditGroup, Limit: 100})
		if len(after) != len(before) {
			t.Fatalf("an unchanged save was audited: %d records, want %d", len(after), len(before))
		}
		if v, err := s.VerifyAudit(ctx); err != nil || !v.OK {
			t.Fatalf("audit chain: %+v, %v", v, err)
		}
	})
	t.Run("UsersShowTheirGroups", func(t *testing.T) {
		users, err := s.Users(ctx)
		if err != nil || len(users) != 4 {
			t.Fatalf("users %+v, %v", users, err)
		}
		if users[0].ID != "cara" || !slices.Equal(users[0].Groups, []string{"cab"}) || users[3].ID != "cole" || len(users[3].Groups) != 0 {
			t.Fatalf("users %+v", users)
		}
	})
}

func TestMembers(t *testing.T) {
	s, ctx := open(t), context.Background()
	saveUsers(t, s, "zoe:cab-member", "cara:cab-member,tester", "Bob:change-manager", "carl:change-manager", "ian:implementer", "ida")
	for _, g := range []store.Group{
		{ID: "cab", Name: "CAB", Members: []string{"cara", "ida", "zoe"}},
		{ID: "night-shift", Name: "Night shift", Members: []string{"ida", "ian"}},
	} {
		if err := s.SaveGroup(ctx, g, "ada"); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name          string
		roles, groups []string
		want          []string
	}{
		{"Nothing", nil, nil, []string{}},
		{"OneRole", []string{"change-manager"}, nil, []string{"Bob", "carl"}}, // byte order: upper case first
		{"SeveralRolesOnceEach", []string{"cab-member", "tester"}, nil, []string{"cara", "zoe"}},
		{"OneGroup", nil, []string{"night-shift"}, []string{"ian", "ida"}},
		{"PersonInTwoGroupsOnce", nil, []string{"cab", "night-shift"}, []string{"cara", "ian", "ida", "zoe"}},
		{"RolesAndGroupsOnceEach", []string{"cab-member", "implementer"}, []string{"cab"}, []string{"cara", "ian", "ida", "zoe"}},
		{"UnknownAddNoOne", []string{"nobody-has-this"}, []string{"no-such-group"}, []string{}},
		{"UnknownBesideKnown", []string{"change-manager", "ghost"}, []string{"ghosts"}, []string{"Bob", "carl"}},
		{"EmptyLists", []string{}, []string{}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Members(ctx, tc.roles, tc.groups)
			if err != nil || got == nil || !slices.Equal(got, tc.want) {
				t.Fatalf("Members(%v, %v) = %#v, %v; want %v", tc.roles, tc.groups, got, err, tc.want)
			}
		})
	}
	t.Run("FollowsMembershipChanges", func(t *testing.T) {
		if err := s.SaveGroup(ctx, store.Group{ID: "cab", Name: "CAB", Members: []string{"zoe"}}, "ada"); err != nil {
			t.Fatal(err)
		}
		got, err := s.Members(ctx, nil, []string{"cab"})
		if err != nil || !slices.Equal(got, []string{"zoe"}) {
			t.Fatalf("after the CAB shrank: %v, %v", got, err)
		}
	})
}
