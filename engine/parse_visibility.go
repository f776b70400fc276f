package engine

import "gopkg.in/yaml.v3"

// visibility parses the visibility section: the roles that see every process
// of the definition, and relations naming more people who see each one.
func (p *parser) visibility(n *yaml.Node, path string) *Visibility {
	v := &Visibility{}
	for _, e := range p.mapping(n, path, keysVisibility) {
		sub := join(path, e.key)
		switch e.key {
		case "roles":
			// Given, even empty, the list replaces the default.
			v.Roles = append([]string{}, p.names(e.value, sub)...)
		case "people":
			v.People = p.strings(e.value, sub)
		}
	}
	return v
}
