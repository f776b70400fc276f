package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/service"
	"github.com/itilflow/itilflow/store"
)

// definitionCheckers lets through those who may check definitions — process
// owners and admins — to the pages where definitions are read, compared and
// written; the service refuses anyone else, as the API does.
func (c *Console) definitionCheckers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		if err := service.MayCheckDefinitions(c.caller(ec)); err != nil {
			return err
		}
		return next(ec)
	}
}

// definitionsPage lists every definition, retired ones too, at its latest
// version.
func (c *Console) definitionsPage(ec echo.Context) error {
	defs, err := c.svc.Catalog(ec.Request().Context())
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "definitions", map[string]any{"Definitions": defs})
}

// definitionData is what a definition's page shows.
type definitionData struct {
	Latest   store.Definition
	Versions []store.Definition
	// Origins say, in the page's language, where the versions came from.
	Origins map[string]string
	// Shown is the version whose text the page shows, Lines its text.
	Shown store.Definition
	Lines []sourceLine
	// From and To are the versions the comparison form holds; Diff is their
	// diff when one was asked for (Compared), empty when they are the same.
	From, To int
	Compared bool
	Diff     []diffLine
	// Mermaid is the shown version's state diagram, as Mermaid text.
	Mermaid string
	// Retire is the retirement form, with what was refused in it.
	Retire retireForm
}

// retireForm is the form that retires a definition: its reason, and the
// problem the service found with it.
type retireForm struct {
	Reason, Error string
}

// definitionPage shows a definition: its versions, the text of one of them
// (?version=N, else the latest), the diff between two (?from=&to=) and its
// state diagram as Mermaid text.
func (c *Console) definitionPage(ec echo.Context) error {
	return c.showDefinition(ec, http.StatusOK, retireForm{})
}

// retire retires the definition with the form's reason, and shows it again.
func (c *Console) retire(ec echo.Context) error {
	form := retireForm{Reason: ec.FormValue("reason")}
	r, err := c.svc.RetireDefinition(ec.Request().Context(), c.caller(ec), ec.Param("name"), form.Reason)
	if err != nil {
		status := statusOf(engine.ErrorCode(err))
		if status >= 500 || status == http.StatusNotFound {
			return err
		}
		form.Error = errorText(err)
		return c.showDefinition(ec, status, form)
	}
	c.flash(ec, c.localeOf(ec).text("flash.retired", map[string]any{"Name": r.Name}))
	return ec.Redirect(http.StatusSeeOther, "/definitions/"+r.Name)
}

// reinstate lets the definition start processes again.
func (c *Console) reinstate(ec echo.Context) error {
	r, err := c.svc.ReinstateDefinition(ec.Request().Context(), c.caller(ec), ec.Param("name"))
	if err != nil {
		return err
	}
	c.flash(ec, c.localeOf(ec).text("flash.reinstated", map[string]any{"Name": r.Name}))
	return ec.Redirect(http.StatusSeeOther, "/definitions/"+r.Name)
}

// showDefinition renders a definition's page with status and the retirement
// form as given.
func (c *Console) showDefinition(ec echo.Context, status int, retire retireForm) error {
	ctx, name := ec.Request().Context(), ec.Param("name")
	version, err := service.ParseVersion("version", ec.QueryParam("version"))
	if err != nil {
		return err
	}
	from, err := service.ParseVersion("from", ec.QueryParam("from"))
	if err != nil {
		return err
	}
	to, err := service.ParseVersion("to", ec.QueryParam("to"))
	if err != nil {
		return err
	}
	latest, err := c.svc.Definition(ctx, name, 0)
	if err != nil {
		return err
	}
	data := definitionData{Latest: latest, Shown: latest, From: from, To: to, Retire: retire}
	if data.Versions, err = c.svc.DefinitionVersions(ctx, name); err != nil {
		return err
	}
	data.Origins = map[string]string{}
	for _, v := range data.Versions {
		data.Origins[v.Origin] = originText(c.localeOf(ec), v.Origin)
	}
	if version != 0 && version != latest.Version {
		if data.Shown, err = c.svc.Definition(ctx, name, version); err != nil {
			return err
		}
	}
	data.Lines = numbered(data.Shown.Source, nil)
	if from != 0 {
		diff, err := c.svc.DiffDefinition(ctx, name, from, to)
		if err != nil {
			return err
		}
		data.Compared, data.Diff = true, diffLines(diff)
	}
	// The form compares the version before the latest with the latest,
	// until it is asked for others.
	if data.To == 0 {
		data.To = latest.Version
	}
	if data.From == 0 {
		data.From = max(latest.Version-1, 1)
	}
	if data.Mermaid, err = c.svc.DrawDefinition(ctx, name, data.Shown.Version, service.GraphMermaid); err != nil {
		return err
	}
	return c.render(ec, status, "definition", data)
}

// originText says where a version came from: the definitions directory at
// start, a person through the service (the console or the API), or the
// command line.
func originText(l *locale, origin string) string {
	switch origin {
	case store.OriginFile:
		return l.text("origin.file")
	case store.OriginAPI:
		return l.text("origin.api")
	case store.OriginCLI:
		return l.text("origin.cli")
	}
	return origin
}

// diagram is a version's state diagram drawn as SVG (?version=N, else the
// latest), for the definition's page.
func (c *Console) diagram(ec echo.Context) error {
	version, err := service.ParseVersion("version", ec.QueryParam("version"))
	if err != nil {
		return err
	}
	svg, err := c.svc.DrawDefinition(ec.Request().Context(), ec.Param("name"), version, service.GraphSVG)
	if err != nil {
		return err
	}
	// Opened on its own, an SVG is a document: nothing in it may run.
	ec.Response().Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	ec.Response().Header().Set("Cache-Control", "private, max-age=300")
	return ec.Blob(http.StatusOK, "image/svg+xml", []byte(svg))
}
