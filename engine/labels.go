package engine

import (
	"slices"
	"strings"

	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"
)

// Labels are a definition's display names in one language: what people read
// in place of its title and the names of its states, actions, fields and
// SLAs. Names are identifiers for expressions and the API; labels are words
// for a page, in English and in the customer's Chinese alike.
type Labels struct {
	// Lang is the language, a BCP 47 tag such as en or zh-Hans.
	Lang    string  `json:"lang"`
	Title   string  `json:"title,omitempty"`
	States  []Label `json:"states,omitempty"`
	Actions []Label `json:"actions,omitempty"`
	Fields  []Label `json:"fields,omitempty"`
	SLAs    []Label `json:"slas,omitempty"`
}

// Label is the display name of one named thing.
type Label struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

// Kinds of things a label names.
const (
	LabelState  = "states"
	LabelAction = "actions"
	LabelField  = "fields"
	LabelSLA    = "slas"
)

// LabelsFor returns the labels of the language among the definition's that
// best serves a reader of lang, falling back to none: a page then shows the
// names themselves.
func (d *Definition) LabelsFor(lang language.Tag) *Labels {
	if len(d.Labels) == 0 {
		return nil
	}
	tags := make([]language.Tag, len(d.Labels))
	for i, l := range d.Labels {
		tags[i] = language.Make(l.Lang)
	}
	_, i, conf := language.NewMatcher(tags).Match(lang)
	if conf == language.No {
		return nil
	}
	return &d.Labels[i]
}

// Text is the label of a thing of kind named name, or "" when it has none.
func (l *Labels) Text(kind, name string) string {
	if l == nil {
		return ""
	}
	var list []Label
	switch kind {
	case LabelState:
		list = l.States
	case LabelAction:
		list = l.Actions
	case LabelField:
		list = l.Fields
	case LabelSLA:
		list = l.SLAs
	}
	if i := slices.IndexFunc(list, func(x Label) bool { return x.Name == name }); i >= 0 {
		return list[i].Text
	}
	return ""
}

// labels parses the labels section: for each language, the title and the
// labels of states, actions, fields and SLAs.
func (p *parser) labels(n *yaml.Node, path string) []Labels {
	var out []Labels
	for _, e := range p.mapping(n, path, nil) {
		sub := join(path, e.key)
		p.remember(sub, e.keyN)
		tag, err := language.Parse(e.key)
		if err != nil {
			p.errorf(e.keyN, sub, "%q is not a language tag (such as en or zh-Hans)", e.key)
			continue
		}
		l := Labels{Lang: tag.String()}
		for _, ke := range p.mapping(e.value, sub, keysLabels) {
			kind := join(sub, ke.key)
			if ke.key == "title" {
				l.Title = p.label(ke.value, kind)
				continue
			}
			var list []Label
			for _, ne := range p.mapping(ke.value, kind, nil) {
				p.remember(join(kind, ne.key), ne.keyN)
				list = append(list, Label{Name: ne.key, Text: p.label(ne.value, join(kind, ne.key))})
			}
			switch ke.key {
			case LabelState:
				l.States = list
			case LabelAction:
				l.Actions = list
			case LabelField:
				l.Fields = list
			case LabelSLA:
				l.SLAs = list
			}
		}
		out = append(out, l)
	}
	return out
}

// label parses one label: words, on one line.
func (p *parser) label(n *yaml.Node, path string) string {
	s := strings.TrimSpace(p.str(n, path))
	if s == "" || strings.ContainsAny(s, "\n\r") {
		p.errorf(n, path, "a label is a few words on one line")
	}
	return s
}

// checkLabels checks that every label names a state, an action, a field or
// an SLA the definition has.
func (p *parser) checkLabels(def *Definition) {
	states, actions, fields, slas := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	addFields := func(fs []Field) {
		for _, f := range fs {
			fields[f.Name] = true
		}
	}
	addFields(def.Input)
	addFields(def.Variables)
	for _, st := range def.States {
		states[st.Name] = true
		for _, a := range st.Actions {
			actions[a.Name] = true
			addFields(a.Input)
		}
	}
	for _, s := range def.SLAs {
		slas[s.Name] = true
	}
	known := map[string]map[string]bool{LabelState: states, LabelAction: actions, LabelField: fields, LabelSLA: slas}
	words := map[string]string{LabelState: "state", LabelAction: "action", LabelField: "field", LabelSLA: "SLA"}
	for _, l := range def.Labels {
		for kind, list := range map[string][]Label{LabelState: l.States, LabelAction: l.Actions, LabelField: l.Fields, LabelSLA: l.SLAs} {
			for _, x := range list {
				if !known[kind][x.Name] {
					path := join(join(join("labels", l.Lang), kind), x.Name)
					p.errorf(p.at(path), path, "no %s %q to label", words[kind], x.Name)
				}
			}
		}
	}
}

// ParseLabels reads the labels of a definition's source that compiled once
// (a published version): labels stay out of the compiled definition that
// workflows carry, so pages read them from the source.
func ParseLabels(src []byte) ([]Labels, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, &Error{Code: EINVALID, Op: "engine.ParseLabels", Message: "definition is not valid YAML", Err: err}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil
	}
	resolveAliases(&doc, map[*yaml.Node]bool{})
	p := &parser{}
	var out []Labels
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "labels" {
			out = p.labels(root.Content[i+1], "labels")
		}
	}
	if len(p.problems) > 0 {
		return nil, &Error{Code: EINVALID, Op: "engine.ParseLabels", Message: "labels have problems", Details: p.problems}
	}
	return out, nil
}
