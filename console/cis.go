package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// ciSection is one kind of process on a configuration item's page.
type ciSection struct {
	// Key is the section's heading, a message of the locales.
	Key  string
	Rows []queueRow
}

// Sections of a configuration item's page, in the order they are shown.
const (
	sectionIncidents = "ci.incidents"
	sectionProblems  = "ci.problems"
	sectionChanges   = "ci.changes"
	sectionOther     = "ci.other"
)

// sectionOf says where a process of definition goes on an item's page: the
// shipped incidents, problems and changes by their names, anything else
// under other.
func sectionOf(definition string) string {
	switch {
	case definition == "incident" || definition == "major-incident":
		return sectionIncidents
	case definition == "problem":
		return sectionProblems
	case strings.HasPrefix(definition, "change"):
		return sectionChanges
	}
	return sectionOther
}

// ciSections groups the processes of an item by kind, newest first within
// each; sections with nothing are left out.
func ciSections(rows []queueRow, definitions []string) []ciSection {
	order := []string{sectionIncidents, sectionProblems, sectionChanges, sectionOther}
	by := map[string][]queueRow{}
	for i, r := range rows {
		k := sectionOf(definitions[i])
		by[k] = append(by[k], r)
	}
	var out []ciSection
	for _, k := range order {
		if len(by[k]) > 0 {
			out = append(out, ciSection{Key: k, Rows: by[k]})
		}
	}
	return out
}

// ciPage shows a configuration item of the registry: what it is, its parent
// and parts, and its incidents, problems and changes the person may see —
// the same answer as GET /api/v1/cis/{id}.
func (c *Console) ciPage(ec echo.Context) error {
	ctx := ec.Request().Context()
	l := c.localeOf(ec)
	page, err := c.svc.CI(ctx, c.caller(ec), ec.Param("id"))
	if err != nil {
		return err
	}
	now, seen := time.Now(), map[string]names{}
	rows := make([]queueRow, len(page.Processes))
	defs := make([]string, len(page.Processes))
	for i, v := range page.Processes {
		n := c.namesByVersion(ctx, l, seen, v.Definition, v.Version)
		rows[i] = queueRow{ID: v.ID, Title: title(v.View), Definition: n.Title(), State: n.State(v.State), Priority: v.Priority,
			StartedAt: v.StartedAt, Ended: v.EndedAt != nil, SLAs: chips(l, v.View, now, n)}
		defs[i] = v.Definition
	}
	return c.render(ec, http.StatusOK, "ci", map[string]any{"CI": page.CI, "Children": page.Children, "Sections": ciSections(rows, defs),
		"Total": page.Total, "Shown": len(page.Processes), "ListURL": "/queue?ended=on&ci=" + url.QueryEscape(page.ID)})
}
