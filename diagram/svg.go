// Package diagram draws state diagrams as SVG with Graphviz, compiled to
// WebAssembly and run in process (github.com/goccy/go-graphviz): no dot
// binary on the host, the same drawing everywhere.
package diagram

import (
	"bytes"
	"context"
	"fmt"

	"github.com/goccy/go-graphviz"
)

// SVG lays out a Graphviz DOT graph and draws it as an SVG document. Each
// call has its own Graphviz instance (about a millisecond to make), so calls
// may run at once.
func SVG(ctx context.Context, dot string) (string, error) {
	g, err := graphviz.New(ctx)
	if err != nil {
		return "", fmt.Errorf("diagram: starting graphviz: %w", err)
	}
	defer g.Close()
	graph, err := graphviz.ParseBytes([]byte(dot))
	if err != nil {
		return "", fmt.Errorf("diagram: parsing the graph: %w", err)
	}
	defer graph.Close()
	var buf bytes.Buffer
	if err := g.Render(ctx, graph, graphviz.SVG, &buf); err != nil {
		return "", fmt.Errorf("diagram: drawing: %w", err)
	}
	return buf.String(), nil
}
