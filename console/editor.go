package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/history"
	"github.com/itilflow/itilflow/scenario"
	"github.com/itilflow/itilflow/service"
)

// newDefinition is what the editor of a new definition starts from: the
// smallest definition that checks, for its author to rename and grow.
const newDefinition = `name: my-process
title: My process
input:
  title: {type: string, required: true, maxLength: 200}
initial: open
states:
  open:
    actions:
      close: {to: closed, roles: [service-desk]}
  closed: {final: true}
`

// editorData is what the editor shows.
type editorData struct {
	// Name is the definition edited, "" for a new one; Title its title.
	Name, Title string
	Source      string
	Lines       []sourceLine
	// Checked says the text was checked, with Problems what the check found
	// and Summary that in a sentence.
	Checked  bool
	Problems []problem
	Summary  string
	// Publishes says the person may publish (a process owner; admins check).
	Publishes bool
	// Tests are the scenario tests the form holds; Ran says they were run
	// against the text, with Results what they found, or TestsError why they
	// could not run.
	Tests      string
	Ran        bool
	Results    []scenario.Result
	TestsError string
	// Days is the what-if's period as the form holds it; WhatIf what it found,
	// or WhatIfError why it could not run.
	Days        string
	WhatIf      *history.Comparison
	WhatIfError string
}

// Passed is how many of the tests run passed.
func (d editorData) Passed() int {
	n := 0
	for _, r := range d.Results {
		if r.Passed() {
			n++
		}
	}
	return n
}

// Failed is how many of the tests run failed.
func (d editorData) Failed() int { return len(d.Results) - d.Passed() }

// Action is where the editor's form posts.
func (d editorData) Action() string {
	if d.Name == "" {
		return "/definitions/new"
	}
	return "/definitions/" + url.PathEscape(d.Name) + "/edit"
}

// editPage opens the editor on the latest version of a definition.
func (c *Console) editPage(ec echo.Context) error {
	d, err := c.svc.Definition(ec.Request().Context(), ec.Param("name"), 0)
	if err != nil {
		return err
	}
	return c.showEditor(ec, http.StatusOK, editorData{Name: d.Name, Title: d.Title, Source: d.Source})
}

// newPage opens the editor on a new definition.
func (c *Console) newPage(ec echo.Context) error {
	return c.showEditor(ec, http.StatusOK, editorData{Source: newDefinition})
}

func (c *Console) showEditor(ec echo.Context, status int, data editorData) error {
	if data.Days == "" {
		data.Days = "30"
	}
	if data.Name != "" && data.Title == "" {
		// The title of the version edited, for the heading: a draft's may not
		// compile.
		if d, err := c.svc.Definition(ec.Request().Context(), data.Name, 0); err == nil {
			data.Title = d.Title
		}
	}
	if data.Checked {
		data.Summary = checkSummary(c.localeOf(ec), data.Problems)
	}
	data.Lines = numbered(data.Source, data.Problems)
	data.Publishes = service.MayPublishDefinitions(c.caller(ec)) == nil
	return c.render(ec, status, "editor", data)
}

// checkResult is what the editor's script gets for a check: the summary
// to show, and the problems at their places.
type checkResult struct {
	Valid    bool      `json:"valid"`
	Summary  string    `json:"summary"`
	Problems []problem `json:"problems"`
}

// editorPost checks the editor's text (op=check, the form's first button),
// or publishes it (op=publish). A check asked for as JSON — by the editor's
// script, as the person types — answers the problems; otherwise the editor
// shows them beside the text. Publishing goes to the definition's page with
// a flash naming its version.
func (c *Console) editorPost(ec echo.Context) error {
	name := ec.Param("name")
	// Browsers send a textarea's lines ending in CRLF: the text is stored,
	// hashed and compared as it is written, with LF.
	src := strings.ReplaceAll(ec.FormValue("source"), "\r\n", "\n")
	draft := service.Draft{Source: []byte(src), Name: name, New: name == ""}
	data := editorData{Name: name, Source: src, Checked: true, Tests: strings.ReplaceAll(ec.FormValue("scenarios"), "\r\n", "\n"),
		Days: ec.FormValue("days")}
	switch ec.FormValue("op") {
	case "publish":
		return c.publish(ec, draft, data)
	case "test":
		return c.runTests(ec, draft, data)
	case "whatif":
		return c.whatIf(ec, draft, data)
	}
	_, err := c.svc.CheckDefinition(ec.Request().Context(), c.caller(ec), draft)
	if err != nil && engine.ErrorCode(err) != engine.EINVALID {
		return err
	}
	if err == nil {
		data.Problems = []problem{}
	} else {
		data.Problems = problemsOf(err)
	}
	if strings.Contains(ec.Request().Header.Get(echo.HeaderAccept), echo.MIMEApplicationJSON) {
		return ec.JSON(http.StatusOK, checkResult{Valid: err == nil, Summary: checkSummary(c.localeOf(ec), data.Problems), Problems: data.Problems})
	}
	status := http.StatusOK
	if err != nil {
		status = http.StatusUnprocessableEntity
	}
	return c.showEditor(ec, status, data)
}

// publish publishes the editor's text, or shows why not beside it.
func (c *Console) publish(ec echo.Context, draft service.Draft, data editorData) error {
	v, created, err := c.svc.PublishDefinition(ec.Request().Context(), c.caller(ec), draft)
	if engine.ErrorCode(err) == engine.EINVALID {
		data.Problems = problemsOf(err)
		return c.showEditor(ec, http.StatusUnprocessableEntity, data)
	}
	if err != nil {
		return err
	}
	msg := "flash.published"
	if !created {
		msg = "flash.unchanged"
	}
	c.flash(ec, c.localeOf(ec).text(msg, map[string]any{"Name": v.Name, "Version": v.Version}))
	return ec.Redirect(http.StatusSeeOther, "/definitions/"+url.PathEscape(v.Name))
}

// runTests runs the form's scenario tests against its text, and shows what
// they found beside it: a draft that does not compile shows its problems, as
// a check does.
func (c *Console) runTests(ec echo.Context, draft service.Draft, data editorData) error {
	results, err := c.svc.RunScenarios(ec.Request().Context(), c.caller(ec), draft, []byte(data.Tests))
	switch {
	case engine.ErrorCode(err) == engine.EINVALID:
		return c.refusedBeside(ec, &data, err, "scenarios", &data.TestsError)
	case err != nil:
		return err
	}
	data.Problems, data.Ran, data.Results = []problem{}, true, results
	return c.showEditor(ec, http.StatusOK, data)
}

// whatIf replays the recent processes of the definition under the form's
// text and shows which would have gone differently.
func (c *Console) whatIf(ec echo.Context, draft service.Draft, data editorData) error {
	days, err := strconv.Atoi(strings.TrimSpace(data.Days))
	if err != nil {
		days = -1 // the service says what a period must be
	}
	cmp, err := c.svc.WhatIf(ec.Request().Context(), c.caller(ec), draft, days)
	switch {
	case engine.ErrorCode(err) == engine.EINVALID:
		return c.refusedBeside(ec, &data, err, "days", &data.WhatIfError)
	case err != nil:
		return err
	}
	data.Problems, data.WhatIf = []problem{}, &cmp
	return c.showEditor(ec, http.StatusOK, data)
}

// refusedBeside shows the editor again after its tests or what-if were
// refused: a problem of their own field (the tests, the period) in beside,
// else the draft's problems, as a check shows them.
func (c *Console) refusedBeside(ec echo.Context, data *editorData, err error, field string, beside *string) error {
	if msg := fieldErrors(err)[field]; msg != "" {
		*beside, data.Problems = msg, []problem{}
	} else {
		data.Problems = problemsOf(err)
	}
	return c.showEditor(ec, http.StatusUnprocessableEntity, *data)
}

// checkSummary says in a sentence what a check found.
func checkSummary(l *locale, problems []problem) string {
	if len(problems) == 0 {
		return l.text("editor.valid")
	}
	return l.text("editor.problems", map[string]any{"Count": len(problems)})
}
