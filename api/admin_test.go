package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/pgcluster/pgtest"
	"github.com/itilflow/itilflow/service"
	"github.com/itilflow/itilflow/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// adminTest is the API on a fresh database (no Temporal: the routes tested here
// use only PostgreSQL) with users whose token is their id.
type adminTest struct {
	t     *testing.T
	s     *Server
	store *store.Store
}

func newAdminTest(t *testing.T) adminTest {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t), store.WithAuditKey([]byte("the API tests' audit key, 32 bytes or more")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, u := range []store.User{
		{ID: "ada.admin", Name: "Ada", Roles: []string{"admin"}},
		{ID: "rita.requester", Name: "Rita", Roles: []string{"requester"}},
		{ID: "carl.change", Name: "Carl", Roles: []string{"change-manager"}},
		{ID: "sid.service", Name: "Sid", Roles: []string{"service-manager"}},
	} {
		if err := st.UpsertUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := st.AddToken(ctx, u.ID, u.ID, "test"); err != nil {
			t.Fatal(err)
		}
	}
	// No Temporal: these routes (and a refused start) never reach it.
	log := slog.New(slog.DiscardHandler)
	s := New(service.New(st, nil, nil, log), st, nil, log)
	s.echo.Logger.SetOutput(io.Discard)
	return adminTest{t: t, s: s, store: st}
}

// call sends a request as the user whose token is token; header gives extra
// header name and value pairs.
func (a adminTest) call(method, path, token string, body any, header ...string) (int, map[string]any, http.Header) {
	a.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	a.s.ServeHTTP(rec, req)
	var out map[string]any
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			a.t.Fatalf("%s %s: not JSON: %s", method, path, rec.Body)
		}
	}
	return rec.Code, out, rec.Header()
}

// with returns a with t, for a subtest: failures end the subtest, not its parent.
func (a adminTest) with(t *testing.T) adminTest {
	a.t = t
	return a
}

func (a adminTest) must(status int, method, path, token string, body any, header ...string) map[string]any {
	a.t.Helper()
	got, out, _ := a.call(method, path, token, body, header...)
	if got != status {
		a.t.Fatalf("%s %s as %s: status %d, want %d: %v", method, path, token, got, status, out)
	}
	return out
}

// refused checks the status of a refused request and that its message or a
// detail's field mentions want.
func (a adminTest) refused(status int, want, method, path, token string, body any) {
	a.t.Helper()
	out := a.must(status, method, path, token, body)
	if !strings.Contains(fmt.Sprint(out["error"]), want) {
		a.t.Fatalf("%s %s: %d %v, want it to mention %q", method, path, status, out, want)
	}
}

// audited returns the audit records of action.
func (a adminTest) audited(action string) []store.AuditRecord {
	a.t.Helper()
	recs, err := a.store.Audit(context.Background(), store.AuditFilter{Action: action, Limit: 100})
	if err != nil {
		a.t.Fatal(err)
	}
	return recs
}

func TestAdminUsers(t *testing.T) {
	a := newAdminTest(t)
	t.Run("NonAdminIsForbiddenNamingTheRole", func(t *testing.T) {
		a := a.with(t)
		for _, r := range []struct{ method, path string }{
			{"GET", "/api/v1/admin/users"}, {"PUT", "/api/v1/admin/users/ana"},
			{"POST", "/api/v1/admin/users/ana/tokens"}, {"DELETE", "/api/v1/admin/users/ana/tokens"},
			{"GET", "/api/v1/admin/groups"}, {"PUT", "/api/v1/admin/groups/cab"},
		} {
			a.refused(403, "needs the role admin", r.method, r.path, "rita.requester", map[string]any{"name": "x", "roles": []string{"admin"}})
		}
	})
	t.Run("PutCreatesAndReplacesAudited", func(t *testing.T) {
		a := a.with(t)
		u := a.must(200, "PUT", "/api/v1/admin/users/ana", "ada.admin", map[string]any{"name": "Ana", "roles": []string{"cab-member", "tester"}},
			"X-Request-ID", "req-ana")
		if u["id"] != "ana" || u["name"] != "Ana" || fmt.Sprint(u["roles"]) != "[cab-member tester]" {
			t.Fatalf("saved: %v", u)
		}
		u = a.must(200, "PUT", "/api/v1/admin/users/ana", "ada.admin", map[string]any{"name": "Ana B", "roles": []string{}})
		if u["name"] != "Ana B" || fmt.Sprint(u["roles"]) != "[]" {
			t.Fatalf("replaced: %v", u)
		}
		recs := a.audited(store.AuditUser)
		if len(recs) != 2 || recs[0].Actor != "ada.admin" || recs[0].Target != "user:ana" || recs[0].RequestID != "req-ana" {
			t.Fatalf("audit: %+v", recs)
		}
	})
	t.Run("InvalidIs422NamingTheField", func(t *testing.T) {
		a := a.with(t)
		a.refused(422, "roles", "PUT", "/api/v1/admin/users/ana", "ada.admin", map[string]any{"name": "Ana"})
		a.refused(422, "name", "PUT", "/api/v1/admin/users/ana", "ada.admin", map[string]any{"roles": []string{}})
		a.refused(422, "roles[1]", "PUT", "/api/v1/admin/users/ana", "ada.admin", map[string]any{"name": "Ana", "roles": []string{"ok", "two words"}})
		a.refused(422, "field:id", "PUT", "/api/v1/admin/users/system", "ada.admin", map[string]any{"name": "S", "roles": []string{}})
		a.refused(422, "field:id", "PUT", "/api/v1/admin/users/two%20words", "ada.admin", map[string]any{"name": "T", "roles": []string{}})
		a.refused(400, "unknown field", "PUT", "/api/v1/admin/users/ana", "ada.admin", map[string]any{"name": "Ana", "roles": []string{}, "admin": true})
	})
	t.Run("ListShowsRolesGroupsAndTokenLabels", func(t *testing.T) {
		a := a.with(t)
		out := a.must(200, "GET", "/api/v1/admin/users", "ada.admin", nil)
		items, _ := out["items"].([]any)
		var ids []string
		for _, it := range items {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
		if !slices.Equal(ids, []string{"ada.admin", "ana", "carl.change", "rita.requester", "sid.service"}) {
			t.Fatalf("users: %v", ids)
		}
		ada := items[0].(map[string]any)
		if fmt.Sprint(ada["roles"]) != "[admin]" || fmt.Sprint(ada["groups"]) != "[]" || fmt.Sprint(ada["tokens"].([]any)[0].(map[string]any)["label"]) != "test" {
			t.Fatalf("ada: %v", ada)
		}
	})
}

func TestAdminTokens(t *testing.T) {
	a := newAdminTest(t)
	a.must(200, "PUT", "/api/v1/admin/users/ana", "ada.admin", map[string]any{"name": "Ana", "roles": []string{"cab-member"}})

	code, out, header := a.call("POST", "/api/v1/admin/users/ana/tokens", "ada.admin", map[string]any{"label": "laptop"})
	token, _ := out["token"].(string)
	if code != 201 || !strings.HasPrefix(token, "itf_") || out["user"] != "ana" || out["label"] != "laptop" || header.Get("Cache-Control") != "no-store" {
		t.Fatalf("issue: %d %v %v", code, out, header)
	}
	a.must(201, "POST", "/api/v1/admin/users/ana/tokens", "ada.admin", map[string]any{"label": "ci"})

	t.Run("TokenIsShownOnce", func(t *testing.T) {
		a := a.with(t)
		got, _ := json.Marshal(a.must(200, "GET", "/api/v1/admin/users", "ada.admin", nil))
		if strings.Contains(string(got), token) || !strings.Contains(string(got), `"label":"laptop"`) {
			t.Fatalf("the listing shows the token, or not its label: %s", got)
		}
	})
	t.Run("TokenAuthenticates", func(t *testing.T) {
		a := a.with(t)
		me := a.must(200, "GET", "/api/v1/me", token, nil)
		if me["id"] != "ana" || fmt.Sprint(me["roles"]) != "[cab-member]" {
			t.Fatalf("me: %v", me)
		}
	})
	t.Run("RevokedTokenIsRefused", func(t *testing.T) {
		a := a.with(t)
		out := a.must(200, "DELETE", "/api/v1/admin/users/ana/tokens?label=laptop", "ada.admin", nil, "X-Request-ID", "req-revoke")
		if out["revoked"] != float64(1) {
			t.Fatalf("revoke: %v", out)
		}
		a.refused(401, "revoked", "GET", "/api/v1/me", token, nil)
		if out := a.must(200, "DELETE", "/api/v1/admin/users/ana/tokens?label=laptop", "ada.admin", nil); out["revoked"] != float64(0) {
			t.Fatalf("second revoke: %v", out)
		}
	})
	t.Run("WithoutLabelRevokesAll", func(t *testing.T) {
		a := a.with(t)
		a.refused(400, "label", "DELETE", "/api/v1/admin/users/ana/tokens?label=", "ada.admin", nil)
		if out := a.must(200, "DELETE", "/api/v1/admin/users/ana/tokens", "ada.admin", nil); out["revoked"] != float64(1) {
			t.Fatalf("revoke all: %v", out)
		}
	})
	t.Run("UnknownUserIs404", func(t *testing.T) {
		a := a.with(t)
		a.refused(404, "nobody", "POST", "/api/v1/admin/users/nobody/tokens", "ada.admin", map[string]any{"label": "x"})
		a.refused(404, "nobody", "DELETE", "/api/v1/admin/users/nobody/tokens?label=x", "ada.admin", nil)
	})
	t.Run("LabelIsRequired", func(t *testing.T) {
		a := a.with(t)
		a.refused(422, "label", "POST", "/api/v1/admin/users/ana/tokens", "ada.admin", map[string]any{})
		a.refused(422, "label", "POST", "/api/v1/admin/users/ana/tokens", "ada.admin", map[string]any{"label": strings.Repeat("x", 101)})
	})
	t.Run("AuditedWithTheCaller", func(t *testing.T) {
		a := a.with(t)
		issued, revoked := a.audited(store.AuditTokenIssued), a.audited(store.AuditTokenRevoked)
		if len(issued) != 2 || issued[0].Actor != "ada.admin" || len(revoked) != 2 || revoked[0].RequestID != "req-revoke" {
			t.Fatalf("issued %+v, revoked %+v", issued, revoked)
		}
		if v, err := a.store.VerifyAudit(context.Background()); err != nil || !v.OK {
			t.Fatalf("chain: %+v %v", v, err)
		}
	})
}

func TestAdminGroups(t *testing.T) {
	a := newAdminTest(t)
	t.Run("PutSetsMembersExactly", func(t *testing.T) {
		a := a.with(t)
		g := a.must(200, "PUT", "/api/v1/admin/groups/cab", "ada.admin", map[string]any{"name": "CAB", "members": []string{"sid.service", "carl.change"}})
		if g["id"] != "cab" || fmt.Sprint(g["members"]) != "[carl.change sid.service]" {
			t.Fatalf("saved: %v", g)
		}
		g = a.must(200, "PUT", "/api/v1/admin/groups/cab", "ada.admin", map[string]any{"name": "Change Advisory Board", "members": []string{"rita.requester"}})
		if g["name"] != "Change Advisory Board" || fmt.Sprint(g["members"]) != "[rita.requester]" {
			t.Fatalf("replaced: %v", g)
		}
		if recs := a.audited(store.AuditGroup); len(recs) != 2 || recs[1].Actor != "ada.admin" || recs[1].Target != "group:cab" {
			t.Fatalf("audit: %+v", recs)
		}
	})
	t.Run("UnknownMemberIs404NamingThem", func(t *testing.T) {
		a := a.with(t)
		a.refused(404, `no user "ghost"`, "PUT", "/api/v1/admin/groups/cab", "ada.admin", map[string]any{"name": "CAB", "members": []string{"carl.change", "ghost"}})
		a.refused(404, "members[1]", "PUT", "/api/v1/admin/groups/cab", "ada.admin", map[string]any{"name": "CAB", "members": []string{"carl.change", "ghost"}})
	})
	t.Run("InvalidIs422NamingTheField", func(t *testing.T) {
		a := a.with(t)
		a.refused(422, "members", "PUT", "/api/v1/admin/groups/cab", "ada.admin", map[string]any{"name": "CAB"})
		a.refused(422, "name", "PUT", "/api/v1/admin/groups/cab", "ada.admin", map[string]any{"members": []string{}})
		a.refused(422, "field:id", "PUT", "/api/v1/admin/groups/system", "ada.admin", map[string]any{"name": "S", "members": []string{}})
	})
	t.Run("ListHasGroupsWithMembers", func(t *testing.T) {
		a := a.with(t)
		a.must(200, "PUT", "/api/v1/admin/groups/change-managers", "ada.admin", map[string]any{"name": "Change managers", "members": []string{"carl.change"}})
		items, _ := a.must(200, "GET", "/api/v1/admin/groups", "ada.admin", nil)["items"].([]any)
		if len(items) != 2 || items[0].(map[string]any)["id"] != "cab" || fmt.Sprint(items[1].(map[string]any)["members"]) != "[carl.change]" {
			t.Fatalf("groups: %v", items)
		}
		users, _ := a.must(200, "GET", "/api/v1/admin/users", "ada.admin", nil)["items"].([]any)
		for _, u := range users {
			if u := u.(map[string]any); u["id"] == "carl.change" && fmt.Sprint(u["groups"]) != "[change-managers]" {
				t.Fatalf("carl's groups: %v", u)
			}
		}
	})
}

func TestRevokeDelegationAPI(t *testing.T) {
	a := newAdminTest(t)
	delegate := func(a adminTest) string {
		a.t.Helper()
		d := a.must(201, "POST", "/api/v1/delegations", "carl.change", map[string]any{
			"to": "sid.service", "ends_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "reason": "leave"})
		return fmt.Sprint(d["id"])
	}
	id := delegate(a)
	path := "/api/v1/delegations/" + id
	t.Run("OthersAreForbidden", func(t *testing.T) {
		a := a.with(t)
		a.refused(403, "only they or a user with the role admin", "DELETE", path, "sid.service", nil) // the delegate
		a.refused(403, "carl.change", "DELETE", path, "rita.requester", nil)
	})
	t.Run("TheDelegatorRevokesNow", func(t *testing.T) {
		a := a.with(t)
		d := a.must(200, "DELETE", path, "carl.change", nil, "X-Request-ID", "req-back")
		ends, _ := time.Parse(time.RFC3339Nano, d["ends_at"].(string))
		if d["revoked_by"] != "carl.change" || d["revoked_at"] == nil || time.Since(ends) > time.Minute || time.Until(ends) > 0 {
			t.Fatalf("revoked: %v", d)
		}
		if given := a.must(200, "GET", "/api/v1/delegations", "carl.change", nil)["given"].([]any); len(given) != 0 {
			t.Fatalf("still listed: %v", given)
		}
		recs := a.audited(store.AuditDelegationRevoked)
		if len(recs) != 1 || recs[0].Actor != "carl.change" || recs[0].RequestID != "req-back" || recs[0].Target != "delegation:"+id {
			t.Fatalf("audit: %+v", recs)
		}
	})
	t.Run("AlreadyEndedIs409", func(t *testing.T) {
		a := a.with(t)
		a.refused(409, "revoked by carl.change", "DELETE", path, "carl.change", nil)
	})
	t.Run("AnAdminMayRevoke", func(t *testing.T) {
		a := a.with(t)
		d := a.must(200, "DELETE", "/api/v1/delegations/"+delegate(a), "ada.admin", nil)
		if d["revoked_by"] != "ada.admin" || d["from"] != "carl.change" {
			t.Fatalf("revoked by the admin: %v", d)
		}
	})
	t.Run("UnknownIs404", func(t *testing.T) {
		a := a.with(t)
		a.refused(404, "no delegation", "DELETE", "/api/v1/delegations/999999", "carl.change", nil)
		a.refused(404, "no delegation", "DELETE", "/api/v1/delegations/abc", "carl.change", nil)
	})
}
