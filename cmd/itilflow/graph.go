package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/itilflow/itilflow/diagram"
	"github.com/itilflow/itilflow/engine"
)

// runGraph implements `itilflow graph [--format mermaid|dot|svg] FILE`.
func runGraph(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("graph", getenv, stderr)
	format := f.String("format", "mermaid", "mermaid, dot (for Graphviz) or svg (drawn here by Graphviz)")
	beside := addBesideFlags(f)
	if err := f.parse(args); err != nil {
		return err
	}
	if f.NArg() != 1 {
		return errors.New("usage: itilflow graph [--format mermaid|dot|svg] FILE")
	}
	def, err := beside.compile(f.Arg(0), nil, stderr)
	if err != nil {
		return err
	}
	switch *format {
	case "mermaid":
		_, err = io.WriteString(stdout, engine.Mermaid(def))
	case "dot":
		_, err = io.WriteString(stdout, engine.DOT(def))
	case "svg":
		var svg string
		if svg, err = diagram.SVG(context.Background(), engine.DOT(def)); err == nil {
			_, err = io.WriteString(stdout, svg)
		}
	default:
		err = fmt.Errorf("--format %q: want mermaid, dot or svg", *format)
	}
	return err
}
