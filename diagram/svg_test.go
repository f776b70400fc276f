package diagram

import (
	"context"
	"encoding/xml"
	"strings"
	"testing"
)

func TestSVGDrawsTheGraph(t *testing.T) {
	out, err := SVG(context.Background(), `digraph "t" { new -> "in progress" [label="acknowledge"]; }`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "in progress", "acknowledge"} {
		if !strings.Contains(out, want) {
			t.Fatalf("the SVG lacks %q:\n%s", want, out)
		}
	}
	// It is well-formed XML, so browsers show it as an image.
	d := xml.NewDecoder(strings.NewReader(out))
	d.Strict, d.Entity = false, xml.HTMLEntity
	for {
		if _, err := d.Token(); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("not XML: %v", err)
		}
	}
	if _, err := SVG(context.Background(), "digraph {"); err == nil {
		t.Fatal("a broken graph drew")
	}
}
