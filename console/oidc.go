package console

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/itilflow/itilflow/engine"
)

// OIDCConfig lets people sign in through the site's identity provider
// (Keycloak, Azure AD / Entra ID, Okta, …) with OpenID Connect's
// authorization code flow.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer + "/.well-known/openid-configuration".
	Issuer string
	// ClientID and ClientSecret are itilflow's registration at the provider;
	// the ID token's audience must be ClientID.
	ClientID, ClientSecret string
	// RedirectURL is this console's /oidc/callback as people's browsers reach
	// it, registered at the provider.
	RedirectURL string
	// Scopes are asked for besides openid.
	Scopes []string
	// Name is shown on the sign-in button; empty shows the issuer's host.
	Name string
	// Actor maps the verified ID token's claims to the person, by the same
	// rules as JWTs (api.ActorOfClaims), so one person is one id whichever
	// way they sign in. It returns an error for claims naming no valid
	// person.
	Actor func(claims map[string]any) (engine.Actor, error)
	// HTTPClient talks to the provider; nil uses one with a 15s timeout.
	HTTPClient *http.Client
}

// The sign-in's secrets wait in the visitor's server-side session between
// /oidc/login and /oidc/callback: the state ties the callback to this
// browser's start, the nonce ties the ID token to it, and the PKCE verifier
// ties the code to it. They are read once, and expire with oidcPatience.
const (
	sessionOIDCState    = "oidc_state"
	sessionOIDCNonce    = "oidc_nonce"
	sessionOIDCVerifier = "oidc_verifier"
	sessionOIDCNext     = "oidc_next"
	sessionOIDCStarted  = "oidc_started"
	oidcPatience        = 10 * time.Minute
)

// oidcClient discovers the provider at the first sign-in and keeps it, so a
// provider that is down when itilflow starts costs only its own sign-in, not
// the console's start; a failed discovery is tried again at the next.
type oidcClient struct {
	cfg    OIDCConfig
	client *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

func newOIDCClient(cfg OIDCConfig) (*oidcClient, error) {
	const op = "console.newOIDCClient"
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, engine.Errorf(engine.EINVALID, "%s: the issuer %q is not an http(s) URL", op, cfg.Issuer)
	}
	if cfg.ClientID == "" || cfg.RedirectURL == "" || cfg.Actor == nil {
		return nil, engine.Errorf(engine.EINVALID, "%s: a client id, a redirect URL and a claim mapping are needed", op)
	}
	if cfg.Name == "" {
		cfg.Name = u.Host
	}
	o := &oidcClient{cfg: cfg, client: cfg.HTTPClient}
	if o.client == nil {
		o.client = &http.Client{Timeout: 15 * time.Second}
	}
	return o, nil
}

// ctx carries the client go-oidc and oauth2 call the provider with.
func (o *oidcClient) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, o.client)
}

// discover returns the provider, reading its discovery document once.
func (o *oidcClient) discover(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	// go-oidc keeps only the client of this context for fetching keys
	// later, not its deadline.
	p, err := oidc.NewProvider(o.ctx(ctx), o.cfg.Issuer)
	if err != nil {
		return nil, engine.Errorf(engine.EUNAVAILABLE, "console.oidc: discovering %s: %v", o.cfg.Issuer, err)
	}
	o.provider = p
	return p, nil
}

func (o *oidcClient) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID}, o.cfg.Scopes...)}
}

// randomToken is 32 random bytes, URL-safe.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", engine.Errorf(engine.EINTERNAL, "console.randomToken: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// oidcRefuse shows the sign-in page again with why the provider's sign-in did
// not sign anyone in: never a bare error, so a person can try again or use a
// token.
func (c *Console) oidcRefuse(ec echo.Context, status int, problem, next string) error {
	return c.render(ec, status, "signin", map[string]any{"Next": next, "OIDC": c.oidc.cfg.Name, "Problem": problem})
}

// oidcLogin starts the authorization code flow: it keeps the state, nonce and
// PKCE verifier in the session and sends the browser to the provider.
func (c *Console) oidcLogin(ec echo.Context) error {
	ctx := ec.Request().Context()
	next := safeNext(ec.QueryParam("next"))
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	p, err := c.oidc.discover(dctx)
	if err != nil {
		c.log.Warn("console: OpenID Connect provider unreachable", "error", err)
		return c.oidcRefuse(ec, http.StatusServiceUnavailable, "signin.oidc_unavailable", next)
	}
	state, err := randomToken()
	if err != nil {
		return err
	}
	nonce, err := randomToken()
	if err != nil {
		return err
	}
	verifier := oauth2.GenerateVerifier()
	c.sessions.Put(ctx, sessionOIDCState, state)
	c.sessions.Put(ctx, sessionOIDCNonce, nonce)
	c.sessions.Put(ctx, sessionOIDCVerifier, verifier)
	c.sessions.Put(ctx, sessionOIDCNext, next)
	c.sessions.Put(ctx, sessionOIDCStarted, time.Now().Unix())
	return ec.Redirect(http.StatusSeeOther, c.oidc.oauth(p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
}

// oidcCallback finishes the flow: the state must be the one this browser's
// session started with, the code is exchanged with the PKCE verifier, and the
// ID token must be signed by the provider, for this client, unexpired, and
// carry the session's nonce. Its claims then name the person as a JWT's would,
// and they get the session a JWT sign-in gets.
func (c *Console) oidcCallback(ec echo.Context) error {
	ctx := ec.Request().Context()
	// Each start is good for one callback: a replayed or second callback
	// finds nothing.
	state := c.sessions.PopString(ctx, sessionOIDCState)
	nonce := c.sessions.PopString(ctx, sessionOIDCNonce)
	verifier := c.sessions.PopString(ctx, sessionOIDCVerifier)
	next := safeNext(c.sessions.PopString(ctx, sessionOIDCNext))
	started := time.Unix(c.sessions.GetInt64(ctx, sessionOIDCStarted), 0)
	c.sessions.Remove(ctx, sessionOIDCStarted)
	q := ec.QueryParams()
	if e := q.Get("error"); e != "" {
		// The provider's own words stay in the log: what a person reads is
		// ours, in their language.
		c.log.Info("console: the OpenID Connect provider refused a sign-in", "error", e, "description", q.Get("error_description"))
		if e == "access_denied" {
			return c.oidcRefuse(ec, http.StatusForbidden, "signin.oidc_denied", next)
		}
		return c.oidcRefuse(ec, http.StatusUnauthorized, "signin.oidc_failed", next)
	}
	if state == "" || q.Get("state") != state || time.Since(started) > oidcPatience {
		return c.oidcRefuse(ec, http.StatusBadRequest, "signin.oidc_expired", next)
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	p, err := c.oidc.discover(dctx)
	if err != nil {
		c.log.Warn("console: OpenID Connect provider unreachable", "error", err)
		return c.oidcRefuse(ec, http.StatusServiceUnavailable, "signin.oidc_unavailable", next)
	}
	fail := func(what string, err error) error {
		c.log.Warn("console: OpenID Connect sign-in refused", "step", what, "error", err)
		return c.oidcRefuse(ec, http.StatusUnauthorized, "signin.oidc_failed", next)
	}
	tok, err := c.oidc.oauth(p).Exchange(c.oidc.ctx(dctx), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return fail("exchanging the code", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return fail("reading the ID token", fmt.Errorf("the token response has no id_token"))
	}
	// Verify checks the signature against the provider's keys, the issuer,
	// the audience (our client id) and the expiry.
	idt, err := p.Verifier(&oidc.Config{ClientID: c.oidc.cfg.ClientID}).Verify(c.oidc.ctx(dctx), raw)
	if err != nil {
		return fail("verifying the ID token", err)
	}
	if idt.Nonce != nonce {
		return fail("verifying the ID token", fmt.Errorf("the nonce is not the one this sign-in sent"))
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return fail("reading the ID token's claims", err)
	}
	actor, err := c.oidc.cfg.Actor(claims)
	if err == nil && actor.ID == engine.System.ID {
		err = fmt.Errorf("the ID token names %s, who never signs in", actor.ID)
	}
	if err != nil {
		c.log.Warn("console: an OpenID Connect sign-in names nobody itilflow accepts", "subject", idt.Subject, "error", err)
		return c.oidcRefuse(ec, http.StatusForbidden, "signin.oidc_user", next)
	}
	// A new session: whatever a visitor held before signing in is not theirs.
	if err := c.sessions.RenewToken(ctx); err != nil {
		return err
	}
	// The provider vouched for them now; the session lasts as long as any
	// sign-in does (the ID token itself may live only minutes), with the
	// roles the provider gave.
	c.sessions.Put(ctx, sessionJWTUser, actor.ID)
	c.sessions.Put(ctx, sessionJWTRole, strings.Join(actor.Roles, " "))
	c.sessions.Put(ctx, sessionJWTExp, time.Now().Add(c.cfg.SessionLifetime).Unix())
	return ec.Redirect(http.StatusSeeOther, next)
}
