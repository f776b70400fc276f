package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/itilflow/itilflow/store"
)

const groupUsage = `usage:
  itilflow group add ID --name NAME --members USER[,USER...]   create a group or replace its name and members
  itilflow group list                                          list the groups and their members`

// runGroup manages groups of users in DATABASE_URL. Every change is in the audit
// log, as done by the operating-system user who ran the command.
func runGroup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, groupUsage)
		return fmt.Errorf("group: give a subcommand")
	}
	sub, rest, id := args[0], args[1:], ""
	if sub == "add" {
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			fmt.Fprintln(stderr, groupUsage)
			return fmt.Errorf("group add: give the group's id")
		}
		id, rest = rest[0], rest[1:]
	}
	f := newFlags("group "+sub, getenv, stderr)
	name := f.String("name", "", "the group's name (add; default its id)")
	members := f.String("members", "", "comma-separated user ids: the group's members become exactly these (add)")
	keyFile := f.auditKeyFile()
	loc := f.local()
	if err := f.parse(rest); err != nil {
		return err
	}
	if sub != "add" && sub != "list" {
		fmt.Fprintln(stderr, groupUsage)
		return fmt.Errorf("group: unknown subcommand %q", sub)
	}
	st, err := openCLIStore(ctx, *keyFile, loc)
	if err != nil {
		return err
	}
	defer st.Close()
	if sub == "add" {
		if *name == "" {
			*name = id
		}
		if err := st.SaveGroup(ctx, store.Group{ID: id, Name: *name, Members: splitList(*members)}, operator()); err != nil {
			return err
		}
		g, err := st.GroupByID(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "group %s saved with members %s\n", id, strings.Join(g.Members, ", "))
		return nil
	}
	groups, err := st.Groups(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tMEMBERS")
	for _, g := range groups {
		fmt.Fprintf(w, "%s\t%s\t%s\n", g.ID, g.Name, strings.Join(g.Members, ","))
	}
	return w.Flush()
}
