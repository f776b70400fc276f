package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v4"
)

// testIdP is an OpenID Connect provider in the test's process: discovery,
// JWKS, an authorize endpoint that signs in whoever it is told to at once,
// and a token endpoint that checks the code's PKCE verifier and answers an
// RS256-signed ID token. What it vouches for, and how it misbehaves, the test
// sets between sign-ins.
type testIdP struct {
	t   *testing.T
	srv *httptest.Server
	key *rsa.PrivateKey

	mu sync.Mutex
	// claims are the next ID token's, besides iss, aud, exp, iat and nonce.
	claims map[string]any
	// deny answers the next authorization with error=access_denied.
	deny bool
	// tamper changes the next ID token's claims after they are set.
	tamper func(map[string]any)
	codes  map[string]idpGrant
}

type idpGrant struct{ nonce, challenge, redirect string }

const (
	idpClientID     = "itilflow-console"
	idpClientSecret = "s3cret-of-the-console-at-the-idp"
)

func newTestIdP(t *testing.T) *testIdP {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &testIdP{t: t, key: key, codes: map[string]idpGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		u := p.srv.URL
		json.NewEncoder(w).Encode(map[string]any{"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
			"jwks_uri": u + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "test-key", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// vouch sets who the next sign-in is, and clears any misbehaviour.
func (p *testIdP) vouch(claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.claims, p.deny, p.tamper = claims, false, nil
}

func (p *testIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || q.Get("client_id") != idpClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		!strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	answer := url.Values{"state": {q.Get("state")}}
	if p.deny {
		answer.Set("error", "access_denied")
		answer.Set("error_description", "The user said no")
	} else {
		code := rand.Text()
		p.codes[code] = idpGrant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: back.String()}
		answer.Set("code", code)
	}
	back.RawQuery = answer.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (p *testIdP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.FormValue("client_id"), r.FormValue("client_secret")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g, known := p.codes[r.FormValue("code")]
	delete(p.codes, r.FormValue("code"))
	sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
	switch {
	case id != idpClientID || secret != idpClientSecret:
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	case !known || g.redirect != r.FormValue("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
		return
	}
	now := time.Now()
	claims := jwt.MapClaims{"iss": p.srv.URL, "aud": idpClientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": g.nonce}
	for k, v := range p.claims {
		claims[k] = v
	}
	if p.tamper != nil {
		p.tamper(claims)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "test-key"
	signed, err := tok.SignedString(p.key)
	if err != nil {
		p.t.Error(err)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 300, "id_token": signed})
}

// oidcVisitor is a browser without a browser: it keeps cookies and follows no
// redirect by itself, so each step of the flow can be looked at.
type oidcVisitor struct {
	t    *testing.T
	http *http.Client
	lang string
}

func newOIDCVisitor(t *testing.T) *oidcVisitor {
	jar, _ := cookiejar.New(nil)
	return &oidcVisitor{t: t, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (v *oidcVisitor) get(u string) (status int, location, body string) {
	v.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if v.lang != "" {
		req.Header.Set("Accept-Language", v.lang)
	}
	resp, err := v.http.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// toCallback starts a sign-in at the console and goes through the provider,
// returning where the provider sends the browser back to.
func (v *oidcVisitor) toCallback(base string) string {
	v.t.Helper()
	status, authorize, body := v.get(base + "/oidc/login?next=%2Fapprovals")
	if status != http.StatusSeeOther {
		v.t.Fatalf("/oidc/login: %d, want 303 to the provider: %.300s", status, body)
	}
	status, callback, body := v.get(authorize)
	if status != http.StatusFound || !strings.HasPrefix(callback, base+"/oidc/callback?") {
		v.t.Fatalf("the provider's authorize: %d to %q: %.300s", status, callback, body)
	}
	return callback
}

// TestConsoleSignsInWithOIDC runs dev with an in-process OpenID Connect
// provider: a person signs in through it in a real browser and lands on the
// queue as the user and roles its ID token names, mapped as a JWT's claims
// would be; every way the flow can go wrong is refused with the sign-in page
// and a reason, never an error page or a session.
func TestConsoleSignsInWithOIDC(t *testing.T) {
	idp := newTestIdP(t)
	cfg := newDevConfig(t)
	secretFile := filepath.Join(t.TempDir(), "oidc-secret")
	if err := os.WriteFile(secretFile, []byte(idpClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	jwtSecret := "a-jwt-secret-of-at-least-32-bytes-for-the-test"
	jwtFile := filepath.Join(t.TempDir(), "jwt-secret")
	if err := os.WriteFile(jwtFile, []byte(jwtSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.extra = []string{"--oidc-issuer", idp.srv.URL, "--oidc-client-id", idpClientID, "--oidc-client-secret-file", secretFile, "--oidc-name", "Example SSO",
		"--jwt-hs256-secret-file", jwtFile}
	startInProcess(t, cfg)
	base := "http://" + cfg.httpAddr

	t.Run("SignsInInABrowserAsTheMappedUserAndRoles", func(t *testing.T) {
		idp.vouch(map[string]any{"sub": "oidc-auditor", "roles": []any{"auditor", "cab"}, "name": "Olga Idp"})
		b := newBrowser(t, cfg.httpAddr, 1280, 900)
		b.visit("/queue")
		b.waitText("main", "Sign in with Example SSO")
		b.shot("signin-oidc", false)
		b.submit("a[href^='/oidc/login']")
		if loc := b.location(); !strings.HasSuffix(loc, "/queue") {
			t.Fatalf("after the provider's sign-in the browser is at %s, want the queue: %s", loc, b.text("main"))
		}
		b.waitText(".who", "oidc-auditor")
		if who := b.text(".who"); !strings.Contains(who, "auditor, cab") {
			t.Errorf("signed in as %q, want the roles auditor and cab", who)
		}
		if !b.has("a[href='/audit']") {
			t.Error("an auditor signed in through the provider is not offered the audit log")
		}
		b.shot("queue-oidc", false)
		b.signOut()
		b.visit("/queue")
		if !strings.Contains(b.location(), "/signin") {
			t.Errorf("after signing out, /queue is at %s, want the sign-in page", b.location())
		}
	})

	t.Run("GoesToNextAndCallbackWorksOnce", func(t *testing.T) {
		idp.vouch(map[string]any{"sub": "oidc-agent", "roles": "agent"})
		v := newOIDCVisitor(t)
		callback := v.toCallback(base)
		if status, loc, body := v.get(callback); status != http.StatusSeeOther || loc != "/approvals" {
			t.Fatalf("callback: %d to %q, want 303 to /approvals: %.300s", status, loc, body)
		}
		if status, _, body := v.get(base + "/approvals"); status != 200 || !strings.Contains(body, "oidc-agent <small>(agent)</small>") {
			t.Errorf("/approvals after the sign-in: %d: %.300s", status, body)
		}
		// The same callback again finds no sign-in started.
		if status, _, body := v.get(callback); status != http.StatusBadRequest || !strings.Contains(body, "Start it again") {
			t.Errorf("the callback replayed: %d, want 400 with the sign-in page: %.300s", status, body)
		}
	})

	// The same claims in a JWT, signed in with on the token form, are the
	// same person with the same roles.
	t.Run("AJWTOfTheSameClaimsIsTheSamePerson", func(t *testing.T) {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "oidc-agent", "roles": "agent",
			"exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(jwtSecret))
		if err != nil {
			t.Fatal(err)
		}
		cc := signInConsole(t, cfg.httpAddr, tok)
		if status, body := cc.get("/approvals"); status != 200 || !strings.Contains(body, "oidc-agent <small>(agent)</small>") {
			t.Errorf("/approvals signed in with a JWT: %d: %.300s", status, body)
		}
	})

	refusals := []struct {
		name   string
		claims map[string]any
		deny   bool
		tamper func(map[string]any)
		// state replaces the callback's state
		state  string
		status int
		text   string
	}{
		{name: "BadState", claims: map[string]any{"sub": "oidc-agent"}, state: "forged", status: 400, text: "Start it again"},
		{name: "WrongNonce", claims: map[string]any{"sub": "oidc-agent"}, tamper: func(c map[string]any) { c["nonce"] = "another" }, status: 401, text: "did not complete"},
		{name: "WrongAudience", claims: map[string]any{"sub": "oidc-agent"}, tamper: func(c map[string]any) { c["aud"] = "someone-else" }, status: 401, text: "did not complete"},
		{name: "Expired", claims: map[string]any{"sub": "oidc-agent"}, tamper: func(c map[string]any) {
			c["exp"] = time.Now().Add(-time.Hour).Unix()
		}, status: 401, text: "did not complete"},
		{name: "WrongIssuer", claims: map[string]any{"sub": "oidc-agent"}, tamper: func(c map[string]any) { c["iss"] = "https://evil.example" }, status: 401, text: "did not complete"},
		{name: "NoUser", claims: map[string]any{"email": "x@example.com"}, status: 403, text: "no user, or roles"},
		{name: "InvalidUserID", claims: map[string]any{"sub": "has a space"}, status: 403, text: "no user, or roles"},
		{name: "System", claims: map[string]any{"sub": "system"}, status: 403, text: "no user, or roles"},
		{name: "InvalidRole", claims: map[string]any{"sub": "oidc-agent", "roles": []any{"a,b"}}, status: 403, text: "no user, or roles"},
		{name: "ProviderDenied", deny: true, status: 403, text: "access denied"},
	}
	for _, r := range refusals {
		t.Run("Refuses"+r.name, func(t *testing.T) {
			idp.vouch(r.claims)
			idp.mu.Lock()
			idp.deny, idp.tamper = r.deny, r.tamper
			idp.mu.Unlock()
			v := newOIDCVisitor(t)
			callback := v.toCallback(base)
			if r.state != "" {
				u, _ := url.Parse(callback)
				q := u.Query()
				q.Set("state", r.state)
				u.RawQuery = q.Encode()
				callback = u.String()
			}
			status, _, body := v.get(callback)
			if status != r.status || !strings.Contains(body, r.text) || !strings.Contains(body, `action="/signin"`) {
				t.Errorf("callback: %d, want %d and the sign-in page saying %q: %.600s", status, r.status, r.text, body)
			}
			if status, loc, _ := v.get(base + "/queue"); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin") {
				t.Errorf("after a refused sign-in /queue answers %d to %q, want the sign-in page", status, loc)
			}
		})
	}

	t.Run("RefusalIsTranslated", func(t *testing.T) {
		idp.vouch(nil)
		idp.mu.Lock()
		idp.deny = true
		idp.mu.Unlock()
		v := newOIDCVisitor(t)
		v.lang = "zh-Hans"
		status, _, body := v.get(v.toCallback(base))
		if status != http.StatusForbidden || !strings.Contains(body, "访问被拒绝") {
			t.Errorf("the provider's refusal in Chinese: %d: %.600s", status, body)
		}
	})
}

// TestOIDCFlags checks what the flags make of the console's OpenID Connect
// configuration without a stack: where the provider sends people back, the
// secret from its file, and the claims mapped by the --jwt-*-claim flags.
func TestOIDCFlags(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("  shh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	parse := func(t *testing.T, env map[string]string, args ...string) (oidcFlags, jwtFlags) {
		f := newFlags("serve", func(k string) string { return env[k] }, io.Discard)
		o, j := f.oidc(), f.jwt()
		if err := f.parse(args); err != nil {
			t.Fatal(err)
		}
		return o, j
	}
	t.Run("OffWithoutAnIssuer", func(t *testing.T) {
		o, j := parse(t, nil)
		if cfg, err := o.config("https://itil.example.com", j); cfg != nil || err != nil {
			t.Errorf("no issuer: %v, %v; want neither", cfg, err)
		}
	})
	t.Run("NeedsAPublicURLAndAClientID", func(t *testing.T) {
		o, j := parse(t, nil, "--oidc-issuer", "https://idp.example.com", "--oidc-client-id", "itil")
		if _, err := o.config("", j); err == nil || !strings.Contains(err.Error(), "--public-url") {
			t.Errorf("no public URL: %v, want it asked for", err)
		}
		o, j = parse(t, nil, "--oidc-issuer", "https://idp.example.com")
		if _, err := o.config("https://itil.example.com", j); err == nil || !strings.Contains(err.Error(), "--oidc-client-id") {
			t.Errorf("no client id: %v, want it asked for", err)
		}
	})
	t.Run("ReadsTheEnvironmentAndMapsClaimsAsJWTsDo", func(t *testing.T) {
		o, j := parse(t, map[string]string{"ITILFLOW_OIDC_ISSUER": "https://idp.example.com/realms/itil", "ITILFLOW_OIDC_CLIENT_ID": "itil"},
			"--oidc-client-secret-file", secretFile, "--oidc-scopes", "profile email", "--jwt-user-claim", "preferred_username", "--jwt-roles-claim", "groups")
		cfg, err := o.config("https://itil.example.com/", j)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.RedirectURL != "https://itil.example.com/oidc/callback" || cfg.ClientSecret != "shh" || cfg.ClientID != "itil" ||
			strings.Join(cfg.Scopes, " ") != "profile email" {
			t.Errorf("config %+v", cfg)
		}
		a, err := cfg.Actor(map[string]any{"sub": "f81d4fae", "preferred_username": "jane", "groups": []any{"tier1"}})
		if err != nil || a.ID != "jane" || strings.Join(a.Roles, " ") != "tier1" {
			t.Errorf("claims mapped to %+v, %v; want jane with tier1", a, err)
		}
		if _, err := cfg.Actor(map[string]any{"preferred_username": "jane doe"}); err == nil {
			t.Error("a user id with a space was accepted")
		}
	})
}
