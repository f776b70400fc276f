package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/service"
	"github.com/itilflow/itilflow/store"
)

const tinyDefinition = "name: tiny\ninitial: a\nstates:\n  a: {actions: {go: {to: b, roles: [requester]}}}\n  b: {final: true}\n"

// aliasBomb is a definition of a few hundred bytes whose merge keys double the
// parser's work at each of depth levels.
func aliasBomb(depth int) string {
	var b strings.Builder
	b.WriteString("name: bomb\ninitial: a\nx0: &x0 {to: b, roles: [requester]}\n")
	for i := 1; i <= depth; i++ {
		fmt.Fprintf(&b, "x%d: &x%d {<<: [*x%d, *x%d]}\n", i, i, i-1, i-1)
	}
	fmt.Fprintf(&b, "states:\n  a:\n    actions:\n      go: {<<: *x%d}\n  b: {final: true}\n", depth)
	return b.String()
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	took   time.Duration
}

func (a answer) errorText() string {
	b, _ := json.Marshal(a.body["error"])
	return string(b)
}

func (at adminTest) send(method, path, token string, body io.Reader, contentLength int64) answer {
	at.t.Helper()
	req := httptest.NewRequest(method, path, body)
	req.ContentLength = contentLength
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	start := time.Now()
	at.s.ServeHTTP(rec, req)
	a := answer{status: rec.Code, header: rec.Header(), took: time.Since(start)}
	if err := json.Unmarshal(rec.Body.Bytes(), &a.body); err != nil {
		at.t.Fatalf("%s %s: %d, not JSON: %s", method, path, rec.Code, rec.Body)
	}
	return a
}

func (at adminTest) validate(token, src string) answer {
	at.t.Helper()
	return at.send(http.MethodPost, "/api/v1/definitions/validate", token, strings.NewReader(src), int64(len(src)))
}

func TestValidateLimits(t *testing.T) {
	at := newAdminTest(t)
	if err := at.store.UpsertUser(context.Background(), store.User{ID: "pat.owner", Roles: []string{"process-owner"}}); err != nil {
		t.Fatal(err)
	}
	if err := at.store.AddToken(context.Background(), "pat.owner", "pat.owner", "test"); err != nil {
		t.Fatal(err)
	}

	t.Run("NeedsProcessOwnerOrAdmin", func(t *testing.T) {
		if a := at.validate("rita.requester", tinyDefinition); a.status != 403 || !strings.Contains(a.errorText(), "process-owner or admin") {
			t.Fatalf("a requester: %d %s", a.status, a.errorText())
		}
		for _, who := range []string{"pat.owner", "ada.admin"} {
			if a := at.validate(who, tinyDefinition); a.status != 200 || a.body["valid"] != true {
				t.Fatalf("%s: %d %v", who, a.status, a.body)
			}
		}
	})
	t.Run("RefusesTooLarge", func(t *testing.T) {
		big := "# " + strings.Repeat("x", service.MaxDefinitionBytes) + "\n" + tinyDefinition
		if a := at.validate("pat.owner", big); a.status != 413 || !strings.Contains(a.errorText(), "256 KiB") {
			t.Fatalf("%d %s", a.status, a.errorText())
		}
		// Without a Content-Length the body is read up to the limit, no further.
		if a := at.send(http.MethodPost, "/api/v1/definitions/validate", "pat.owner", strings.NewReader(big), -1); a.status != 413 {
			t.Fatalf("chunked: %d %s", a.status, a.errorText())
		}
		if a := at.send(http.MethodPut, "/api/v1/definitions/tiny", "pat.owner", strings.NewReader(big), int64(len(big))); a.status != 413 {
			t.Fatalf("publish: %d %s", a.status, a.errorText())
		}
	})
	t.Run("RefusesAliasBombs", func(t *testing.T) {
		// 40 levels: 2^40 merges, in 1.5 KB of YAML.
		a := at.validate("pat.owner", aliasBomb(40))
		if a.status != 422 || !strings.Contains(a.errorText(), "expand it to more than") || a.took > 2*time.Second {
			t.Fatalf("%d after %v: %s", a.status, a.took, a.errorText())
		}
	})
	t.Run("RefusesANameThatIsNotTheURLsAtItsLine", func(t *testing.T) {
		a := at.send(http.MethodPut, "/api/v1/definitions/other", "pat.owner", strings.NewReader(tinyDefinition), int64(len(tinyDefinition)))
		if a.status != 422 || !strings.Contains(a.errorText(), `"column":7,"field":"name","line":1`) || !strings.Contains(a.errorText(), "the URL says") {
			t.Fatalf("%d %s", a.status, a.errorText())
		}
	})
}
