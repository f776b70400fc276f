package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v4"

	"github.com/itilflow/itilflow/api"
)

// jwtFlags configure JWTs from an identity provider; all empty turns them off.
type jwtFlags struct {
	secretFile, publicKey, jwksFile, issuer, audience, userClaim, rolesClaim *string
	maxLifetime                                                              *time.Duration
}

func (f *flags) jwt() jwtFlags {
	return jwtFlags{
		secretFile: f.string("jwt-hs256-secret-file", "", "file holding the HS256 secret of accepted JWTs (at least 32 bytes)"),
		publicKey:  f.string("jwt-rs256-public-key", "", "PEM file of the RS256 public key of accepted JWTs"),
		jwksFile:   f.string("jwt-jwks-file", "", "JWKS file whose RS256 keys (by kid) sign accepted JWTs"),
		issuer:     f.string("jwt-issuer", "", "required iss of accepted JWTs"),
		audience:   f.string("jwt-audience", "", "required aud of accepted JWTs"),
		userClaim:  f.string("jwt-user-claim", "sub", "claim naming the user"),
		rolesClaim: f.string("jwt-roles-claim", "roles", "claim listing the roles (a list, or a space-separated string)"),
		maxLifetime: f.duration("jwt-max-lifetime", api.DefaultMaxTokenLifetime,
			"longest lifetime of an accepted JWT: tokens that expire later than this from now, or whose exp is further than this after their iat, are refused"),
	}
}

// verifier reads the configured keys; nil when no JWT key is configured.
func (j jwtFlags) verifier() (*api.JWTVerifier, error) {
	if *j.secretFile == "" && *j.publicKey == "" && *j.jwksFile == "" {
		return nil, nil
	}
	if *j.maxLifetime <= 0 {
		return nil, fmt.Errorf("jwt-max-lifetime must be positive, not %v", *j.maxLifetime)
	}
	cfg := api.JWTConfig{Issuer: *j.issuer, Audience: *j.audience, UserClaim: *j.userClaim, RolesClaim: *j.rolesClaim, MaxLifetime: *j.maxLifetime}
	if *j.secretFile != "" {
		b, err := os.ReadFile(*j.secretFile)
		if err != nil {
			return nil, fmt.Errorf("jwt-hs256-secret-file: %w", err)
		}
		cfg.HS256Secret = []byte(strings.TrimSpace(string(b)))
	}
	if *j.publicKey != "" {
		b, err := os.ReadFile(*j.publicKey)
		if err != nil {
			return nil, fmt.Errorf("jwt-rs256-public-key: %w", err)
		}
		if cfg.RS256Key, err = jwt.ParseRSAPublicKeyFromPEM(b); err != nil {
			return nil, fmt.Errorf("jwt-rs256-public-key %s: %w", *j.publicKey, err)
		}
	}
	if *j.jwksFile != "" {
		b, err := os.ReadFile(*j.jwksFile)
		if err != nil {
			return nil, fmt.Errorf("jwt-jwks-file: %w", err)
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(b, &set); err != nil {
			return nil, fmt.Errorf("jwt-jwks-file %s: %w", *j.jwksFile, err)
		}
		cfg.JWKS = &set
	}
	return api.NewJWTVerifier(cfg)
}
