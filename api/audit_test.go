package api

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/store"
)

// checkpointAt is a checkpoint source that always has cp.
type checkpointAt struct{ cp store.AuditCheckpoint }

func (c checkpointAt) Latest() (store.AuditCheckpoint, bool, error) { return c.cp, true, nil }

// TestAuditVerifyReportsTheCheckpoint: a server that keeps checkpoints checks
// the chain against the latest, and says so; one without says what it could
// not check.
func TestAuditVerifyReportsTheCheckpoint(t *testing.T) {
	a := newAdminTest(t)
	ctx := context.Background()
	if err := a.store.UpsertUser(ctx, store.User{ID: "audrey.auditor", Name: "Audrey", Roles: []string{"auditor"}}); err != nil {
		t.Fatal(err)
	}
	if err := a.store.AddToken(ctx, "audrey.auditor", "audrey.auditor", "test"); err != nil {
		t.Fatal(err)
	}
	a.must(200, "PUT", "/api/v1/admin/users/ana", "ada.admin", map[string]any{"name": "Ana", "roles": []string{}})

	v := a.must(200, "GET", "/api/v1/audit/verify", "audrey.auditor", nil)
	if v["ok"] != true || v["checkpoint"] != nil || !strings.Contains(strings.Join(stringsOf(v["unchecked"]), "\n"), "no checkpoint was given") {
		t.Fatalf("without checkpoints: %v", v)
	}
	cp, err := a.store.SignAuditHead(ctx, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	a.s.UseAuditCheckpoints(checkpointAt{cp})
	a.must(200, "PUT", "/api/v1/admin/users/ana", "ada.admin", map[string]any{"name": "Ana B", "roles": []string{}})
	v = a.must(200, "GET", "/api/v1/audit/verify", "audrey.auditor", nil)
	if c, _ := v["checkpoint"].(map[string]any); v["ok"] != true || c["ok"] != true || c["seq"] != float64(cp.Seq) || v["unchecked"] != nil {
		t.Fatalf("with a checkpoint: %v", v)
	}
	cp.Hash = "forged"
	a.s.UseAuditCheckpoints(checkpointAt{cp})
	v = a.must(200, "GET", "/api/v1/audit/verify", "audrey.auditor", nil)
	if c, _ := v["checkpoint"].(map[string]any); v["ok"] != false || !strings.Contains(c["problem"].(string), "does not match its signature") {
		t.Fatalf("with a forged checkpoint: %v", v)
	}
}

func stringsOf(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}
