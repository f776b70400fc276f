package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

const definitionsUsage = `usage:
  itilflow definitions publish [--by NAME] FILE...            publish files as a person (calendars.yaml beside each, else 24x7)
  itilflow definitions list                                   latest versions: origin, publisher, retirement
  itilflow definitions retire NAME --reason TEXT [--by NAME]  start no new processes of NAME; running ones go on
  itilflow definitions reinstate NAME [--by NAME]             let NAME start processes again`

// runDefinitions publishes, lists, retires and reinstates definitions in
// DATABASE_URL, for those who run serve. Publishing here is publishing as a
// person: a definitions directory at start never publishes its file over it.
// Every change is in the audit log, as done by --by.
func runDefinitions(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, definitionsUsage)
		return fmt.Errorf("definitions: give a subcommand")
	}
	sub, rest, name := args[0], args[1:], ""
	switch sub {
	case "publish", "list":
	case "retire", "reinstate":
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			fmt.Fprintln(stderr, definitionsUsage)
			return fmt.Errorf("definitions %s: give the definition's name", sub)
		}
		name, rest = rest[0], rest[1:]
	default:
		fmt.Fprintln(stderr, definitionsUsage)
		return fmt.Errorf("definitions: unknown subcommand %q", sub)
	}
	by := getenv("USER")
	if by == "" {
		by = "cli"
	}
	f := newFlags("definitions "+sub, getenv, stderr)
	f.StringVar(&by, "by", by, "who publishes, retires or reinstates, for the record (default $USER, else cli)")
	reason := f.String("reason", "", "why no new processes may start (retire)")
	keyFile := f.auditKeyFile()
	loc := f.local()
	if err := f.parse(rest); err != nil {
		return err
	}
	if strings.TrimSpace(by) == "" {
		return fmt.Errorf("definitions %s: --by must name who does it", sub)
	}
	files := f.Args()
	if sub == "publish" && len(files) == 0 {
		fmt.Fprintln(stderr, definitionsUsage)
		return fmt.Errorf("definitions publish: give the files to publish")
	}
	st, err := openCLIStore(ctx, *keyFile, loc)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "publish":
		return publishFiles(ctx, st, files, by, stdout, stderr)
	case "list":
		return listDefinitions(ctx, st, stdout)
	case "retire":
		r, err := st.RetireDefinition(ctx, name, *reason, by, "")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s retired by %s at %s: it starts no new processes; running ones go on (itilflow definitions reinstate %s to undo)\n",
			r.Name, r.RetiredBy, r.RetiredAt.UTC().Format(time.RFC3339), r.Name)
	case "reinstate":
		r, err := st.ReinstateDefinition(ctx, name, by, "")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s reinstated by %s: it starts processes again (it was retired by %s at %s: %s)\n",
			r.Name, r.ReinstatedBy, r.RetiredBy, r.RetiredAt.UTC().Format(time.RFC3339), r.Reason)
	}
	return nil
}

// publishFiles checks every file and publishes them all, or none if one has a
// problem. A start step may name a published process or one of the files.
func publishFiles(ctx context.Context, st *store.Store, files []string, by string, stdout, stderr io.Writer) error {
	published, err := st.Definitions(ctx)
	if err != nil {
		return err
	}
	var names []string
	for _, d := range published {
		names = append(names, d.Name)
	}
	sources := make([][]byte, len(files))
	for i, file := range files {
		if sources[i], err = os.ReadFile(file); err != nil {
			return err
		}
		names = append(names, definitionName(sources[i]))
	}
	defs := make([]*engine.Definition, len(files))
	bad := 0
	for i, file := range files {
		calendars, err := loadCalendars(filepath.Join(filepath.Dir(file), calendarsFile))
		if err != nil {
			return err
		}
		if defs[i], err = engine.Compile(sources[i], engine.Env{Calendars: calendars, Processes: names}); err != nil {
			bad++
			for _, line := range formatProblems(file, err) {
				fmt.Fprintln(stderr, line)
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d file(s) have problems; nothing published", bad, len(files))
	}
	for i, file := range files {
		d, created, err := st.Publish(ctx, defs[i], sources[i], store.Publication{Origin: store.OriginCLI, File: file, By: by})
		if err != nil {
			return fmt.Errorf("publish %s: %w", file, err)
		}
		if created {
			fmt.Fprintf(stdout, "published %s v%d from %s (%s)\n", d.Name, d.Version, file, d.Hash)
		} else {
			fmt.Fprintf(stdout, "%s: %s is already v%d (published by %s); nothing published\n", d.Name, file, d.Version, d.PublishedBy)
		}
		// Publishing does not reinstate: say so, or the publisher may expect starts.
		var retired *engine.Error
		if err := st.CheckStartable(ctx, d); errors.As(err, &retired) && retired.Code == engine.ECONFLICT {
			fmt.Fprintf(stderr, "note: %s; itilflow definitions reinstate %s lets it start processes\n", retired.Message, d.Name)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// listDefinitions prints the latest version of every definition as a table.
func listDefinitions(ctx context.Context, st *store.Store, stdout io.Writer) error {
	defs, err := st.Definitions(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tVERSION\tORIGIN\tPUBLISHED BY\tPUBLISHED AT\tRETIRED")
	for _, d := range defs {
		origin := d.Origin
		if d.File != "" {
			origin += " " + d.File
		}
		retired := "no"
		if d.RetiredAt != nil {
			retired = fmt.Sprintf("by %s at %s: %s", d.RetiredBy, d.RetiredAt.UTC().Format(time.RFC3339), d.RetiredReason)
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", d.Name, d.Version, origin, d.PublishedBy, d.PublishedAt.UTC().Format(time.RFC3339), retired)
	}
	return w.Flush()
}
