package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/itilflow/itilflow/engine"
)

// runGraph implements `itilflow graph [--format mermaid|dot] FILE`.
func runGraph(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("graph", getenv, stderr)
	format := f.String("format", "mermaid", "mermaid or dot (render dot with: dot -Tsvg)")
	beside := addBesideFlags(f)
	if err := f.parse(args); err != nil {
		return err
	}
	if f.NArg() != 1 {
		return errors.New("usage: itilflow graph [--format mermaid|dot] FILE")
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
	default:
		err = fmt.Errorf("--format %q: want mermaid or dot", *format)
	}
	return err
}
