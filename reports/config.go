// Package reports computes the customer's measures (fault summary, SLA
// attainment, resolution rates, response times, daily log, report
// punctuality, changes, staff scores) from the PostgreSQL projection, as
// definitions/reports.yaml says which processes, fields and SLA clocks make
// each figure.
//
// Business time is never recomputed here: durations are the SLA engine's
// recorded clocks (process_slas), and the few deadlines a report keeps itself
// (a written report due in 3 days, an approval's turnaround) use the engine's
// calendar arithmetic (engine.Calendar).
package reports

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/itilflow/itilflow/engine"
)

// File is the name of the report configuration beside the definitions.
const File = "reports.yaml"

// Config is a parsed, validated reports.yaml.
type Config struct {
	// TimeZone is where days, months and quarters begin; Location is it loaded.
	TimeZone string
	Location *time.Location
	// Calendar names the calendar report deadlines and approval turnaround
	// count in; Cal is it built by the engine.
	Calendar string
	Cal      engine.Calendar

	// Withdrawn are end states of processes withdrawn rather than served (a
	// duplicate cancelled, a problem rejected): their clocks count in no
	// SLA attainment, as ServiceNow leaves cancelled SLAs out.
	Withdrawn []string

	Incidents       []IncidentSource
	FaultCategories FaultCategories
	Problems        []ProblemSource
	Changes         Changes
	Punctuality     []Punctuality
	SLAWeights      []SLAWeight
	Staff           Staff
}

// IncidentSource says how one definition's processes count as faults.
type IncidentSource struct {
	Definition string
	// Major marks every process as a major fault; MajorPriorities those of
	// these priorities.
	Major           bool
	MajorPriorities []string
	// Category is the input or variable holding the fault category ("" none).
	Category string
	// Response and Resolution name the SLA clocks of acknowledging and of
	// restoring service.
	Response, Resolution string
	// Resolved are the end states of a resolved process.
	Resolved []string
}

// FaultCategories say which category values are system and device faults.
type FaultCategories struct {
	System, Device []string
}

// ProblemSource says when a problem counts as solved: ended in one of
// SolvedStates, entered from one of SolvedFrom (any state when empty).
type ProblemSource struct {
	Definition   string
	SolvedStates []string
	SolvedFrom   []string
}

// Changes say which processes are changes and how they end.
type Changes struct {
	Definitions []string
	Emergency   []string
	Succeeded   []string
	Failed      []string
	// Decision is the SLA clock that runs while a change awaits its decision.
	Decision string
	Boards   []Board
}

// Board is a definition whose processes are CAB meetings; Meeting is the state
// in which the meeting decides.
type Board struct {
	Definition string
	Meeting    string
}

// Punctuality is a report that falls due when a process enters DueOnEnter and
// is delivered by the action DeliveredBy, within Within of the calendar.
type Punctuality struct {
	Definition  string
	DueOnEnter  string
	DeliveredBy string
	Within      time.Duration
}

// SLAWeight is one agreed indicator of the weighted SLA attainment. Priority
// "" means every priority.
type SLAWeight struct {
	Definition, SLA, Priority string
	Weight                    float64
}

// Staff configures the staff scores.
type Staff struct {
	Weights                   StaffWeights
	Recovery, ProblemHandling Credit
	Satisfaction              Satisfaction
}

// StaffWeights are the relative weights of the four parts of a score.
type StaffWeights struct {
	Satisfaction, Workload, ProblemHandling, Recovery float64
}

// Credit says which action credits a person with a process, and which SLA
// clock says whether they were on time.
type Credit struct {
	Definition, Action, SLA string
}

// Satisfaction is the field a customer rates the handling in, out of Scale.
type Satisfaction struct {
	Definition, Field string
	Scale             float64
}

// Parse reads reports.yaml and checks every name in it against the compiled
// definitions (by name) and calendars. Problems come back like engine.Parse's:
// an *engine.Error of code EINVALID with a Detail at line:column each.
func Parse(src []byte, defs map[string]*engine.Definition, calendars engine.Calendars) (*Config, error) {
	const op = "reports.Parse"
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, &engine.Error{Code: engine.EINVALID, Op: op, Message: "reports.yaml is not valid YAML", Details: []engine.Detail{{Line: 1, Column: 1, Message: strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	p := &parser{defs: defs, calendars: calendars}
	c := &Config{TimeZone: "UTC", Calendar: engine.Calendar24x7}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.problem(&doc, "", "reports.yaml is empty")
	} else {
		p.config(doc.Content[0], c)
	}
	if len(p.problems) > 0 {
		sort.SliceStable(p.problems, func(i, j int) bool {
			a, b := p.problems[i], p.problems[j]
			return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
		})
		return nil, &engine.Error{Code: engine.EINVALID, Op: op, Message: fmt.Sprintf("reports.yaml has %d problem(s)", len(p.problems)), Details: p.problems}
	}
	return c, nil
}

// parser walks the YAML nodes, collecting every problem with its position so
// a process owner sees all of them at once, as engine.Parse does.
type parser struct {
	problems  []engine.Detail
	defs      map[string]*engine.Definition
	calendars engine.Calendars
}

func (p *parser) problem(n *yaml.Node, path, format string, args ...any) {
	p.problems = append(p.problems, engine.Detail{Line: n.Line, Column: n.Column, Field: path, Message: fmt.Sprintf(format, args...)})
}

// fields is the table of a mapping's keys: each key's reader. Every mapping
// is walked by fields.walk, which reports unknown, repeated and missing keys.
type fields map[string]func(n *yaml.Node, path string)

func (p *parser) walk(n *yaml.Node, path string, fs fields, required ...string) {
	if n.Kind != yaml.MappingNode {
		p.problem(n, path, "must be a mapping")
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		sub := join(path, k.Value)
		read, ok := fs[k.Value]
		switch {
		case !ok:
			p.problem(k, sub, "unknown key (known: %s)", strings.Join(sortedKeys(fs), ", "))
		case seen[k.Value]:
			p.problem(k, sub, "repeated key")
		default:
			seen[k.Value] = true
			read(v, sub)
		}
	}
	for _, r := range required {
		if !seen[r] {
			p.problem(n, path, "%s is required", r)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys(fs fields) []string {
	out := make([]string, 0, len(fs))
	for k := range fs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (p *parser) str(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n.Kind != yaml.ScalarNode || n.Value == "" {
			p.problem(n, path, "must be a non-empty string")
			return
		}
		*dst = n.Value
	}
}

func (p *parser) strs(dst *[]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n.Kind != yaml.SequenceNode {
			p.problem(n, path, "must be a list")
			return
		}
		for i, e := range n.Content {
			if e.Kind != yaml.ScalarNode || e.Value == "" {
				p.problem(e, fmt.Sprintf("%s[%d]", path, i), "must be a non-empty string")
				continue
			}
			*dst = append(*dst, e.Value)
		}
	}
}

func (p *parser) boolean(dst *bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n.Kind != yaml.ScalarNode || n.Decode(dst) != nil {
			p.problem(n, path, "must be true or false")
		}
	}
}

func (p *parser) number(dst *float64) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		f, err := strconv.ParseFloat(n.Value, 64)
		if n.Kind != yaml.ScalarNode || err != nil || f < 0 {
			p.problem(n, path, "must be a number, 0 or more")
			return
		}
		*dst = f
	}
}

func (p *parser) list(n *yaml.Node, path string, each func(n *yaml.Node, path string)) {
	if n.Kind != yaml.SequenceNode {
		p.problem(n, path, "must be a list")
		return
	}
	for i, e := range n.Content {
		each(e, fmt.Sprintf("%s[%d]", path, i))
	}
}

// pos remembers where a name was written, for the checks against the
// definitions once the whole entry is read.
type pos struct {
	n    *yaml.Node
	path string
}

func (p *parser) at(n *yaml.Node, path string) pos { return pos{n, path} }

func (p *parser) config(root *yaml.Node, c *Config) {
	var tz, cal pos
	p.walk(root, "", fields{
		"timezone": func(n *yaml.Node, path string) { p.str(&c.TimeZone)(n, path); tz = p.at(n, path) },
		"calendar": func(n *yaml.Node, path string) { p.str(&c.Calendar)(n, path); cal = p.at(n, path) },
		"withdrawn": func(n *yaml.Node, path string) {
			p.strs(&c.Withdrawn)(n, path)
			for _, st := range c.Withdrawn {
				if !p.anyState(st) {
					p.problem(n, path, "no definition has a state %q", st)
				}
			}
		},
		"incidents": func(n *yaml.Node, path string) {
			p.list(n, path, func(n *yaml.Node, path string) { c.Incidents = append(c.Incidents, p.incident(n, path)) })
		},
		"fault_categories": func(n *yaml.Node, path string) {
			p.walk(n, path, fields{"system": p.strs(&c.FaultCategories.System), "device": p.strs(&c.FaultCategories.Device)})
		},
		"problems": func(n *yaml.Node, path string) {
			p.list(n, path, func(n *yaml.Node, path string) { c.Problems = append(c.Problems, p.problemSource(n, path)) })
		},
		"changes": func(n *yaml.Node, path string) { c.Changes = p.changes(n, path) },
		"punctuality": func(n *yaml.Node, path string) {
			p.list(n, path, func(n *yaml.Node, path string) { c.Punctuality = append(c.Punctuality, p.punctuality(n, path)) })
		},
		"sla_attainment": func(n *yaml.Node, path string) {
			p.list(n, path, func(n *yaml.Node, path string) { c.SLAWeights = append(c.SLAWeights, p.slaWeight(n, path)) })
		},
		"staff_scores": func(n *yaml.Node, path string) { c.Staff = p.staff(n, path) },
	}, "timezone", "incidents")
	if tz.n != nil {
		loc, err := time.LoadLocation(c.TimeZone)
		if err != nil {
			p.problem(tz.n, tz.path, "unknown time zone %q", c.TimeZone)
		}
		c.Location = loc
	}
	c.Cal = p.calendar(c.Calendar, cal)
	if c.Location == nil {
		c.Location = time.UTC
	}
}

// calendar builds the named calendar as the engine would for a definition,
// so a deadline here is counted exactly as an SLA target is.
func (p *parser) calendar(name string, at pos) engine.Calendar {
	def := &engine.Definition{Calendar: name}
	if name != engine.Calendar24x7 {
		spec := p.calendars.Spec(name)
		if spec == nil {
			if at.n != nil {
				p.problem(at.n, at.path, "unknown calendar %q (calendars.yaml has none of that name)", name)
			}
			return engine.CalendarOf(def)
		}
		def.CalendarSpec = spec
	}
	return engine.CalendarOf(def)
}

// anyState reports whether some definition has the state.
func (p *parser) anyState(name string) bool {
	for _, d := range p.defs {
		if d.State(name) != nil {
			return true
		}
	}
	return false
}

// definition checks that a definition of that name is published beside.
func (p *parser) definition(name string, at pos) *engine.Definition {
	if name == "" {
		return nil
	}
	d := p.defs[name]
	if d == nil {
		p.problem(at.n, at.path, "no definition named %q", name)
	}
	return d
}

func (p *parser) states(d *engine.Definition, names []string, at pos) {
	if d == nil {
		return
	}
	for _, s := range names {
		if d.State(s) == nil {
			p.problem(at.n, at.path, "%s has no state %q", d.Name, s)
		}
	}
}

func (p *parser) sla(d *engine.Definition, name string, at pos) {
	if d == nil || name == "" {
		return
	}
	for _, s := range d.SLAs {
		if s.Name == name {
			return
		}
	}
	p.problem(at.n, at.path, "%s has no SLA %q", d.Name, name)
}

func (p *parser) field(d *engine.Definition, name string, at pos) {
	if d == nil || name == "" {
		return
	}
	for _, f := range append(append([]engine.Field{}, d.Input...), d.Variables...) {
		if f.Name == name {
			return
		}
	}
	for _, st := range d.States {
		for _, a := range st.Actions {
			for _, f := range a.Input {
				if f.Name == name {
					return
				}
			}
		}
	}
	p.problem(at.n, at.path, "%s has no field %q (input, variable or action input)", d.Name, name)
}

func (p *parser) action(d *engine.Definition, name string, at pos) {
	if d == nil || name == "" {
		return
	}
	for _, st := range d.States {
		if st.Action(name) != nil {
			return
		}
	}
	p.problem(at.n, at.path, "%s has no action %q", d.Name, name)
}

// positions records where each key of an entry was written.
type positions map[string]pos

func (p *parser) track(ps positions, key string, read func(*yaml.Node, string)) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) { ps[key] = p.at(n, path); read(n, path) }
}

func (p *parser) incident(n *yaml.Node, path string) IncidentSource {
	var s IncidentSource
	ps := positions{}
	p.walk(n, path, fields{
		"definition":       p.track(ps, "definition", p.str(&s.Definition)),
		"major":            p.boolean(&s.Major),
		"major_priorities": p.strs(&s.MajorPriorities),
		"category":         p.track(ps, "category", p.str(&s.Category)),
		"response":         p.track(ps, "response", p.str(&s.Response)),
		"resolution":       p.track(ps, "resolution", p.str(&s.Resolution)),
		"resolved":         p.track(ps, "resolved", p.strs(&s.Resolved)),
	}, "definition", "resolution", "resolved")
	d := p.definition(s.Definition, ps["definition"])
	p.field(d, s.Category, ps["category"])
	p.sla(d, s.Response, ps["response"])
	p.sla(d, s.Resolution, ps["resolution"])
	p.states(d, s.Resolved, ps["resolved"])
	return s
}

func (p *parser) problemSource(n *yaml.Node, path string) ProblemSource {
	var s ProblemSource
	ps := positions{}
	p.walk(n, path, fields{
		"definition": p.track(ps, "definition", p.str(&s.Definition)),
		"solved": func(n *yaml.Node, path string) {
			p.walk(n, path, fields{
				"states": p.track(ps, "states", p.strs(&s.SolvedStates)),
				"from":   p.track(ps, "from", p.strs(&s.SolvedFrom)),
			}, "states")
		},
	}, "definition", "solved")
	d := p.definition(s.Definition, ps["definition"])
	p.states(d, s.SolvedStates, ps["states"])
	p.states(d, s.SolvedFrom, ps["from"])
	return s
}

func (p *parser) changes(n *yaml.Node, path string) Changes {
	var c Changes
	ps := positions{}
	p.walk(n, path, fields{
		"definitions": p.track(ps, "definitions", p.strs(&c.Definitions)),
		"emergency":   p.track(ps, "emergency", p.strs(&c.Emergency)),
		"succeeded":   p.track(ps, "succeeded", p.strs(&c.Succeeded)),
		"failed":      p.track(ps, "failed", p.strs(&c.Failed)),
		"decision":    p.track(ps, "decision", p.str(&c.Decision)),
		"boards": func(n *yaml.Node, path string) {
			p.list(n, path, func(n *yaml.Node, path string) {
				var b Board
				bp := positions{}
				p.walk(n, path, fields{
					"definition": p.track(bp, "definition", p.str(&b.Definition)),
					"meeting":    p.track(bp, "meeting", p.str(&b.Meeting)),
				}, "definition", "meeting")
				p.states(p.definition(b.Definition, bp["definition"]), []string{b.Meeting}, bp["meeting"])
				c.Boards = append(c.Boards, b)
			})
		},
	}, "definitions", "succeeded", "failed")
	// Every change definition must have the end states named: one without
	// them would silently count as never succeeding. The decision clock runs
	// only in those that await a decision (a standard change is
	// pre-authorised), so one of them must have it.
	decided := false
	for _, name := range c.Definitions {
		d := p.definition(name, ps["definitions"])
		p.states(d, c.Succeeded, ps["succeeded"])
		p.states(d, c.Failed, ps["failed"])
		for _, s := range definitionSLAs(d) {
			decided = decided || s == c.Decision
		}
	}
	if c.Decision != "" && !decided {
		p.problem(ps["decision"].n, ps["decision"].path, "no change definition has an SLA %q", c.Decision)
	}
	for _, name := range c.Emergency {
		if !contains(c.Definitions, name) {
			p.problem(ps["emergency"].n, ps["emergency"].path, "%q is not one of changes.definitions", name)
		}
	}
	return c
}

func (p *parser) punctuality(n *yaml.Node, path string) Punctuality {
	var r Punctuality
	var within string
	ps := positions{}
	p.walk(n, path, fields{
		"definition":   p.track(ps, "definition", p.str(&r.Definition)),
		"due_on_enter": p.track(ps, "due_on_enter", p.str(&r.DueOnEnter)),
		"delivered_by": p.track(ps, "delivered_by", p.str(&r.DeliveredBy)),
		"within":       p.track(ps, "within", p.str(&within)),
	}, "definition", "due_on_enter", "delivered_by", "within")
	d := p.definition(r.Definition, ps["definition"])
	if r.DueOnEnter != "" {
		p.states(d, []string{r.DueOnEnter}, ps["due_on_enter"])
	}
	p.action(d, r.DeliveredBy, ps["delivered_by"])
	if within != "" {
		w, err := engine.ParseDuration(within)
		if err != nil || w <= 0 {
			p.problem(ps["within"].n, ps["within"].path, "must be a positive duration such as 3d or 72h")
		}
		r.Within = time.Duration(w)
	}
	return r
}

func (p *parser) slaWeight(n *yaml.Node, path string) SLAWeight {
	var w SLAWeight
	ps := positions{}
	p.walk(n, path, fields{
		"definition": p.track(ps, "definition", p.str(&w.Definition)),
		"sla":        p.track(ps, "sla", p.str(&w.SLA)),
		"priority":   p.str(&w.Priority),
		"weight":     p.number(&w.Weight),
	}, "definition", "sla", "weight")
	d := p.definition(w.Definition, ps["definition"])
	p.sla(d, w.SLA, ps["sla"])
	return w
}

func (p *parser) staff(n *yaml.Node, path string) Staff {
	var s Staff
	ps := positions{}
	credit := func(dst *Credit, key string) func(*yaml.Node, string) {
		return func(n *yaml.Node, path string) {
			cp := positions{}
			p.walk(n, path, fields{
				"definition": p.track(cp, "definition", p.str(&dst.Definition)),
				"action":     p.track(cp, "action", p.str(&dst.Action)),
				"sla":        p.track(cp, "sla", p.str(&dst.SLA)),
			}, "definition", "action", "sla")
			d := p.definition(dst.Definition, cp["definition"])
			p.action(d, dst.Action, cp["action"])
			p.sla(d, dst.SLA, cp["sla"])
		}
	}
	p.walk(n, path, fields{
		"weights": func(n *yaml.Node, path string) {
			ps["weights"] = p.at(n, path)
			w := &s.Weights
			p.walk(n, path, fields{
				"satisfaction":     p.number(&w.Satisfaction),
				"workload":         p.number(&w.Workload),
				"problem_handling": p.number(&w.ProblemHandling),
				"recovery":         p.number(&w.Recovery),
			}, "satisfaction", "workload", "problem_handling", "recovery")
			if w.Satisfaction+w.Workload+w.ProblemHandling+w.Recovery <= 0 {
				p.problem(n, path, "the weights add up to nothing")
			}
		},
		"recovery":         credit(&s.Recovery, "recovery"),
		"problem_handling": credit(&s.ProblemHandling, "problem_handling"),
		"satisfaction": func(n *yaml.Node, path string) {
			sp := positions{}
			p.walk(n, path, fields{
				"definition": p.track(sp, "definition", p.str(&s.Satisfaction.Definition)),
				"field":      p.track(sp, "field", p.str(&s.Satisfaction.Field)),
				"scale":      p.track(sp, "scale", p.number(&s.Satisfaction.Scale)),
			}, "definition", "field", "scale")
			p.field(p.definition(s.Satisfaction.Definition, sp["definition"]), s.Satisfaction.Field, sp["field"])
			if sp["scale"].n != nil && s.Satisfaction.Scale <= 0 {
				p.problem(sp["scale"].n, sp["scale"].path, "must be more than 0")
			}
		},
	}, "weights", "recovery", "problem_handling", "satisfaction")
	return s
}

func definitionSLAs(d *engine.Definition) []string {
	if d == nil {
		return nil
	}
	out := make([]string, len(d.SLAs))
	for i, s := range d.SLAs {
		out[i] = s.Name
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
