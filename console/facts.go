package console

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/service"
	"github.com/itilflow/itilflow/store"
)

// fact is one thing a person deciding on a process needs to read: its risk,
// its plans, its description.
type fact struct {
	Name, Value string
	// URL, when set, is the page of what the value names: a configuration
	// item's, or a knowledge article's.
	URL string
}

// listFactLimit bounds each fact's text on a page that lists many
// processes; the process's own page shows it whole.
const listFactLimit = 600

// factsOf are the values a process was given, in the order its definition
// asks for them — its input, then each action's input — leaving out the title
// (shown as the heading) and empty values. It needs no list of the fields that
// matter: what the process owner made people fill in is what others read.
// Each text is cut at limit runes, when limit is above zero; each fact is
// named by its label in n.
func factsOf(v engine.View, d *engine.Definition, limit int, n names) []fact {
	var out []fact
	seen := map[string]bool{"title": true}
	add := func(f engine.Field) {
		if seen[f.Name] {
			return
		}
		seen[f.Name] = true
		val, ok := v.Vars[f.Name]
		if !ok {
			val, ok = v.Input[f.Name]
		}
		if t, isTime := val.(string); ok && isTime && f.Type == engine.TypeDatetime {
			// Datetimes are stored as RFC 3339; pages show UTC, as every time.
			if at, err := time.Parse(time.RFC3339Nano, t); err == nil {
				val = formatTime(at, timeLayout)
			}
		}
		if s := factText(val, limit); ok && s != "" {
			fa := fact{Name: n.Field(f.Name), Value: s}
			switch f.Type {
			case engine.TypeCI:
				fa.URL = "/cis/" + url.PathEscape(s)
			case engine.TypeKnowledge:
				fa.URL = "/processes/" + url.PathEscape(s)
			}
			out = append(out, fa)
		}
	}
	for _, f := range d.Input {
		add(f)
	}
	for _, st := range d.States {
		for _, a := range st.Actions {
			for _, f := range a.Input {
				add(f)
			}
		}
	}
	return out
}

// factText is a value as text, cut at limit runes when limit is above zero.
func factText(v any, limit int) string {
	var s string
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		s = x
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = fmt.Sprint(p)
		}
		s = strings.Join(parts, ", ")
	default:
		s = fmt.Sprint(x)
	}
	if r := []rune(s); limit > 0 && len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}

// factsByID reads the processes ids, as the caller, in one query, and
// returns the facts of each; those they may not see (a meeting's member may
// not see every change) have none.
func (c *Console) factsByID(ctx context.Context, l *locale, caller service.Caller, ids []string) map[string][]fact {
	out := map[string][]fact{}
	if len(ids) == 0 {
		return out
	}
	list, err := c.svc.Processes(ctx, caller, store.ProcessFilter{IDs: ids, Limit: len(ids)})
	if err != nil {
		c.log.Warn("console: reading an agenda's processes", "error", err)
		return out
	}
	type version struct {
		def   *engine.Definition
		names names
	}
	defs := map[string]version{}
	for _, v := range list.Items {
		key := fmt.Sprintf("%s@%d", v.Definition, v.Version)
		d, ok := defs[key]
		if !ok {
			sd, err := c.svc.Definition(ctx, v.Definition, v.Version)
			if err != nil {
				continue
			}
			d = version{&sd.Compiled, c.namesOf(ctx, l, sd)}
			defs[key] = d
		}
		out[v.ID] = factsOf(v.View, d.def, listFactLimit, d.names)
	}
	return out
}
