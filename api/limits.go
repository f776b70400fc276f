package api

import (
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
)

// readLimited reads a request body of at most limit bytes; a larger one is 413.
func readLimited(c echo.Context, limit int64, what string) ([]byte, error) {
	req := c.Request()
	body, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		return nil, &engine.Error{Code: engine.EBADREQUEST, Message: "cannot read request body", Err: err}
	}
	if int64(len(body)) > limit {
		// Read the rest (the server's body limit bounds it), so that a client
		// still sending gets this answer rather than a reset connection.
		_, _ = io.Copy(io.Discard, req.Body)
		size := ""
		if req.ContentLength > 0 {
			size = fmt.Sprintf(" (%d bytes)", req.ContentLength)
		}
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge,
			fmt.Sprintf("the %s is larger than the limit of %d KiB%s", what, limit>>10, size))
	}
	return body, nil
}

const (
	// maxHeaderBytes is the most request header the API accepts, counted as
	// net/http counts it (request line and header lines). 64 KiB holds a JWT with
	// hundreds of group claims: eight times what common proxies pass on.
	maxHeaderBytes = 64 << 10
	// ServerMaxHeaderBytes is the http.Server's MaxHeaderBytes the API wants:
	// well above maxHeaderBytes, so that an oversized header reaches the API and
	// is refused with 431 and the error object. A header larger still (over
	// 1 MiB and net/http's 4 KiB of slack) is refused by net/http itself, before
	// any handler runs, with a plain-text 431.
	ServerMaxHeaderBytes = 1 << 20
)

// limitHeaders refuses a request whose header is over maxHeaderBytes.
func limitHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if n := headerBytes(c.Request()); n > maxHeaderBytes {
			return echo.NewHTTPError(http.StatusRequestHeaderFieldsTooLarge,
				fmt.Sprintf("the request header has %d bytes; the limit is %d KiB", n, maxHeaderBytes>>10))
		}
		return next(c)
	}
}

// headerBytes is the size of r's request line and header as sent: "GET /x
// HTTP/1.1\r\n", then "Name: value\r\n" per value, Host included.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	n += len("Host: ") + len(r.Host) + 2
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + len(": ") + len(v) + 2
		}
	}
	return n
}
