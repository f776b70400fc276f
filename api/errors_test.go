package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestEveryErrorIsTheErrorObject sends what the router, the body limit and the
// header limit refuse, through a real http.Server configured as the stacks
// configure it, and requires the error object each time.
func TestEveryErrorIsTheErrorObject(t *testing.T) {
	srv := httptest.NewUnstartedServer(testServer(t))
	srv.Config.MaxHeaderBytes = ServerMaxHeaderBytes
	srv.Start()
	defer srv.Close()

	send := func(method, path string, body io.Reader, header http.Header) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	bigHeader := func(size int) http.Header {
		return http.Header{"X-Padding": {strings.Repeat("p", size)}}
	}
	for _, tc := range []struct {
		name, method, path string
		body               io.Reader
		header             http.Header
		status             int
		mention            string
	}{
		{"UnknownRoute", "GET", "/nothing", nil, nil, 404, "Not Found"},
		{"WrongMethod", "DELETE", "/healthz", nil, nil, 405, "Method Not Allowed"},
		{"BodyOverTheServerLimit", "POST", "/api/v1/definitions/validate", strings.NewReader(strings.Repeat("x", 2<<20)), nil, 413, "Request Entity Too Large"},
		{"HeaderOverTheAPILimit", "GET", "/api/v1/openapi.json", nil, bigHeader(100 << 10), 431, "the limit is 64 KiB"},
		{"HeaderJustUnderTheServerLimit", "GET", "/api/v1/openapi.json", nil, bigHeader(ServerMaxHeaderBytes - 1024), 431, "the limit is 64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := send(tc.method, tc.path, tc.body, tc.header)
			var out errorBody
			if resp.StatusCode != tc.status || json.Unmarshal([]byte(body), &out) != nil || out.Error == nil {
				t.Fatalf("%d %q, want %d with the error object", resp.StatusCode, body, tc.status)
			}
			if !strings.Contains(out.Error.Message, tc.mention) || out.Error.Code == "" || out.RequestID == "" {
				t.Fatalf("error %+v (request id %q) does not mention %q", out.Error, out.RequestID, tc.mention)
			}
		})
	}
	t.Run("HeaderWithinTheLimit", func(t *testing.T) {
		if resp, body := send("GET", "/api/v1/openapi.json", nil, bigHeader(32<<10)); resp.StatusCode != 200 {
			t.Fatalf("%d %.200s", resp.StatusCode, body)
		}
	})
	t.Run("HeaderOverTheServerLimitIsNetHTTPs", func(t *testing.T) {
		// The residual case: net/http refuses it before any handler runs, in
		// plain text. Documented at ServerMaxHeaderBytes.
		resp, body := send("GET", "/api/v1/openapi.json", nil, bigHeader(ServerMaxHeaderBytes+8<<10))
		if resp.StatusCode != 431 {
			t.Fatalf("%d %.200s", resp.StatusCode, body)
		}
	})
}
