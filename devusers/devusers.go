// Package devusers reads definitions/dev-users.yaml, the demo users and groups
// of local development, and creates them with their fixed tokens. `itilflow
// dev` seeds them at every start, and so do the tests and the local cluster
// (package cluster) for `itilflow serve`, which never reads the file itself.
package devusers

import (
	"context"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/itilflow/itilflow/store"
)

// Seeder is the actor of the audit records of the demo groups.
const Seeder = "dev-users.yaml"

// User is one demo user and their token.
type User struct {
	ID    string   `yaml:"id"`
	Name  string   `yaml:"name"`
	Roles []string `yaml:"roles"`
	Token string   `yaml:"token"`
}

// Group is one demo group.
type Group struct {
	ID      string   `yaml:"id"`
	Name    string   `yaml:"name"`
	Members []string `yaml:"members"`
}

// Demo is dev-users.yaml: the demo users and their groups.
type Demo struct {
	Users  []User  `yaml:"users"`
	Groups []Group `yaml:"groups"`
}

// Seed creates the demo users of file with their tokens, then their groups.
// A group is set to its members in the file at every start; unchanged groups
// leave no audit record.
func Seed(ctx context.Context, st *store.Store, file string) (Demo, error) {
	var doc Demo
	src, err := os.ReadFile(file)
	if err != nil {
		return doc, fmt.Errorf("dev users: %w", err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(src)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return doc, fmt.Errorf("%s: %w", file, err)
	}
	for _, u := range doc.Users {
		if u.ID == "" || u.Token == "" {
			return doc, fmt.Errorf("%s: every user needs an id and a token", file)
		}
		if err := st.UpsertUser(ctx, store.User{ID: u.ID, Name: u.Name, Roles: u.Roles}); err != nil {
			return doc, err
		}
		if err := st.AddToken(ctx, u.ID, u.Token, "dev"); err != nil {
			return doc, err
		}
	}
	for _, g := range doc.Groups {
		if err := st.SaveGroup(ctx, store.Group{ID: g.ID, Name: g.Name, Members: g.Members}, Seeder); err != nil {
			return doc, fmt.Errorf("%s: group %q: %w", file, g.ID, err)
		}
	}
	return doc, nil
}
