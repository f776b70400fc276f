package engine

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Calendars are the business calendars definitions may name (calendars.yaml).
type Calendars []CalendarSpec

func (cs Calendars) find(name string) *CalendarSpec {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

// Spec returns the named calendar, or nil (24x7 has no spec).
func (cs Calendars) Spec(name string) *CalendarSpec { return cs.find(name) }

func (cs Calendars) names() []string {
	out := []string{Calendar24x7}
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

var weekdayKeys = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseCalendars reads calendars.yaml:
//
//	calendars:
//	  5x8:
//	    timezone: Asia/Shanghai
//	    hours: {mon: ["09:00-12:00", "13:00-18:00"], tue: …}
//	    holidays: [2026-10-01]
//	    working_days: [2026-09-27]
//
// Problems come back like Parse's: an *Error of code EINVALID with line:column.
func ParseCalendars(src []byte) (Calendars, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, &Error{Code: EINVALID, Op: "engine.ParseCalendars", Message: "calendars are not valid YAML", Details: yamlErrorDetails(src, err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	resolveAliases(&doc, map[*yaml.Node]bool{})
	p := &parser{}
	var out Calendars
	for _, top := range p.mapping(doc.Content[0], "", keysCalendarsFile) {
		for _, e := range p.mapping(top.value, "calendars", nil) {
			out = append(out, p.calendar(e))
		}
	}
	if len(p.problems) > 0 {
		p.sortProblems()
		return nil, &Error{Code: EINVALID, Op: "engine.ParseCalendars", Message: fmt.Sprintf("calendars have %d problem(s)", len(p.problems)), Details: p.problems}
	}
	return out, nil
}

// blackouts reads [{name, from, to}], times in RFC 3339.
func (p *parser) blackouts(n *yaml.Node, path string) []Blackout {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, path, "expected a list of blackouts, got %s", kindName(n))
		return nil
	}
	var out []Blackout
	for i, bn := range n.Content {
		sub := fmt.Sprintf("%s[%d]", path, i)
		var b Blackout
		for _, e := range p.mapping(bn, sub, keysBlackout) {
			switch e.key {
			case "name":
				b.Name = p.str(e.value, join(sub, "name"))
			case "from", "to":
				t, err := time.Parse(time.RFC3339, p.str(e.value, join(sub, e.key)))
				if err != nil {
					p.errorf(e.value, join(sub, e.key), "expected a time in RFC 3339 such as 2026-12-20T00:00:00+08:00, got %s", kindName(e.value))
				}
				if e.key == "from" {
					b.From = t
				} else {
					b.To = t
				}
			}
		}
		if bn.Kind == yaml.MappingNode && (b.Name == "" || !b.To.After(b.From)) {
			p.errorf(bn, sub, "a blackout needs a name and a to after its from")
		}
		out = append(out, b)
	}
	return out
}

func (p *parser) calendar(e entry) CalendarSpec {
	path := join("calendars", e.key)
	c := CalendarSpec{Name: e.key, Timezone: "UTC"}
	if e.key == Calendar24x7 {
		p.errorf(e.keyN, path, "%s is built in and cannot be redefined", Calendar24x7)
		return c
	}
	for _, ce := range p.mapping(e.value, path, keysCalendar) {
		sub := join(path, ce.key)
		switch ce.key {
		case "timezone":
			c.Timezone = p.str(ce.value, sub)
			if _, err := calendarZone(c.Timezone); c.Timezone != "" && err != nil {
				p.errorf(ce.value, sub, "unknown time zone %q: use an IANA name such as Asia/Shanghai or Europe/Berlin", c.Timezone)
			}
		case "hours":
			for _, de := range p.mapping(ce.value, sub, weekdayKeys) {
				day := indexOf(weekdayKeys, de.key)
				c.Week[day] = p.spans(de.value, join(sub, de.key))
			}
		case "holidays":
			c.Holidays = p.dates(ce.value, sub)
		case "working_days":
			c.WorkingDays = p.dates(ce.value, sub)
		case "blackouts":
			c.Blackouts = p.blackouts(ce.value, sub)
		}
	}
	working := len(c.WorkingDays) > 0
	for _, d := range c.Week {
		working = working || len(d) > 0
	}
	if !working {
		p.errorf(e.keyN, path, "calendar %q has no working hours: no deadline could ever fall due", e.key)
	}
	return c
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// spans reads ["09:00-12:00", "13:00-18:00"]: sorted, not overlapping.
func (p *parser) spans(n *yaml.Node, path string) []Span {
	var out []Span
	for i, s := range p.strings(n, path) {
		sub := fmt.Sprintf("%s[%d]", path, i)
		node := p.at(sub)
		from, to, ok := strings.Cut(s, "-")
		start, err1 := clock(from)
		end, err2 := clock(to)
		switch {
		case !ok || err1 != nil || err2 != nil:
			p.errorf(node, sub, "%q is not a span of working hours such as 09:00-17:30", s)
			continue
		case end <= start:
			p.errorf(node, sub, "%q ends before it starts", s)
			continue
		case len(out) > 0 && start < out[len(out)-1].End:
			p.errorf(node, sub, "%q overlaps or precedes the span before it; list spans in order", s)
			continue
		}
		out = append(out, Span{Start: start, End: end})
	}
	return out
}

// clock reads "HH:MM" (00:00 to 24:00) as minutes after midnight.
func clock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return hh*60 + mm, nil
}

func (p *parser) dates(n *yaml.Node, path string) []string {
	var out []string
	for i, s := range p.strings(n, path) {
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			sub := fmt.Sprintf("%s[%d]", path, i)
			p.errorf(p.at(sub), sub, "%q is not a date such as 2026-10-01", s)
			continue
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
