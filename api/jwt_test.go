package api

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
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
	s := New(nil, nil, nil, nil, slog.New(slog.DiscardHandler))
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
