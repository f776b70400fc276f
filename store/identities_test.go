package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

func TestTokensAreIssuedOnceAndRevoked(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if err := s.SaveUser(ctx, store.User{ID: "ann", Name: "Ann", Roles: []string{"cab-member"}}, "cli:root"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IssueToken(ctx, "nobody", "", "cli:root"); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Fatalf("token for an unknown user: %v", err)
	}
	laptop, err := s.IssueToken(ctx, "ann", "laptop", "cli:root")
	if err != nil || !strings.HasPrefix(laptop, "itf_") {
		t.Fatalf("token %q, %v", laptop, err)
	}
	ci, _ := s.IssueToken(ctx, "ann", "ci", "cli:root")
	if u, err := s.UserByToken(ctx, laptop); err != nil || u.ID != "ann" || u.Roles[0] != "cab-member" {
		t.Fatalf("user by token: %+v, %v", u, err)
	}
	if n, err := s.RevokeTokens(ctx, "ann", "laptop", "cli:root"); err != nil || n != 1 {
		t.Fatalf("revoked %d, %v", n, err)
	}
	if _, err := s.UserByToken(ctx, laptop); engine.ErrorCode(err) != engine.EUNAUTHORIZED {
		t.Fatalf("revoked token still works: %v", err)
	}
	if _, err := s.UserByToken(ctx, ci); err != nil {
		t.Fatalf("the other token was revoked too: %v", err)
	}
	// Each change is in the audit chain, and the chain holds.
	v, err := s.VerifyAudit(ctx)
	if err != nil || !v.OK || v.Records != 4 {
		t.Fatalf("audit: %+v, %v", v, err)
	}
	if err := s.SaveUser(ctx, store.User{ID: "bad id"}, "cli:root"); engine.ErrorCode(err) != engine.EINVALID {
		t.Fatalf("user id with a space: %v", err)
	}
}

func TestSaveUserRefusesBadRoles(t *testing.T) {
	s, ctx := open(t), context.Background()
	for _, roles := range [][]string{{""}, {"cab member"}, {"ok", "a,b"}} {
		err := s.SaveUser(ctx, store.User{ID: "ann", Name: "Ann", Roles: roles}, "cli:root")
		var e *engine.Error
		if !errors.As(err, &e) || e.Code != engine.EINVALID || len(e.Details) != 1 || !strings.HasPrefix(e.Details[0].Field, "roles[") {
			t.Errorf("roles %q: %v", roles, err)
		}
	}
}

func TestUsersShowTokenLabelsNotTokens(t *testing.T) {
	s, ctx := open(t), context.Background()
	saveUsers(t, s, "bo:tester", "al")
	token, err := s.IssueToken(ctx, "bo", "laptop", "cli:root")
	if err != nil {
		t.Fatal(err)
	}
	s.IssueToken(ctx, "bo", "ci", "cli:root")
	s.RevokeTokens(ctx, "bo", "ci", "cli:root")
	users, err := s.Users(ctx)
	if err != nil || len(users) != 2 || users[0].ID != "al" || users[0].Roles == nil || len(users[0].Tokens) != 0 {
		t.Fatalf("users %+v, %v", users, err)
	}
	bo := users[1]
	if len(bo.Tokens) != 1 || bo.Tokens[0].Label != "laptop" || bo.Tokens[0].CreatedAt.IsZero() {
		t.Fatalf("bo's live tokens: %+v", bo.Tokens)
	}
	if b, _ := json.Marshal(users); strings.Contains(string(b), token) || strings.Contains(string(b), "digest") {
		t.Fatalf("the listing reveals a token: %s", b)
	}
}
