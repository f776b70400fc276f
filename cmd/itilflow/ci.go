package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"gopkg.in/yaml.v3"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

const ciUsage = `usage:
  itilflow ci import FILE     create or replace configuration items from YAML or CSV, all or none
  itilflow ci list            list the configuration item registry

A YAML file is a list of items, or {items: [...]}, each with id and optionally name,
type, service, owner, location and parent. A CSV file has a header row naming those
columns (id is required; unknown columns are refused). A file ending .csv is CSV,
anything else YAML.`

// ciColumns are the fields of an item, as a CSV header or YAML keys name them.
var ciColumns = []string{"id", "name", "type", "service", "owner", "location", "parent"}

// runCI manages the configuration item registry in DATABASE_URL. An import is
// one transaction and one audit record, as done by the operating-system user
// who ran the command; importing the same file again changes nothing.
func runCI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, ciUsage)
		return fmt.Errorf("ci: give a subcommand")
	}
	sub, rest, file := args[0], args[1:], ""
	if sub == "import" {
		if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
			fmt.Fprintln(stderr, ciUsage)
			return fmt.Errorf("ci import: give the file to import")
		}
		file, rest = rest[0], rest[1:]
	}
	f := newFlags("ci "+sub, getenv, stderr)
	keyFile := f.auditKeyFile()
	loc := f.local()
	if err := f.parse(rest); err != nil {
		return err
	}
	if sub != "import" && sub != "list" {
		fmt.Fprintln(stderr, ciUsage)
		return fmt.Errorf("ci: unknown subcommand %q", sub)
	}
	var items []store.CI
	if sub == "import" {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if items, err = readCIs(file, data); err != nil {
			return err
		}
	}
	st, err := openCLIStore(ctx, *keyFile, loc)
	if err != nil {
		return err
	}
	defer st.Close()
	if sub == "import" {
		n, err := st.SaveCIs(ctx, items, operator())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d configuration items read from %s, %d created or changed\n", len(items), file, n)
		return nil
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tTYPE\tSERVICE\tOWNER\tLOCATION\tPARENT")
	for offset := 0; ; offset += 1000 {
		page, total, err := st.CIs(ctx, store.CIFilter{Limit: 1000, Offset: offset})
		if err != nil {
			return err
		}
		for _, c := range page {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, c.Type, c.Service, c.Owner, c.Location, c.Parent)
		}
		if offset+len(page) >= total || len(page) == 0 {
			break
		}
	}
	return w.Flush()
}

// readCIs reads the items of a YAML or CSV file (by its extension). A
// problem names the file and where in it: a YAML line, or a CSV row.
func readCIs(name string, data []byte) ([]store.CI, error) {
	if strings.EqualFold(filepath.Ext(name), ".csv") {
		return readCIsCSV(name, data)
	}
	return readCIsYAML(name, data)
}

func readCIsCSV(name string, data []byte) ([]store.CI, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF")))) // a spreadsheet's byte-order mark
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, invalidFile(name, "the file is empty; the first row names the columns (id, name, type, service, owner, location, parent)")
	}
	if err != nil {
		return nil, invalidFile(name, err.Error())
	}
	cols := make([]string, len(header))
	hasID := false
	for i, h := range header {
		cols[i] = strings.ToLower(strings.TrimSpace(h))
		if !contains(ciColumns, cols[i]) {
			return nil, invalidFile(name, fmt.Sprintf("row 1: unknown column %q (columns: %s)", h, strings.Join(ciColumns, ", ")))
		}
		hasID = hasID || cols[i] == "id"
	}
	if !hasID {
		return nil, invalidFile(name, "row 1: no id column")
	}
	var out []store.CI
	for row := 2; ; row++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, invalidFile(name, err.Error())
		}
		var c store.CI
		for i, v := range rec {
			setCIField(&c, cols[i], strings.TrimSpace(v))
		}
		if c.ID == "" {
			return nil, invalidFile(name, fmt.Sprintf("row %d: no id", row))
		}
		out = append(out, c)
	}
}

func readCIsYAML(name string, data []byte) ([]store.CI, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, invalidFile(name, err.Error())
	}
	if len(doc.Content) == 0 {
		return nil, invalidFile(name, "the file is empty")
	}
	list := doc.Content[0]
	if list.Kind == yaml.MappingNode {
		list = nil
		for i := 0; i+1 < len(doc.Content[0].Content); i += 2 {
			if k := doc.Content[0].Content[i]; k.Value == "items" {
				list = doc.Content[0].Content[i+1]
			} else {
				return nil, invalidFile(name, fmt.Sprintf("line %d: unknown key %q (the file holds items)", k.Line, k.Value))
			}
		}
	}
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil, invalidFile(name, "expected a list of items, or items: [...]")
	}
	out := make([]store.CI, 0, len(list.Content))
	for _, n := range list.Content {
		if n.Kind != yaml.MappingNode {
			return nil, invalidFile(name, fmt.Sprintf("line %d: an item is a mapping with id, name, type, service, owner, location, parent", n.Line))
		}
		var c store.CI
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if !contains(ciColumns, k.Value) {
				return nil, invalidFile(name, fmt.Sprintf("line %d: unknown key %q (keys: %s)", k.Line, k.Value, strings.Join(ciColumns, ", ")))
			}
			if v.Kind != yaml.ScalarNode {
				return nil, invalidFile(name, fmt.Sprintf("line %d: %s must be a string", v.Line, k.Value))
			}
			setCIField(&c, k.Value, v.Value)
		}
		if c.ID == "" {
			return nil, invalidFile(name, fmt.Sprintf("line %d: an item needs an id", n.Line))
		}
		out = append(out, c)
	}
	return out, nil
}

func setCIField(c *store.CI, col, v string) {
	switch col {
	case "id":
		c.ID = v
	case "name":
		c.Name = v
	case "type":
		c.Type = v
	case "service":
		c.Service = v
	case "owner":
		c.Owner = v
	case "location":
		c.Location = v
	case "parent":
		c.Parent = v
	}
}

func invalidFile(name, msg string) error {
	return &engine.Error{Code: engine.EINVALID, Op: "itilflow ci import", Message: name + ": " + msg}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
