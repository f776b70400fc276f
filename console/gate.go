package console

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/gate"
)

// gateRequest passes what a request brings through the one text gate the API
// uses: path and query parameters (a bad one is 400), and a posted form, whose
// values reach the handlers in normal form C (a bad one is 422 naming its
// field). Nothing a page sends can reach PostgreSQL or another person's page
// unchecked.
func gateRequest(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		r := ec.Request()
		if err := gate.Params(ec.ParamNames(), ec.ParamValues(), ec.QueryParams()); err != nil {
			return err
		}
		if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			if err := r.ParseForm(); err != nil {
				return echo.NewHTTPError(http.StatusBadRequest, "malformed form")
			}
			form, err := gate.Form(r.PostForm)
			if err != nil {
				return err
			}
			r.PostForm, r.Form = form, form
		}
		return next(ec)
	}
}
