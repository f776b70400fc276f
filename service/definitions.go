package service

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/pmezard/go-difflib/difflib"
	"gopkg.in/yaml.v3"

	"github.com/itilflow/itilflow/diagram"
	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

// RoleProcessOwner writes the definitions of processes and publishes them.
const RoleProcessOwner = "process-owner"

// definitionCheckers may check definitions without publishing them: process
// owners, who write them, and admins, who answer for the system. Checking is
// the most expensive thing a person can ask for, so nobody else may.
var definitionCheckers = []string{RoleProcessOwner, store.RoleAdmin}

// MayCheckDefinitions refuses (EFORBIDDEN) a caller who may not check
// definitions, naming the roles that may. The console's pages for process
// owners are theirs.
func MayCheckDefinitions(caller Caller) error { return RequireRole(caller, definitionCheckers...) }

// MayPublishDefinitions refuses (EFORBIDDEN) a caller who may not publish a
// definition: only process owners do.
func MayPublishDefinitions(caller Caller) error { return RequireRole(caller, RoleProcessOwner) }

// Draft is the text of a definition as its author sends it, and what it is
// meant to be.
type Draft struct {
	Source []byte
	// Name is the definition the text must name (the one the author edits);
	// empty when any name will do.
	Name string
	// New says the text is a definition of its own: it must not name one that
	// exists.
	New bool
}

// CheckDefinition compiles a draft as it would be published, against the
// calendars and the published processes its start steps may name, and
// returns the definition or EINVALID with each problem at its line and
// column.
func (s *Service) CheckDefinition(ctx context.Context, caller Caller, d Draft) (*engine.Definition, error) {
	if err := MayCheckDefinitions(caller); err != nil {
		return nil, err
	}
	return s.check(ctx, d)
}

// PublishDefinition publishes a draft as the next version of its definition;
// created is false when the text is the latest version's already, which is
// returned. Running processes keep the version they started with; new
// processes get this one. The version is recorded with the origin api: the
// service is what the API and the console share.
func (s *Service) PublishDefinition(ctx context.Context, caller Caller, d Draft) (v store.Definition, created bool, err error) {
	if err := MayPublishDefinitions(caller); err != nil {
		return store.Definition{}, false, err
	}
	def, err := s.check(ctx, d)
	if err != nil {
		return store.Definition{}, false, err
	}
	return s.store.PublishDefinition(ctx, def, d.Source, caller.ID, caller.RequestID)
}

// check compiles a draft in a slot of s.heavy, within its budget, and holds
// it to its name.
func (s *Service) check(ctx context.Context, d Draft) (*engine.Definition, error) {
	const op = "service.CheckDefinition"
	if len(d.Source) > MaxDefinitionBytes {
		return nil, &engine.Error{Code: engine.EINVALID, Op: op, Message: fmt.Sprintf("the definition is larger than the limit of %d KiB", MaxDefinitionBytes>>10),
			Details: []engine.Detail{{Line: 1, Column: 1, Message: fmt.Sprintf("it has %d bytes", len(d.Source))}}}
	}
	published, err := s.store.Definitions(ctx)
	if err != nil {
		return nil, err
	}
	// Start steps may name any published process (or this one).
	names := make([]string, 0, len(published))
	for _, p := range published {
		names = append(names, p.Name)
	}
	def, err := bounded(ctx, s.heavy, "definition too complex to check", func() (*engine.Definition, error) {
		if err := checkYAMLExpansion(d.Source); err != nil {
			return nil, err
		}
		return engine.Compile(d.Source, engine.Env{Calendars: s.calendars, Processes: names})
	})
	if err != nil {
		return nil, err
	}
	line, col := namePosition(d.Source)
	switch {
	case d.Name != "" && def.Name != d.Name:
		return nil, &engine.Error{Code: engine.EINVALID, Op: op, Message: "definition name does not match the URL",
			Details: []engine.Detail{{Field: "name", Line: line, Column: col, Message: "is " + strconv.Quote(def.Name) + " but the URL says " + strconv.Quote(d.Name)}}}
	case d.New && slices.Contains(names, def.Name):
		return nil, &engine.Error{Code: engine.EINVALID, Op: op, Message: "a definition of that name exists",
			Details: []engine.Detail{{Field: "name", Line: line, Column: col, Message: "is " + strconv.Quote(def.Name) + ", which is taken: a new definition needs a name of its own"}}}
	}
	return def, nil
}

// namePosition is where a definition's text gives its name, for a problem
// with the name to point at; 1:1 when it cannot tell.
func namePosition(src []byte) (line, col int) {
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) == nil && len(doc.Content) > 0 {
		m := doc.Content[0]
		for i := 0; m.Kind == yaml.MappingNode && i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == "name" {
				return m.Content[i+1].Line, m.Content[i+1].Column
			}
		}
	}
	return 1, 1
}

// Catalog returns the latest version of every definition, retired ones too,
// with their retirements: what the people who read and write definitions
// see. Definitions are no one's records: everyone signed in may read them.
func (s *Service) Catalog(ctx context.Context) ([]store.Definition, error) {
	return s.store.Definitions(ctx)
}

// DefinitionVersions returns every version of a definition, newest first,
// without their sources.
func (s *Service) DefinitionVersions(ctx context.Context, name string) ([]store.Definition, error) {
	return s.store.DefinitionVersions(ctx, name)
}

// ParseVersion reads a version number as a person or a program writes it in
// the parameter field; "" is 0, the latest.
func ParseVersion(field, text string) (int, error) {
	if text == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < 1 {
		return 0, &engine.Error{Code: engine.EBADREQUEST, Op: "service.ParseVersion", Message: "bad query parameter",
			Details: []engine.Detail{{Field: field, Message: "must be a version number from 1"}}}
	}
	return n, nil
}

// DiffDefinition shows what changed from one version of a definition to
// another (0: the latest), as a unified diff of their text, computed in a
// slot of s.heavy.
func (s *Service) DiffDefinition(ctx context.Context, name string, from, to int) (string, error) {
	if from == 0 {
		return "", &engine.Error{Code: engine.EBADREQUEST, Op: "service.DiffDefinition", Message: "missing query parameter",
			Details: []engine.Detail{{Field: "from", Message: "is required"}}}
	}
	a, err := s.store.Definition(ctx, name, from)
	if err != nil {
		return "", err
	}
	b, err := s.store.Definition(ctx, name, to)
	if err != nil {
		return "", err
	}
	return bounded(ctx, s.heavy, "versions too different to compare", func() (string, error) {
		return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(a.Source), B: difflib.SplitLines(b.Source),
			FromFile: fmt.Sprintf("%s v%d", name, a.Version), ToFile: fmt.Sprintf("%s v%d", name, b.Version), Context: 3,
		})
	})
}

// Graph formats a definition can be drawn in.
const (
	GraphMermaid = "mermaid" // the default
	GraphDOT     = "dot"     // Graphviz
	GraphSVG     = "svg"     // Graphviz's layout, drawn
)

// DrawDefinition draws a version of a definition (0: the latest) as a state
// diagram in format ("" is Mermaid), in a slot of s.heavy.
func (s *Service) DrawDefinition(ctx context.Context, name string, version int, format string) (string, error) {
	d, err := s.store.Definition(ctx, name, version)
	if err != nil {
		return "", err
	}
	var draw func(*engine.Definition) (string, error)
	switch format {
	case "", GraphMermaid:
		draw = func(d *engine.Definition) (string, error) { return engine.Mermaid(d), nil }
	case GraphDOT:
		draw = func(d *engine.Definition) (string, error) { return engine.DOT(d), nil }
	case GraphSVG:
		draw = func(d *engine.Definition) (string, error) { return diagram.SVG(ctx, engine.DOT(d)) }
	default:
		return "", &engine.Error{Code: engine.EBADREQUEST, Op: "service.DrawDefinition", Message: "bad query parameter",
			Details: []engine.Detail{{Field: "format", Message: "must be mermaid, dot or svg"}}}
	}
	return bounded(ctx, s.heavy, "definition too complex to draw", func() (string, error) {
		return draw(&d.Compiled)
	})
}

// RetireDefinition stops new processes of a definition, every version of it;
// running processes go on, and publishing a new version does not reinstate
// it. The reason is required; the change is audited.
func (s *Service) RetireDefinition(ctx context.Context, caller Caller, name, reason string) (store.Retirement, error) {
	if err := RequireRole(caller, definitionCheckers...); err != nil {
		return store.Retirement{}, err
	}
	return s.store.RetireDefinition(ctx, name, reason, caller.ID, caller.RequestID)
}

// ReinstateDefinition lets a retired definition start processes again, of
// its latest version.
func (s *Service) ReinstateDefinition(ctx context.Context, caller Caller, name string) (store.Retirement, error) {
	if err := RequireRole(caller, definitionCheckers...); err != nil {
		return store.Retirement{}, err
	}
	return s.store.ReinstateDefinition(ctx, name, caller.ID, caller.RequestID)
}
