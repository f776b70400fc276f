package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/itilflow/itilflow/api"
	"github.com/itilflow/itilflow/console"
	"github.com/itilflow/itilflow/engine"
)

// oidcFlags configure the console's OpenID Connect sign-in; no --oidc-issuer
// turns it off.
type oidcFlags struct {
	issuer, clientID, secretFile, scopes, name *string
}

func (f *flags) oidc() oidcFlags {
	return oidcFlags{
		issuer: f.string("oidc-issuer", "", "issuer URL of the identity provider people sign in to the console with (OpenID Connect), "+
			"such as https://keycloak.example.com/realms/itil; empty offers token sign-in only"),
		clientID:   f.string("oidc-client-id", "", "itilflow's client id at the OpenID Connect provider"),
		secretFile: f.string("oidc-client-secret-file", "", "file holding itilflow's client secret at the OpenID Connect provider"),
		scopes: f.string("oidc-scopes", "profile", "scopes to ask the OpenID Connect provider for besides openid (space-separated); "+
			"the ID token must carry --jwt-user-claim and --jwt-roles-claim"),
		name: f.string("oidc-name", "", "name of the identity provider on the sign-in button; empty shows the issuer's host"),
	}
}

// config is the console's OpenID Connect configuration, or nil when there is
// no --oidc-issuer. base is the address people reach the console at: the
// provider sends them back to base + /oidc/callback. The claims map to people
// as JWTs' do (--jwt-user-claim, --jwt-roles-claim), so one person has one
// id however they sign in.
func (o oidcFlags) config(base string, j jwtFlags) (*console.OIDCConfig, error) {
	if *o.issuer == "" {
		return nil, nil
	}
	if *o.clientID == "" {
		return nil, fmt.Errorf("--oidc-issuer needs --oidc-client-id")
	}
	if base == "" {
		return nil, fmt.Errorf("--oidc-issuer needs --public-url: the provider sends people back to <public-url>/oidc/callback")
	}
	var secret string
	if *o.secretFile != "" {
		b, err := os.ReadFile(*o.secretFile)
		if err != nil {
			return nil, fmt.Errorf("oidc-client-secret-file: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	userClaim, rolesClaim := *j.userClaim, *j.rolesClaim
	return &console.OIDCConfig{
		Issuer: *o.issuer, ClientID: *o.clientID, ClientSecret: secret,
		RedirectURL: strings.TrimRight(base, "/") + "/oidc/callback",
		Scopes:      strings.Fields(*o.scopes), Name: *o.name,
		Actor: func(claims map[string]any) (engine.Actor, error) {
			return api.ActorOfClaims(claims, userClaim, rolesClaim)
		},
	}, nil
}
