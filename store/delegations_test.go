package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

func TestRevokeDelegation(t *testing.T) {
	s, ctx := open(t), context.Background()
	saveUsers(t, s, "carl:change-manager", "sid:service-manager")
	now := time.Now()
	add := func(starts, ends time.Time) store.Delegation {
		t.Helper()
		d, err := s.AddDelegation(ctx, store.Delegation{From: "carl", To: "sid", StartsAt: starts, EndsAt: ends, CreatedBy: "carl"}, "r1")
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	t.Run("EndsACurrentDelegationNowAndKeepsIt", func(t *testing.T) {
		d := add(now.Add(-time.Hour), now.Add(time.Hour))
		if from, _ := s.Delegators(ctx, "sid", time.Now()); len(from) != 1 {
			t.Fatalf("delegators before: %v", from)
		}
		got, err := s.RevokeDelegation(ctx, d.ID, "carl", "r2")
		if err != nil || got.RevokedBy != "carl" || got.RevokedAt == nil || !got.EndsAt.Equal(*got.RevokedAt) || !got.StartsAt.Equal(d.StartsAt) {
			t.Fatalf("revoked: %+v, %v", got, err)
		}
		if from, _ := s.Delegators(ctx, "sid", time.Now()); len(from) != 0 {
			t.Fatalf("delegators after: %v", from)
		}
		if given, received, _ := s.Delegations(ctx, "carl", time.Now()); len(given)+len(received) != 0 {
			t.Fatalf("a revoked delegation is still listed: %v %v", given, received)
		}
		kept, err := s.DelegationByID(ctx, d.ID)
		if err != nil || kept.RevokedBy != "carl" {
			t.Fatalf("the row: %+v, %v", kept, err)
		}
		if _, err := s.RevokeDelegation(ctx, d.ID, "carl", "r3"); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("second revocation: %v", err)
		}
	})
	t.Run("AFutureDelegationNeverStarts", func(t *testing.T) {
		d := add(now.Add(24*time.Hour), now.Add(48*time.Hour))
		got, err := s.RevokeDelegation(ctx, d.ID, "ada", "r4")
		if err != nil || !got.EndsAt.Equal(got.StartsAt) {
			t.Fatalf("revoked: %+v, %v", got, err)
		}
		if from, _ := s.Delegators(ctx, "sid", d.StartsAt.Add(time.Hour)); len(from) != 0 {
			t.Fatalf("the revoked delegation still applies when it would have started: %v", from)
		}
		if given, _, _ := s.Delegations(ctx, "carl", time.Now()); len(given) != 0 {
			t.Fatalf("a revoked future delegation is still listed: %v", given)
		}
		if _, err := s.RevokeDelegation(ctx, d.ID, "ada", "r5"); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("second revocation: %v", err)
		}
	})
	t.Run("AnEndedDelegationIsAConflict", func(t *testing.T) {
		d := add(now.Add(-2*time.Hour), now.Add(-time.Hour))
		if _, err := s.RevokeDelegation(ctx, d.ID, "carl", "r6"); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("revoking an ended delegation: %v", err)
		}
	})
	t.Run("UnknownIsNotFound", func(t *testing.T) {
		if _, err := s.RevokeDelegation(ctx, 999999, "carl", "r7"); engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Fatalf("unknown delegation: %v", err)
		}
		if _, err := s.DelegationByID(ctx, 999999); engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Fatalf("unknown delegation: %v", err)
		}
	})
	t.Run("EachRevocationIsAudited", func(t *testing.T) {
		recs, err := s.Audit(ctx, store.AuditFilter{Action: store.AuditDelegationRevoked, Limit: 10})
		if err != nil || len(recs) != 2 || recs[0].Actor != "carl" || recs[0].RequestID != "r2" || recs[1].Actor != "ada" {
			t.Fatalf("audit: %+v, %v", recs, err)
		}
		if v, err := s.VerifyAudit(ctx); err != nil || !v.OK {
			t.Fatalf("chain: %+v, %v", v, err)
		}
	})
}
