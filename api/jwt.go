package api

import (
	"crypto/rsa"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v4"

	"github.com/itilflow/itilflow/engine"
)

// JWTConfig accepts bearer JWTs from a site's identity provider: signed with an
// HS256 secret, an RS256 public key, or an RS256 key of a JWKS (chosen by kid).
// Their claims name the user (UserClaim, default "sub") and the roles
// (RolesClaim, default "roles": a list, or a space-separated string).
type JWTConfig struct {
	HS256Secret []byte
	RS256Key    *rsa.PublicKey
	JWKS        *jose.JSONWebKeySet
	// Issuer and Audience, when set, must match the token's iss and aud.
	Issuer, Audience      string
	UserClaim, RolesClaim string
}

// JWTVerifier checks JWTs against a JWTConfig.
type JWTVerifier struct {
	cfg    JWTConfig
	parser *jwt.Parser
}

// NewJWTVerifier checks the configuration and returns a verifier.
func NewJWTVerifier(cfg JWTConfig) (*JWTVerifier, error) {
	var methods []string
	if len(cfg.HS256Secret) > 0 {
		if len(cfg.HS256Secret) < 32 {
			return nil, fmt.Errorf("the HS256 secret has %d bytes; use at least 32", len(cfg.HS256Secret))
		}
		methods = append(methods, "HS256")
	}
	if cfg.RS256Key != nil || cfg.JWKS != nil {
		methods = append(methods, "RS256")
	}
	if len(methods) == 0 {
		return nil, fmt.Errorf("no JWT key configured: give an HS256 secret, an RS256 public key or a JWKS")
	}
	if cfg.UserClaim == "" {
		cfg.UserClaim = "sub"
	}
	if cfg.RolesClaim == "" {
		cfg.RolesClaim = "roles"
	}
	// Only the configured algorithms: a token cannot pick "none", or HS256 with
	// the public key as its secret.
	return &JWTVerifier{cfg: cfg, parser: jwt.NewParser(jwt.WithValidMethods(methods))}, nil
}

// Verify checks a token's signature, expiry, issuer and audience, and returns
// the actor its claims name. Every failure is EUNAUTHORIZED with the reason.
func (v *JWTVerifier) Verify(token string) (engine.Actor, error) {
	claims := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, claims, v.key); err != nil {
		return engine.Actor{}, engine.Errorf(engine.EUNAUTHORIZED, "invalid token: %v", err)
	}
	if v.cfg.Issuer != "" && !claims.VerifyIssuer(v.cfg.Issuer, true) {
		return engine.Actor{}, engine.Errorf(engine.EUNAUTHORIZED, "invalid token: issuer is not %q", v.cfg.Issuer)
	}
	if v.cfg.Audience != "" && !claims.VerifyAudience(v.cfg.Audience, true) {
		return engine.Actor{}, engine.Errorf(engine.EUNAUTHORIZED, "invalid token: audience is not %q", v.cfg.Audience)
	}
	if exp, _ := claims["exp"].(float64); exp <= 0 || !claims.VerifyExpiresAt(time.Now().Unix(), true) {
		return engine.Actor{}, engine.Errorf(engine.EUNAUTHORIZED, "invalid token: it has no expiry (exp) in the future")
	}
	user, _ := claims[v.cfg.UserClaim].(string)
	if user == "" {
		return engine.Actor{}, engine.Errorf(engine.EUNAUTHORIZED, "invalid token: no user in claim %q", v.cfg.UserClaim)
	}
	return engine.Actor{ID: user, Roles: rolesClaim(claims[v.cfg.RolesClaim])}, nil
}

func (v *JWTVerifier) key(t *jwt.Token) (any, error) {
	switch t.Method.Alg() {
	case "HS256":
		return v.cfg.HS256Secret, nil
	case "RS256":
		if kid, _ := t.Header["kid"].(string); kid != "" && v.cfg.JWKS != nil {
			for _, k := range v.cfg.JWKS.Key(kid) {
				if pub, ok := k.Key.(*rsa.PublicKey); ok {
					return pub, nil
				}
			}
			return nil, fmt.Errorf("no RS256 key %q in the JWKS", kid)
		}
		if v.cfg.RS256Key != nil {
			return v.cfg.RS256Key, nil
		}
		return nil, fmt.Errorf("the token names no key id (kid) of the JWKS")
	}
	return nil, fmt.Errorf("unexpected algorithm %s", t.Method.Alg())
}

// rolesClaim reads roles as a JSON list or a space-separated string (OAuth
// scope style).
func rolesClaim(v any) []string {
	switch r := v.(type) {
	case string:
		return strings.Fields(r)
	case []any:
		out := make([]string, 0, len(r))
		for _, x := range r {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// UseJWT makes the API accept JWTs besides its own tokens.
func (s *Server) UseJWT(v *JWTVerifier) { s.jwt = v }
