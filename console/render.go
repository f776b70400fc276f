package console

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/reports"
)

// pageNames are the pages, each a template of its own under templates/,
// rendered inside templates/layout.html with the form controls of
// templates/fields.html and the numbered text of templates/source.html.
var pageNames = []string{"signin", "queue", "process", "start_list", "start_form", "approvals", "delegations", "audit",
	"definitions", "definition", "editor", "reports", "report", "error", "ci"}

// page is what every page's template gets: the page's own data, and what the
// layout needs.
type page struct {
	Who  *who
	CSRF string
	Lang string
	// Path is the page's path, for the language switch to come back to.
	Path  string
	Flash string
	Data  any
}

// parsePages parses each page with the layout. Their functions are bound to
// a request's language when it renders (see render); here they only stand in.
func parsePages(txt *texts) (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs(nil)).ParseFS(templateFiles, "templates/layout.html", "templates/fields.html", "templates/source.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// funcs are the templates' functions in a locale.
func funcs(l *locale) template.FuncMap {
	return template.FuncMap{
		"t": func(id string, data ...any) string {
			if l == nil {
				return id
			}
			return l.text(id, data...)
		},
		// kv builds the data of a message with fields: kv "Name" .X "Count" 3.
		"kv": func(pairs ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(pairs); i += 2 {
				m[fmt.Sprint(pairs[i])] = pairs[i+1]
			}
			return m
		},
		"when":    func(t any) string { return formatTime(t, timeLayout) },
		"whensec": func(t any) string { return formatTime(t, "2006-01-02 15:04:05 MST") },
		"dur": func(d time.Duration) string {
			if l == nil {
				return d.String()
			}
			return l.durationText(d)
		},
		"join": strings.Join,
		"add":  func(a, b int) int { return a + b },
		// headline is a report's table or column name for people:
		// "on_time_repair_rate_pct" reads "on time repair rate %".
		"headline": func(name string) string {
			if base, ok := strings.CutSuffix(name, "_pct"); ok {
				name = base + " %"
			}
			return strings.ReplaceAll(name, "_", " ")
		},
		"cell": func(v any) string {
			if s := reports.Cell(v); s != "" {
				return s
			}
			return "–"
		},
		// newkey is an Idempotency-Key for a form: sending it twice acts once.
		"newkey": func() string {
			b := make([]byte, 16)
			rand.Read(b)
			return hex.EncodeToString(b)
		},
	}
}

// timeLayout is how pages show a time: to the minute, in UTC, saying so.
const timeLayout = "2006-01-02 15:04 MST"

// formatTime shows a time, or a time that may be nil, in UTC: every page
// shows UTC, and says so.
func formatTime(t any, layout string) string {
	switch x := t.(type) {
	case time.Time:
		return x.UTC().Format(layout)
	case *time.Time:
		if x != nil {
			return x.UTC().Format(layout)
		}
	}
	return ""
}

// render writes a page in the request's language.
func (c *Console) render(ec echo.Context, status int, name string, data any) error {
	l := c.localeOf(ec)
	t, err := c.pages[name].Clone()
	if err != nil {
		return err
	}
	t.Funcs(funcs(l))
	csrf, _ := ec.Get("csrf").(string)
	p := page{Who: c.whoOf(ec), CSRF: csrf, Lang: l.tag.String(), Path: ec.Request().URL.RequestURI(), Data: data}
	if w := p.Who; w != nil {
		p.Flash = c.sessions.PopString(ec.Request().Context(), flashKey)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		return err
	}
	ec.Response().Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
	ec.Response().Header().Set("X-Content-Type-Options", "nosniff")
	return ec.HTMLBlob(status, buf.Bytes())
}

// flashKey holds a message for the next page a person sees (after a form
// is posted and they are redirected).
const flashKey = "flash"

// flash keeps a message for the next page.
func (c *Console) flash(ec echo.Context, msg string) {
	c.sessions.Put(ec.Request().Context(), flashKey, msg)
}

// templateNames lists the templates, for tests.
func templateNames() []string {
	names, _ := fs.Glob(templateFiles, "templates/*.html")
	for i, n := range names {
		names[i] = strings.TrimSuffix(path.Base(n), ".html")
	}
	return names
}

// fieldError is what a form shows beside a field: the problem the service
// named for it (input.title → title).
func fieldErrors(err error) map[string]string {
	var e *engine.Error
	if !errors.As(err, &e) {
		return nil
	}
	out := map[string]string{}
	for _, d := range e.Details {
		out[strings.TrimPrefix(d.Field, "input.")] = d.Message
	}
	return out
}
