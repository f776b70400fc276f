package console

import (
	"context"
	"fmt"
	"sync"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

// names says what people read for a definition's title and the names of its
// states, actions, fields and SLAs: the labels of the reader's language, else
// the names themselves.
type names struct {
	labels *engine.Labels
	title  string // the definition's own title, else its name
}

// Title is the definition's title.
func (n names) Title() string {
	if n.labels != nil && n.labels.Title != "" {
		return n.labels.Title
	}
	return n.title
}

func (n names) of(kind, name string) string {
	if s := n.labels.Text(kind, name); s != "" {
		return s
	}
	return name
}

// State, Action, Field and SLA are the labels of the named thing.
func (n names) State(name string) string  { return n.of(engine.LabelState, name) }
func (n names) Action(name string) string { return n.of(engine.LabelAction, name) }
func (n names) Field(name string) string  { return n.of(engine.LabelField, name) }
func (n names) SLA(name string) string    { return n.of(engine.LabelSLA, name) }

// labelCache keeps the labels of each published version, read once from its
// source: versions never change.
type labelCache struct {
	mu       sync.Mutex
	versions map[string][]engine.Labels
}

// namesOf returns the names of a published version in the locale's language.
// A version whose labels cannot be read shows its names (the page still
// works; the log says why).
func (c *Console) namesOf(ctx context.Context, l *locale, d store.Definition) names {
	n := names{title: d.Title}
	if n.title == "" {
		n.title = d.Name
	}
	key := fmt.Sprintf("%s@%d", d.Name, d.Version)
	c.labels.mu.Lock()
	all, ok := c.labels.versions[key]
	c.labels.mu.Unlock()
	if !ok {
		if d.Source == "" { // a list's entry: lists leave the source out
			full, err := c.svc.Definition(ctx, d.Name, d.Version)
			if err != nil {
				return n // not cached: the next page tries again
			}
			d = full
		}
		var err error
		if all, err = engine.ParseLabels([]byte(d.Source)); err != nil {
			c.log.Warn("console: reading a definition's labels", "definition", key, "error", err)
		}
		c.labels.mu.Lock()
		c.labels.versions[key] = all
		c.labels.mu.Unlock()
	}
	def := engine.Definition{Labels: all}
	n.labels = def.LabelsFor(l.tag)
	return n
}

// namesByVersion returns the names of name@version, reading the version
// once per page.
func (c *Console) namesByVersion(ctx context.Context, l *locale, seen map[string]names, name string, version int) names {
	key := fmt.Sprintf("%s@%d", name, version)
	if n, ok := seen[key]; ok {
		return n
	}
	n := names{title: name}
	if d, err := c.svc.Definition(ctx, name, version); err == nil {
		n = c.namesOf(ctx, l, d)
	}
	seen[key] = n
	return n
}
