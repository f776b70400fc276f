package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

var knownMethods = map[string]bool{http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true}

// Middleware counts the API's requests by method, route template (such as
// /api/v1/processes/:id, never the raw path, which would make a series per
// process) and status, with their latency. Install it with Echo's Pre, so it
// wraps every other middleware and sees the status of requests they refuse:
// it hands an error to Echo's error handler itself, as the request logger
// does, to read the status the caller gets.
func (m *Metrics) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		began := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			// No route matched and no group caught it.
			route = "unmatched"
		}
		method := c.Request().Method
		if !knownMethods[method] {
			// Any token is a method to net/http: anyone could add series.
			method = "other"
		}
		m.requests.WithLabelValues(method, route, strconv.Itoa(c.Response().Status)).Inc()
		m.requestSeconds.WithLabelValues(method, route).Observe(time.Since(began).Seconds())
		return nil
	}
}
