package api

import (
	"crypto/rsa"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

// JWTConfig accepts bearer JWTs from a site's identity provider: signed with an
// HS256 secret, an RS256 public key, or an RS256 key of a JWKS (chosen by kid).
// Their claims name the user (UserClaim, default "sub") and the roles
// (RolesClaim, default "roles": a list, or a space-separated string), by the
// rules of the directory's ids and roles (store.CheckID, store.CheckRole).
type JWTConfig struct {
	HS256Secret []byte
	RS256Key    *rsa.PublicKey
	JWKS        *jose.JSONWebKeySet
	// Issuer and Audience, when set, must match the token's iss and aud.
	Issuer, Audience      string
	UserClaim, RolesClaim string
	// MaxLifetime refuses tokens that expire further than this from now, or
	// whose exp is further than this after their iat: a token that leaks must
	// not work for years. Zero means DefaultMaxTokenLifetime.
	MaxLifetime time.Duration
}

// DefaultMaxTokenLifetime is JWTConfig.MaxLifetime's default: a working day's
// token, with room for identity providers that issue them for a day.
const DefaultMaxTokenLifetime = 24 * time.Hour

// jwtClockSkew is how far the identity provider's clock may be ahead of ours
// when a token's lifetime is measured from now.
const jwtClockSkew = time.Minute

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
	switch {
	case cfg.MaxLifetime == 0:
		cfg.MaxLifetime = DefaultMaxTokenLifetime
	case cfg.MaxLifetime < 0:
		return nil, fmt.Errorf("the longest token lifetime must be positive, not %v", cfg.MaxLifetime)
	}
	// Only the configured algorithms: a token cannot pick "none", or HS256 with
	// the public key as its secret.
	return &JWTVerifier{cfg: cfg, parser: jwt.NewParser(jwt.WithValidMethods(methods))}, nil
}

// Verify checks a token's signature, expiry and lifetime, issuer and audience,
// and the user and roles its claims name, and returns the actor. Every failure
// is EUNAUTHORIZED with the reason.
func (v *JWTVerifier) Verify(token string) (engine.Actor, error) {
	a, _, err := v.VerifyUntil(token)
	return a, err
}

// VerifyUntil is Verify, and says when the token expires: a console session
// signed in with it ends then.
func (v *JWTVerifier) VerifyUntil(token string) (engine.Actor, time.Time, error) {
	claims := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, claims, v.key); err != nil {
		return engine.Actor{}, time.Time{}, engine.Errorf(engine.EUNAUTHORIZED, "invalid token: %v", err)
	}
	if v.cfg.Issuer != "" && !claims.VerifyIssuer(v.cfg.Issuer, true) {
		return engine.Actor{}, time.Time{}, engine.Errorf(engine.EUNAUTHORIZED, "invalid token: issuer is not %q", v.cfg.Issuer)
	}
	if v.cfg.Audience != "" && !claims.VerifyAudience(v.cfg.Audience, true) {
		return engine.Actor{}, time.Time{}, engine.Errorf(engine.EUNAUTHORIZED, "invalid token: audience is not %q", v.cfg.Audience)
	}
	now := time.Now()
	exp, _ := claims["exp"].(float64)
	if exp <= 0 || !claims.VerifyExpiresAt(now.Unix(), true) {
		return engine.Actor{}, time.Time{}, engine.Errorf(engine.EUNAUTHORIZED, "invalid token: it has no expiry (exp) in the future")
	}
	// In seconds, as the claims are: an exp of 1e300 must not overflow.
	max := v.cfg.MaxLifetime
	if exp-float64(now.Unix()) > (max + jwtClockSkew).Seconds() {
		return engine.Actor{}, time.Time{}, engine.Errorf(engine.EUNAUTHORIZED,
			"invalid token: it expires (exp) more than %v from now; tokens may live at most %v", max, max)
	}
	if iat, ok := claims["iat"].(float64); ok && exp-iat > max.Seconds() {
		return engine.Actor{}, time.Time{}, engine.Errorf(engine.EUNAUTHORIZED,
			"invalid token: it was issued (iat) to live more than %v; tokens may live at most %v", max, max)
	}
	actor, err := ActorOfClaims(claims, v.cfg.UserClaim, v.cfg.RolesClaim)
	if err != nil {
		return engine.Actor{}, time.Time{}, err
	}
	return actor, time.Unix(int64(exp), 0), nil
}

// ActorOfClaims is the person the verified claims of an identity provider
// name: the user in userClaim and the roles in rolesClaim, by the rules of
// the directory's ids and roles. JWTs and the console's OpenID Connect
// sign-in both map claims here, so the same claims are the same person
// whichever way they arrive. It returns EUNAUTHORIZED when the claims name no
// valid user or hold a role the directory would refuse.
func ActorOfClaims(claims map[string]any, userClaim, rolesClaim string) (engine.Actor, error) {
	user, _ := claims[userClaim].(string)
	if user == "" {
		return engine.Actor{}, engine.Errorf(engine.EUNAUTHORIZED, "invalid token: no user in claim %q", userClaim)
	}
	if err := store.CheckID(user); err != nil {
		return engine.Actor{}, engine.Errorf(engine.EUNAUTHORIZED, "invalid token: claim %q: %v", userClaim, err)
	}
	roles, err := rolesOf(claims[rolesClaim])
	if err != nil {
		return engine.Actor{}, engine.Errorf(engine.EUNAUTHORIZED, "invalid token: claim %q: %v", rolesClaim, err)
	}
	return engine.Actor{ID: user, Roles: roles}, nil
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

// rolesOf reads roles as a JSON list or a space-separated string (OAuth
// scope style); no claim is no roles. Every role must be one the directory
// would accept.
func rolesOf(v any) ([]string, error) {
	var roles []string
	switch r := v.(type) {
	case nil:
		return nil, nil
	case string:
		roles = strings.Fields(r)
	case []any:
		for _, x := range r {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("the roles must be strings, not %v", x)
			}
			roles = append(roles, s)
		}
	default:
		return nil, fmt.Errorf("want a list of roles or a space-separated string, not %v", v)
	}
	for _, r := range roles {
		if err := store.CheckRole(r); err != nil {
			return nil, err
		}
	}
	return roles, nil
}

// UseJWT makes the API accept JWTs besides its own tokens.
func (s *Server) UseJWT(v *JWTVerifier) { s.jwt = v }
