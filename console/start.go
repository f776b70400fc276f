package console

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/service"
)

// startList lists what a person may start: every definition not retired.
func (c *Console) startList(ec echo.Context) error {
	defs, err := c.svc.Definitions(ec.Request().Context())
	if err != nil {
		return err
	}
	l := c.localeOf(ec)
	list := make([]startable, len(defs))
	for i, d := range defs {
		list[i] = startable{Name: d.Name, Version: d.Version, Title: c.namesOf(ec.Request().Context(), l, d).Title()}
	}
	return c.render(ec, http.StatusOK, "start_list", map[string]any{"Definitions": list})
}

// startable is a definition people may start, by its title.
type startable struct {
	Name, Title string
	Version     int
}

// startData is what the start form shows.
type startData struct {
	Name, Title string
	Fields      []formField
	Refused     string
}

// startPage is the form that starts a process of a definition, built from
// its input schema.
func (c *Console) startPage(ec echo.Context) error {
	return c.showStart(ec, http.StatusOK, nil, nil)
}

func (c *Console) showStart(ec echo.Context, status int, sent url.Values, err error) error {
	d, derr := c.svc.Definition(ec.Request().Context(), ec.Param("definition"), 0)
	if derr != nil {
		return derr
	}
	n := c.namesOf(ec.Request().Context(), c.localeOf(ec), d)
	data := startData{Name: d.Name, Title: n.Title(), Fields: formFields(d.Compiled.Input, sent, fieldErrors(err), n)}
	if err != nil && len(fieldErrors(err)) == 0 {
		data.Refused = errorText(err)
	}
	return c.render(ec, status, "start_form", data)
}

// start starts a process from the form; its Idempotency-Key (a hidden field
// made with the form) makes a form sent twice start one process.
func (c *Console) start(ec echo.Context) error {
	ctx := ec.Request().Context()
	form, err := ec.FormParams()
	if err != nil {
		return err
	}
	d, err := c.svc.Definition(ctx, ec.Param("definition"), 0)
	if err != nil {
		return err
	}
	p, _, err := c.svc.Start(ctx, c.caller(ec), service.StartRequest{Definition: d.Name, Input: formInput(d.Compiled.Input, form),
		IdempotencyKey: form.Get("key")})
	if err != nil {
		if status := statusOf(engine.ErrorCode(err)); status < 500 {
			return c.showStart(ec, status, form, err)
		}
		return err
	}
	c.flash(ec, c.localeOf(ec).text("flash.started", map[string]any{"ID": p.ID}))
	return ec.Redirect(http.StatusSeeOther, "/processes/"+url.PathEscape(p.ID))
}
