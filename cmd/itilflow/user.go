package main

import (
	"context"
	"fmt"
	"io"
	"os/user"
	"strings"

	"github.com/itilflow/itilflow/gate"
	"github.com/itilflow/itilflow/store"
)

const userUsage = `usage:
  itilflow user add ID --name NAME --roles ROLE[,ROLE...] [--email ADDRESS] [--channel email|webhook|none] [--language en|zh-Hans] [--reminder-digest]
                                                            create or update a user (what is left out is cleared)
  itilflow user token ID [--label LABEL]                    issue a token (printed once)
  itilflow user revoke ID [--label LABEL]                   revoke the user's tokens (or the labelled ones)`

// runUser manages users and API tokens in DATABASE_URL. Every change is in the
// audit log, as done by the operating-system user who ran the command.
func runUser(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 || strings.HasPrefix(args[1], "-") {
		fmt.Fprintln(stderr, userUsage)
		return fmt.Errorf("user: give a subcommand and a user id")
	}
	sub, id := args[0], args[1]
	f := newFlags("user "+sub, getenv, stderr)
	name := f.String("name", "", "the user's name (add)")
	roles := f.String("roles", "", "comma-separated roles (add)")
	label := f.String("label", "", "the token's label (token, revoke)")
	email := f.String("email", "", "the address notification e-mails go to (add)")
	channel := f.String("channel", "", "how notifications reach the user: email, webhook or none; empty: e-mail when there is an address (add)")
	lang := f.String("language", "", "the language of the user's e-mails: en or zh-Hans; empty: English (add)")
	digest := f.Bool("reminder-digest", false, "send the user's reminders in one e-mail a day, after 00:00 UTC, instead of one each (add)")
	keyFile := f.auditKeyFile()
	loc := f.local()
	if err := f.parse(args[2:]); err != nil {
		return err
	}
	st, err := openCLIStore(ctx, *keyFile, loc)
	if err != nil {
		return err
	}
	defer st.Close()
	by := operator()
	switch sub {
	case "add":
		if *name == "" {
			*name = id
		}
		// The API's gate, for text typed on a command line: no NUL, valid
		// UTF-8, normal form C.
		u := store.User{ID: id, Roles: splitList(*roles), Channel: *channel, Language: *lang, Digest: *digest}
		for _, t := range []struct {
			field string
			in    string
			out   *string
		}{{"name", *name, &u.Name}, {"email", strings.TrimSpace(*email), &u.Email}} {
			v, err := gate.Text(t.field, t.in)
			if err != nil {
				return err
			}
			*t.out = v
		}
		if err := st.SaveUser(ctx, u, by); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s saved with roles %s\n", id, strings.Join(splitList(*roles), ", "))
	case "token":
		token, err := st.IssueToken(ctx, id, *label, by)
		if err != nil {
			return err
		}
		// The token alone on stdout, so scripts can capture it; it is never shown again.
		fmt.Fprintln(stdout, token)
		fmt.Fprintf(stderr, "token for %s issued; store it now: only its digest is kept\n", id)
	case "revoke":
		n, err := st.RevokeTokens(ctx, id, *label, by)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d token(s) of %s revoked\n", n, id)
	default:
		fmt.Fprintln(stderr, userUsage)
		return fmt.Errorf("user: unknown subcommand %q", sub)
	}
	return nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	out := []string{}
	for _, r := range strings.Split(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// operator names who ran a command, for the audit log.
func operator() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}
