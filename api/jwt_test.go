package api

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v4"
)

// me asks /api/v1/me with a bearer token; a JWT never reaches the store, so the
// API needs none here.
func me(t *testing.T, s *Server, token string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func TestJWTsFromAnIdentityProvider(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &rsaKey.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
	v, err := NewJWTVerifier(JWTConfig{HS256Secret: secret, JWKS: jwks, Issuer: "https://idp.example", Audience: "itilflow"})
	if err != nil {
		t.Fatal(err)
	}
	// /me reads the caller's groups and delegations: the API needs its store.
	s := newAdminTest(t).s
	s.UseJWT(v)
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "ana", "roles": []string{"cab-member", "approver"}, "iss": "https://idp.example",
			"aud": "itilflow", "exp": time.Now().Add(time.Hour).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	hs := func(c jwt.MapClaims, key []byte) string {
		tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
		return tok
	}
	rs := func(c jwt.MapClaims, kid string, key *rsa.PrivateKey) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tok.Header["kid"] = kid
		out, _ := tok.SignedString(key)
		return out
	}
	if code, out := me(t, s, hs(claims(nil), secret)); code != 200 || out["id"] != "ana" || len(out["roles"].([]any)) != 2 {
		t.Fatalf("HS256: %d %v", code, out)
	}
	if code, out := me(t, s, rs(claims(func(c jwt.MapClaims) { c["roles"] = "tier1 tier2" }), "k1", rsaKey)); code != 200 || out["roles"].([]any)[1] != "tier2" {
		t.Fatalf("RS256 from the JWKS, roles as a string: %d %v", code, out)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	for name, tok := range map[string]string{
		"wrong secret":     hs(claims(nil), []byte(strings.Repeat("x", 32))),
		"expired":          hs(claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), secret),
		"no expiry":        hs(claims(func(c jwt.MapClaims) { delete(c, "exp") }), secret),
		"exp zero":         hs(claims(func(c jwt.MapClaims) { c["exp"] = 0 }), secret),
		"system":           hs(claims(func(c jwt.MapClaims) { c["sub"] = "system" }), secret),
		"other issuer":     hs(claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), secret),
		"other audience":   hs(claims(func(c jwt.MapClaims) { c["aud"] = "someone-else" }), secret),
		"no user":          hs(claims(func(c jwt.MapClaims) { delete(c, "sub") }), secret),
		"unknown kid":      rs(claims(nil), "k2", rsaKey),
		"forged signature": rs(claims(nil), "k1", other),
		"alg none": func() string {
			tok, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
			return tok
		}(),
	} {
		if code, out := me(t, s, tok); code != 401 {
			t.Errorf("%s: %d %v", name, code, out)
		}
	}
	if _, err := NewJWTVerifier(JWTConfig{HS256Secret: []byte("short")}); err == nil {
		t.Error("a short HS256 secret was accepted")
	}
}

// TestJWTIdentityHygiene: the user and roles a token names obey the directory's
// rules, no token lives longer than the configured lifetime, and the scheme of
// the Authorization header is case-insensitive.
func TestJWTIdentityHygiene(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	newServer := func(maxLifetime time.Duration) *Server {
		v, err := NewJWTVerifier(JWTConfig{HS256Secret: secret, MaxLifetime: maxLifetime})
		if err != nil {
			t.Fatal(err)
		}
		s := newAdminTest(t).s
		s.UseJWT(v)
		return s
	}
	s := newServer(0)
	now := time.Now()
	token := func(mod func(jwt.MapClaims)) string {
		c := jwt.MapClaims{"sub": "ana", "roles": []string{"requester"}, "exp": now.Add(time.Hour).Unix()}
		if mod != nil {
			mod(c)
		}
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	sub := func(v any) string { return token(func(c jwt.MapClaims) { c["sub"] = v }) }
	roles := func(v any) string { return token(func(c jwt.MapClaims) { c["roles"] = v }) }
	call := func(s *Server, authorization string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
		req.Header.Set("Authorization", authorization)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}

	for _, tc := range []struct {
		name, authorization string
		// mention is in the 401's message; "" means the token is accepted.
		mention string
	}{
		{"PlainID", "Bearer " + sub("ana.requester"), ""},
		{"IdentityProviderID", "Bearer " + sub("auth0|5f7c8ec7b1"), ""},
		{"EmailID", "Bearer " + sub("ana@example.com"), ""},
		{"SpaceBeforeSystem", "Bearer " + sub(" system"), "not a valid id"},
		{"SystemUpperCase", "Bearer " + sub("SYSTEM"), "reserved for the process engine"},
		{"SystemCapitalised", "Bearer " + sub("System"), "reserved for the process engine"},
		{"SystemZeroWidthSpace", "Bearer " + sub("System\u200b"), "U+200B"},
		{"SystemFullWidth", "Bearer " + sub("ｓｙｓｔｅｍ"), "not a valid id"},
		{"InnerSpace", "Bearer " + sub("a b"), "not a valid id"},
		{"ControlCharacter", "Bearer " + sub("ana\x00"), "U+0000"},
		{"Newline", "Bearer " + sub("ana\nbob"), "U+000A"},
		{"NonASCII", "Bearer " + sub("anä"), "printable ASCII"},
		{"TooLong", "Bearer " + sub(strings.Repeat("a", 256)), "1 to 255"},
		{"NumericSub", "Bearer " + sub(42), "no user"},
		{"RoleWithSpace", "Bearer " + roles([]string{"cab member"}), "not a valid role"},
		{"RoleWithComma", "Bearer " + roles([]string{"cab,admin"}), "commas"},
		{"EmptyRole", "Bearer " + roles([]string{""}), "not a valid role"},
		{"RoleNotAString", "Bearer " + roles([]any{"ok", 5}), "must be strings"},
		{"RoleZeroWidth", "Bearer " + roles("admin\u200b"), "U+200B"},
		{"RolesAnObject", "Bearer " + roles(map[string]any{"admin": true}), "list of roles"},
		{"RolesSpaceSeparated", "Bearer " + roles("tier1 tier2"), ""},
		{"NeverExpires", "Bearer " + token(func(c jwt.MapClaims) { c["exp"] = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC).Unix() }), "at most 24h"},
		{"ExpiresIn25Hours", "Bearer " + token(func(c jwt.MapClaims) { c["exp"] = now.Add(25 * time.Hour).Unix() }), "more than 24h0m0s from now"},
		{"ExpiresIn1e300Seconds", "Bearer " + token(func(c jwt.MapClaims) { c["exp"] = 1e300 }), "invalid token"},
		{"IssuedFor25Hours", "Bearer " + token(func(c jwt.MapClaims) {
			c["iat"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(23*time.Hour).Unix()
		}), "issued (iat) to live more than 24h"},
		{"IssuedForADay", "Bearer " + token(func(c jwt.MapClaims) {
			c["iat"], c["exp"] = now.Unix(), now.Add(24*time.Hour).Unix()
		}), ""},
		{"SchemeLowerCase", "bearer " + token(nil), ""},
		{"SchemeUpperCase", "BEARER " + token(nil), ""},
		{"SchemeSpacesAround", "  Bearer   " + token(nil) + " ", ""},
		{"SchemeBasic", "Basic " + token(nil), "missing bearer token"},
		{"SchemeGlued", "Bearer" + token(nil), "missing bearer token"},
		{"SchemeOnly", "Bearer", "missing bearer token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := call(s, tc.authorization)
			if tc.mention == "" {
				if code != http.StatusOK {
					t.Fatalf("refused: %d %s", code, body)
				}
				return
			}
			var out struct {
				Error struct{ Code, Message string }
			}
			if code != http.StatusUnauthorized || json.Unmarshal([]byte(body), &out) != nil || out.Error.Code != "unauthorized" {
				t.Fatalf("%d %s, want 401 with the error object", code, body)
			}
			if !strings.Contains(out.Error.Message, tc.mention) {
				t.Fatalf("message %q does not mention %q", out.Error.Message, tc.mention)
			}
		})
	}
	t.Run("ConfiguredLifetime", func(t *testing.T) {
		short := newServer(time.Hour)
		if code, body := call(short, "Bearer "+token(func(c jwt.MapClaims) { c["exp"] = now.Add(2 * time.Hour).Unix() })); code != 401 || !strings.Contains(body, "at most 1h0m0s") {
			t.Fatalf("a 2h token with a 1h limit: %d %s", code, body)
		}
		if code, body := call(short, "Bearer "+token(nil)); code != 200 {
			t.Fatalf("a 1h token with a 1h limit: %d %s", code, body)
		}
		if _, err := NewJWTVerifier(JWTConfig{HS256Secret: secret, MaxLifetime: -time.Hour}); err == nil {
			t.Fatal("a negative lifetime was accepted")
		}
	})
}
