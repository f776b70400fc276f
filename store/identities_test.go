package store_test

import (
	"context"
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
