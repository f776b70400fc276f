package console

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/service"
)

// delegationForm is what the delegation form holds, kept after a refusal
// with the problems beside their fields.
type delegationForm struct {
	To, StartsAt, EndsAt, Reason string
	Errors                       map[string]string
	Refused                      string
}

// delegationsPage lists the delegations the person gave and received, with
// a form to hand their votes to someone while they are away.
func (c *Console) delegationsPage(ec echo.Context) error {
	return c.showDelegations(ec, http.StatusOK, delegationForm{})
}

func (c *Console) showDelegations(ec echo.Context, status int, form delegationForm) error {
	given, received, err := c.svc.Delegations(ec.Request().Context(), c.caller(ec), time.Now())
	if err != nil {
		return err
	}
	return c.render(ec, status, "delegations", map[string]any{"Given": given, "Received": received, "Form": form})
}

// delegate records a delegation from the form: the person's votes go to
// another user from its start (now, when left empty) until its end.
func (c *Console) delegate(ec echo.Context) error {
	form := delegationForm{To: ec.FormValue("to"), StartsAt: ec.FormValue("starts_at"), EndsAt: ec.FormValue("ends_at"),
		Reason: ec.FormValue("reason"), Errors: map[string]string{}}
	req := service.DelegationRequest{To: form.To, Reason: form.Reason}
	for name, raw := range map[string]string{"starts_at": form.StartsAt, "ends_at": form.EndsAt} {
		if raw == "" {
			continue
		}
		t, ok := parseAsOf(raw)
		if !ok {
			form.Errors[name] = c.localeOf(ec).text("asof.malformed")
			continue
		}
		if name == "starts_at" {
			req.StartsAt = &t
		} else {
			req.EndsAt = &t
		}
	}
	if len(form.Errors) > 0 {
		return c.showDelegations(ec, http.StatusBadRequest, form)
	}
	d, err := c.svc.AddDelegation(ec.Request().Context(), c.caller(ec), req, time.Now())
	if err != nil {
		status := statusOf(engine.ErrorCode(err))
		if status >= 500 {
			return err
		}
		form.Errors = fieldErrors(err)
		if len(form.Errors) == 0 {
			form.Refused = errorText(err)
		}
		return c.showDelegations(ec, status, form)
	}
	c.flash(ec, c.localeOf(ec).text("flash.delegated", map[string]any{"To": d.To, "Until": formatTime(d.EndsAt, timeLayout)}))
	return ec.Redirect(http.StatusSeeOther, "/delegations")
}

// revokeDelegation ends one of the person's delegations now.
func (c *Console) revokeDelegation(ec echo.Context) error {
	d, err := c.svc.RevokeDelegation(ec.Request().Context(), c.caller(ec), ec.Param("id"))
	if err != nil {
		return err
	}
	c.flash(ec, c.localeOf(ec).text("flash.revoked", map[string]any{"To": d.To}))
	return ec.Redirect(http.StatusSeeOther, "/delegations")
}
