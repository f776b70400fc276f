package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

func TestIDAndRoleRules(t *testing.T) {
	for _, id := range []string{"ana", "Ana.Requester", "auth0|5f7c8ec7b1", "ana@example.com", strings.Repeat("a", 255), "systemd", "system-admin"} {
		if err := store.CheckID(id); err != nil {
			t.Errorf("%q refused: %v", id, err)
		}
	}
	for _, id := range []string{"", "system", " system", "system ", "SYSTEM", "System", "sYsTeM", "System\u200b", "\u200bsystem",
		"ｓｙｓｔｅｍ", "a b", "a\tb", "ana\x00", "ana\x7f", "anä", "ana\u202e", strings.Repeat("a", 256)} {
		if err := store.CheckID(id); err == nil {
			t.Errorf("%q accepted", id)
		}
	}
	for _, role := range []string{"cab-member", "tier1", "Change_Manager"} {
		if err := store.CheckRole(role); err != nil {
			t.Errorf("role %q refused: %v", role, err)
		}
	}
	for _, role := range []string{"", "cab member", "a,b", "admin\u200b", "rôle", "\x01"} {
		if err := store.CheckRole(role); err == nil {
			t.Errorf("role %q accepted", role)
		}
	}
}

// TestDirectoryRefusesWhatJWTsMayNot: the directory applies the same rules.
func TestDirectoryRefusesWhatJWTsMayNot(t *testing.T) {
	s, ctx := open(t), context.Background()
	for _, id := range []string{"SYSTEM", "System\u200b", "anä"} {
		if err := s.SaveUser(ctx, store.User{ID: id, Name: "x"}, "cli:root"); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("user %q: %v", id, err)
		}
		if err := s.SaveGroup(ctx, store.Group{ID: "g", Members: []string{id}}, "cli:root"); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("member %q: %v", id, err)
		}
	}
	if err := s.SaveUser(ctx, store.User{ID: "ana", Roles: []string{"admin\u200b"}}, "cli:root"); engine.ErrorCode(err) != engine.EINVALID {
		t.Errorf("role with a zero-width space: %v", err)
	}
}
