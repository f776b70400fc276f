package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/service"
	"github.com/itilflow/itilflow/store"
)

// actionForm is one action the person may take now, as a form.
type actionForm struct {
	// Name is the action's name, in the form's address; Label what people read.
	Name, Label string
	Fields      []formField
	// Comment is what they wrote, kept after a refusal.
	Comment string
}

// voteForm is a vote the person may cast: on the process's approval, or on one
// item of a meeting's agenda, for themselves or for whom they stand in.
type voteForm struct {
	Step, Item, ItemTitle, OnBehalfOf string
}

// agendaItem is one item of a meeting's agenda as the meeting page shows it:
// the change with what it says, its tally, its votes, and the person's vote
// forms for it.
type agendaItem struct {
	engine.ItemView
	Facts []fact
	Votes []engine.Vote
	Forms []voteForm
}

// eventLine is one event of the process, in a sentence.
type eventLine struct {
	At      time.Time
	Actor   string
	Summary string
	Comment string
}

// processData is what the process page shows.
type processData struct {
	P service.Process
	// Names are the labels of its definition in the reader's language.
	Names   names
	Title   string
	SLAs    []slaChip
	Actions []actionForm
	Votes   []voteForm
	// Agenda is a meeting's agenda, item by item; its vote forms are there,
	// not in Votes.
	Agenda []agendaItem
	// Facts are what the process was given: its description, and what each
	// action asked for (a change's risk and plans, for those deciding on it).
	Facts  []fact
	Events []eventLine
	// Refused is why the last form was refused, when it was not a field's
	// fault; FormAction is that form's action.
	Refused    string
	FormAction string
	// Note is the work note the form holds and NoteError why it was refused.
	Note, NoteError string
	// AsOf is the instant the page shows the process at, when it shows the
	// past (nothing can be done there); AsOfValue is what the form holds and
	// AsOfError why it was refused.
	AsOf                 *time.Time
	AsOfValue, AsOfError string
	// Replay is the result of a replay check just run.
	Replay *service.ReplayResult
	// HistoryReader may export and replay the process's history.
	HistoryReader bool
}

// asOfLayouts are the forms an instant may take in the as-of form: a
// browser's datetime-local (read as UTC, as the page shows every time), or
// RFC 3339 with its offset.
var asOfLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339Nano}

// parseAsOf reads the as-of form's instant.
func parseAsOf(s string) (time.Time, bool) {
	for _, layout := range asOfLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// processPage shows a process the person may see: its state, clocks, what
// they may do now, its approval and everything that happened.
func (c *Console) processPage(ec echo.Context) error {
	if raw := ec.QueryParam("as_of"); raw != "" {
		return c.showAsOf(ec, raw)
	}
	return c.showProcess(ec, http.StatusOK, "", nil, nil)
}

// showAsOf shows the process as it was at the instant the as-of form asks
// for, from its history; a malformed or future instant is refused at the
// form's field, over the process as it is now.
func (c *Console) showAsOf(ec echo.Context, raw string) error {
	ctx := ec.Request().Context()
	now := time.Now()
	at, ok := parseAsOf(raw)
	if !ok {
		return c.showAsOfRefused(ec, raw, http.StatusBadRequest, c.localeOf(ec).text("asof.malformed"))
	}
	past, err := c.svc.ProcessAsOf(ctx, c.caller(ec), ec.Param("id"), at, now)
	if err != nil {
		if status := statusOf(engine.ErrorCode(err)); status < 500 && status != http.StatusNotFound {
			return c.showAsOfRefused(ec, raw, status, errorText(err))
		}
		return err
	}
	d, err := c.svc.Definition(ctx, past.Process.Definition, past.Process.Version)
	if err != nil {
		return err
	}
	data := c.processData(ec, past.Process, d, past.At)
	data.AsOf, data.AsOfValue = &past.At, raw
	return c.render(ec, http.StatusOK, "process", data)
}

func (c *Console) showAsOfRefused(ec echo.Context, raw string, status int, why string) error {
	data, err := c.current(ec)
	if err != nil {
		return err
	}
	data.AsOfValue, data.AsOfError = raw, why
	return c.render(ec, status, "process", data)
}

// current reads the process as it is now, with what the page shows of it.
func (c *Console) current(ec echo.Context) (processData, error) {
	ctx := ec.Request().Context()
	p, err := c.svc.Process(ctx, c.caller(ec), ec.Param("id"))
	if err != nil {
		return processData{}, err
	}
	d, err := c.svc.Definition(ctx, p.Definition, p.Version)
	if err != nil {
		return processData{}, err
	}
	data := c.processData(ec, p, d, time.Now())
	if st := d.Compiled.State(p.State); st != nil && p.EndedAt == nil {
		data.Votes = c.votesOpen(ec, p.View.View, &d.Compiled)
	}
	if a := p.Approval; a != nil && len(a.Items) > 0 {
		data.Agenda, data.Votes = c.agenda(ec, a, data.Votes)
	}
	return data, nil
}

// processData is what every version of the page shows of p, at now.
func (c *Console) processData(ec echo.Context, p service.Process, d store.Definition, now time.Time) processData {
	l := c.localeOf(ec)
	n := c.namesOf(ec.Request().Context(), l, d)
	data := processData{P: p, Names: n, Title: title(p.View.View), SLAs: chips(l, p.View.View, now, n),
		Facts: factsOf(p.View.View, &d.Compiled, 0, n), HistoryReader: service.ReadsHistories(c.caller(ec))}
	for _, e := range p.Events {
		data.Events = append(data.Events, eventLine{At: e.At, Actor: e.Actor, Summary: eventText(l, n, e), Comment: e.Comment})
	}
	return data
}

// showProcess renders the process page as it is now; after a refused form,
// status is the refusal's, action the form's, sent what it held and err why.
func (c *Console) showProcess(ec echo.Context, status int, action string, sent url.Values, err error) error {
	data, derr := c.current(ec)
	if derr != nil {
		return derr
	}
	ctx := ec.Request().Context()
	p := data.P
	d, derr := c.svc.Definition(ctx, p.Definition, p.Version)
	if derr != nil {
		return derr
	}
	data.FormAction = action
	errs := fieldErrors(err)
	switch {
	case action == noteForm && err != nil:
		data.Note, data.NoteError = sent.Get("comment"), errs["comment"]
		if data.NoteError == "" {
			data.NoteError = errorText(err)
		}
	case err != nil && len(errs) == 0:
		data.Refused = errorText(err)
	}
	if st := d.Compiled.State(p.State); st != nil && p.EndedAt == nil {
		for _, a := range st.Actions {
			if !slices.Contains(p.Actions, a.Name) || a.Kind == engine.KindVote {
				continue
			}
			af := actionForm{Name: a.Name, Label: data.Names.Action(a.Name)}
			if a.Name == action {
				af.Fields, af.Comment = formFields(a.Input, sent, errs, data.Names), sent.Get("comment")
			} else {
				af.Fields = formFields(a.Input, nil, nil, data.Names)
			}
			data.Actions = append(data.Actions, af)
		}
	}
	return c.render(ec, status, "process", data)
}

// replay checks that the running code decides as the process's history
// recorded, and shows the result on the process's page.
func (c *Console) replay(ec echo.Context) error {
	res, err := c.svc.Replay(ec.Request().Context(), c.caller(ec), ec.Param("id"))
	if err != nil {
		return err
	}
	data, err := c.current(ec)
	if err != nil {
		return err
	}
	data.Replay = &res
	return c.render(ec, http.StatusOK, "process", data)
}

// exportHistory downloads the process's workflow history (every run), as
// the API's history export does.
func (c *Console) exportHistory(ec echo.Context) error {
	id := ec.Param("id")
	w := ec.Response()
	_, err := c.svc.History(ec.Request().Context(), c.caller(ec), id, "", w, func() {
		w.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+id+`-history.json"`)
		w.WriteHeader(http.StatusOK)
	})
	return err
}

// votesOpen are the votes the person may cast on the process now: what their
// inbox lists of it.
func (c *Console) votesOpen(ec echo.Context, v engine.View, def *engine.Definition) []voteForm {
	if v.Approval == nil {
		return nil
	}
	inbox, err := c.svc.Inbox(ec.Request().Context(), c.caller(ec))
	if err != nil {
		return nil // the page still shows the process; the inbox says why
	}
	var out []voteForm
	for _, it := range inbox.Approvals {
		if it.ID != v.ID {
			continue
		}
		vf := voteForm{Step: it.Step, OnBehalfOf: it.OnBehalfOf}
		if it.Item != nil {
			vf.Item, vf.ItemTitle = it.Item.ID, it.Item.Title
		}
		out = append(out, vf)
	}
	return out
}

// agenda lays out a meeting's items with their votes, and moves the person's
// vote forms for each item beside it; forms not for an item are returned.
func (c *Console) agenda(ec echo.Context, a *engine.ApprovalView, forms []voteForm) ([]agendaItem, []voteForm) {
	ids := make([]string, len(a.Items))
	for i, it := range a.Items {
		ids[i] = it.ID
	}
	facts := c.factsByID(ec.Request().Context(), c.localeOf(ec), c.caller(ec), ids)
	out := make([]agendaItem, len(a.Items))
	for i, it := range a.Items {
		out[i] = agendaItem{ItemView: it, Facts: facts[it.ID]}
		for _, v := range a.Votes {
			if v.Item == it.ID {
				out[i].Votes = append(out[i].Votes, v)
			}
		}
	}
	var rest []voteForm
	for _, f := range forms {
		i := slices.IndexFunc(out, func(it agendaItem) bool { return it.ID == f.Item })
		if f.Item == "" || i < 0 {
			rest = append(rest, f)
			continue
		}
		out[i].Forms = append(out[i].Forms, f)
	}
	return out, rest
}

// processSeq answers the number of the process's last event, for the page's
// script to reload when it changes.
func (c *Console) processSeq(ec echo.Context) error {
	p, err := c.svc.Process(ec.Request().Context(), c.caller(ec), ec.Param("id"))
	if err != nil {
		return err
	}
	return ec.String(http.StatusOK, strconv.FormatInt(p.Seq, 10))
}

// takeAction takes an action from its form. A refusal shows the page again
// with what was sent and the problem beside its field; success goes back to
// the page (post, redirect, get).
func (c *Console) takeAction(ec echo.Context) error {
	ctx := ec.Request().Context()
	id, action := ec.Param("id"), ec.Param("action")
	form, err := ec.FormParams()
	if err != nil {
		return err
	}
	p, err := c.svc.Process(ctx, c.caller(ec), id)
	if err != nil {
		return err
	}
	d, err := c.svc.Definition(ctx, p.Definition, p.Version)
	if err != nil {
		return err
	}
	var fields []engine.Field
	if st := d.Compiled.State(p.State); st != nil {
		if a := st.Action(action); a != nil {
			fields = a.Input
		}
	}
	_, err = c.svc.Act(ctx, c.caller(ec), service.ActionRequest{Process: id, Action: action,
		Input: formInput(fields, form), Comment: form.Get("comment"), IdempotencyKey: form.Get("key")})
	if err != nil {
		return c.refused(ec, action, form, err)
	}
	l := c.localeOf(ec)
	c.flash(ec, l.text("flash.action_taken", map[string]any{"Action": c.namesOf(ctx, l, d).Action(action)}))
	return ec.Redirect(http.StatusSeeOther, "/processes/"+url.PathEscape(id))
}

// vote casts a vote from a vote form.
func (c *Console) vote(ec echo.Context) error {
	id := ec.Param("id")
	form, err := ec.FormParams()
	if err != nil {
		return err
	}
	res, err := c.svc.Vote(ec.Request().Context(), c.caller(ec), service.VoteRequest{Process: id, Step: ec.Param("step"),
		Decision: form.Get("decision"), Comment: form.Get("comment"), Item: form.Get("item"), OnBehalfOf: form.Get("on_behalf_of"),
		IdempotencyKey: form.Get("key")})
	if err != nil {
		return c.refused(ec, "vote", form, err)
	}
	c.flash(ec, c.localeOf(ec).text("flash.voted", map[string]any{"Decision": res.Decision, "Outcome": res.Outcome}))
	back := form.Get("back")
	if back != "/approvals" {
		back = "/processes/" + url.PathEscape(id)
	}
	return ec.Redirect(http.StatusSeeOther, back)
}

// refused shows the process page again after a form was refused: the
// refusal's status, its message, and what was sent. A process the person may
// not see is not found, as anywhere else.
func (c *Console) refused(ec echo.Context, action string, form url.Values, err error) error {
	status := statusOf(engine.ErrorCode(err))
	if status >= 500 {
		return err
	}
	return c.showProcess(ec, status, action, form, err)
}

// errorText is the message of an error for people: the service's own words.
func errorText(err error) string {
	var e *engine.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// noteForm names the work-note form among a page's forms.
const noteForm = "_note"

// addNote adds a work note from the page's form; a refusal shows the page
// again with the note and why.
func (c *Console) addNote(ec echo.Context) error {
	id := ec.Param("id")
	form, err := ec.FormParams()
	if err != nil {
		return err
	}
	_, err = c.svc.AddComment(ec.Request().Context(), c.caller(ec), service.CommentRequest{Process: id,
		Comment: form.Get("comment"), IdempotencyKey: form.Get("key")})
	if err != nil {
		return c.refused(ec, noteForm, form, err)
	}
	c.flash(ec, c.localeOf(ec).text("flash.noted"))
	return ec.Redirect(http.StatusSeeOther, "/processes/"+url.PathEscape(id))
}
