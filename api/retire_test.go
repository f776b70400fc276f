package api

import (
	"context"
	"testing"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

func TestRetireDefinition(t *testing.T) {
	a := newAdminTest(t)
	ctx := context.Background()
	if err := a.store.UpsertUser(ctx, store.User{ID: "pat.owner", Name: "Pat", Roles: []string{"process-owner"}}); err != nil {
		t.Fatal(err)
	}
	if err := a.store.AddToken(ctx, "pat.owner", "pat.owner", "test"); err != nil {
		t.Fatal(err)
	}
	src := []byte("name: tiny\ninitial: a\nstates:\n  a: {actions: {go: {to: b}}}\n  b: {final: true}\n")
	def, err := engine.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.store.PublishDefinition(ctx, def, src, "pat.owner", "req-0"); err != nil {
		t.Fatal(err)
	}
	const retire, reinstate = "/api/v1/definitions/tiny/retire", "/api/v1/definitions/tiny/reinstate"

	t.Run("NeedsProcessOwnerOrAdmin", func(t *testing.T) {
		a := a.with(t)
		a.refused(403, "process-owner or admin", "POST", retire, "rita.requester", map[string]any{"reason": "x"})
		a.refused(403, "process-owner or admin", "POST", reinstate, "rita.requester", nil)
	})
	t.Run("NeedsAReason", func(t *testing.T) {
		a := a.with(t)
		a.refused(422, "reason", "POST", retire, "pat.owner", map[string]any{"reason": "  "})
		a.refused(422, "reason", "POST", retire, "pat.owner", nil)
		a.refused(400, "reasons", "POST", retire, "pat.owner", map[string]any{"reasons": "typo"})
	})
	t.Run("UnknownDefinitionIsNotFound", func(t *testing.T) {
		a.with(t).refused(404, "nope", "POST", "/api/v1/definitions/nope/retire", "pat.owner", map[string]any{"reason": "x"})
	})

	_, r, _ := a.call("POST", retire, "pat.owner", map[string]any{"reason": "replaced by tiny-2"}, "X-Request-ID", "req-retire")
	if r["name"] != "tiny" || r["retired_by"] != "pat.owner" || r["retired_reason"] != "replaced by tiny-2" || r["retired_at"] == nil {
		t.Fatalf("retire: %v", r)
	}
	t.Run("DefinitionShowsItsRetirement", func(t *testing.T) {
		a := a.with(t)
		d := a.must(200, "GET", "/api/v1/definitions/tiny", "rita.requester", nil)
		if d["retired_at"] != r["retired_at"] || d["retired_by"] != "pat.owner" || d["retired_reason"] != "replaced by tiny-2" || d["origin"] != "api" {
			t.Fatalf("definition %v", d)
		}
		items := a.must(200, "GET", "/api/v1/definitions", "rita.requester", nil)["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["retired_by"] != "pat.owner" {
			t.Fatalf("definitions %v", items)
		}
	})
	t.Run("StartIsRefusedNamingWhoWhenAndWhy", func(t *testing.T) {
		a := a.with(t)
		for _, want := range []string{"pat.owner", r["retired_at"].(string)[:19], "replaced by tiny-2", "publishing a new version does not reinstate it"} {
			a.refused(409, want, "POST", "/api/v1/processes/tiny", "rita.requester", map[string]any{"input": map[string]any{}})
		}
	})
	t.Run("RetiringTwiceIsAConflict", func(t *testing.T) {
		a.with(t).refused(409, "already retired", "POST", retire, "ada.admin", map[string]any{"reason": "again"})
	})
	t.Run("AdminReinstates", func(t *testing.T) {
		a := a.with(t)
		back := a.must(200, "POST", reinstate, "ada.admin", nil)
		if back["reinstated_by"] != "ada.admin" || back["reinstated_at"] == nil || back["retired_by"] != "pat.owner" {
			t.Fatalf("reinstate: %v", back)
		}
		if d := a.must(200, "GET", "/api/v1/definitions/tiny", "rita.requester", nil); d["retired_at"] != nil || d["retired_by"] != nil {
			t.Fatalf("definition after reinstatement %v", d)
		}
		a.refused(409, "not retired", "POST", reinstate, "ada.admin", nil)
	})
	t.Run("BothAreAudited", func(t *testing.T) {
		a := a.with(t)
		if recs := a.audited(store.AuditRetire); len(recs) != 1 || recs[0].Actor != "pat.owner" || recs[0].RequestID != "req-retire" || recs[0].Target != "definition:tiny" {
			t.Fatalf("retirement records %+v", recs)
		}
		if recs := a.audited(store.AuditReinstate); len(recs) != 1 || recs[0].Actor != "ada.admin" || recs[0].RequestID == "" {
			t.Fatalf("reinstatement records %+v", recs)
		}
	})
}
