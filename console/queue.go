package console

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/service"
	"github.com/itilflow/itilflow/store"
)

// queuePageSize is how many processes a queue page shows.
const queuePageSize = 25

// queueRow is one process of the queue.
type queueRow struct {
	ID, Title, Definition, State, Priority, Assignee string
	StartedAt                                        time.Time
	Ended                                            bool
	SLAs                                             []slaChip
}

// option is one choice of a select: what is sent, and what people read.
type option struct{ Value, Text string }

// Views of the queue: everything the person may see, what is assigned to
// them, to their groups (and roles), and what nobody has taken.
const (
	viewAll        = ""
	viewMine       = "mine"
	viewGroups     = "groups"
	viewUnassigned = "unassigned"
)

// queueFilter is what the queue's form asks for, as the form sends it.
type queueFilter struct {
	View, Text, Definition, State, Priority, StartedBy, CI, From, To string
	Breached, Ended                                                  bool
	Page                                                             int
	// Errors are the fields that do not parse, with why.
	Errors map[string]string
}

// readQueueFilter reads the form from the query.
func readQueueFilter(ec echo.Context) queueFilter {
	q := ec.QueryParam
	qf := queueFilter{View: q("view"), Text: q("q"), Definition: q("definition"), State: q("state"), Priority: q("priority"),
		StartedBy: q("started_by"), CI: q("ci"), From: q("from"), To: q("to"),
		Breached: q("breached") == "on", Ended: q("ended") == "on", Errors: map[string]string{}}
	qf.Page, _ = strconv.Atoi(q("page"))
	qf.Page = max(qf.Page, 1)
	return qf
}

// store is the filter for the store, as the signed-in person me; a day
// that does not parse is named in Errors.
func (qf queueFilter) store(me string, l *locale) store.ProcessFilter {
	f := store.ProcessFilter{Definition: qf.Definition, State: qf.State, Priority: qf.Priority, StartedBy: qf.StartedBy,
		CI: qf.CI, Text: qf.Text, Open: !qf.Ended, ByDue: true, Limit: queuePageSize, Offset: (qf.Page - 1) * queuePageSize}
	switch qf.View {
	case viewMine:
		f.Assignee = me
	case viewGroups:
		f.MyGroups = true
	case viewUnassigned:
		f.Unassigned = true
	}
	if qf.Breached {
		yes := true
		f.Breached = &yes
	}
	for name, raw := range map[string]string{"from": qf.From, "to": qf.To} {
		if raw == "" {
			continue
		}
		day, err := time.ParseInLocation(time.DateOnly, raw, time.UTC)
		if err != nil {
			qf.Errors[name] = l.text("audit.bad_day")
			continue
		}
		if name == "from" {
			f.StartedFrom = &day
		} else {
			end := day.AddDate(0, 0, 1)
			f.StartedBefore = &end
		}
	}
	return f
}

// queuePage lists the processes the person may see, the most urgent first:
// ordered by the next SLA due time, each with its clocks as time left.
func (c *Console) queuePage(ec echo.Context) error {
	ctx := ec.Request().Context()
	l := c.localeOf(ec)
	qf := readQueueFilter(ec)
	f := qf.store(c.whoOf(ec).ID, l)
	status, list := http.StatusOK, service.List{}
	if len(qf.Errors) > 0 {
		status = http.StatusBadRequest
	} else {
		var err error
		if list, err = c.svc.Processes(ctx, c.caller(ec), f); err != nil {
			if st := statusOf(engine.ErrorCode(err)); st >= 500 {
				return err
			}
			// A filter the service refused (a definition or state no process
			// can have) is shown at its field.
			status, qf.Errors = statusOf(engine.ErrorCode(err)), fieldErrors(err)
			if len(qf.Errors) == 0 {
				qf.Errors["q"] = errorText(err)
			}
		}
	}
	defs, err := c.svc.Definitions(ctx)
	if err != nil {
		return err
	}
	now, seen := time.Now(), map[string]names{}
	options := make([]option, len(defs))
	for i, d := range defs {
		options[i] = option{Value: d.Name, Text: c.namesOf(ctx, l, d).Title()}
	}
	rows := make([]queueRow, len(list.Items))
	for i, v := range list.Items {
		n := c.namesByVersion(ctx, l, seen, v.Definition, v.Version)
		assignee, _ := v.Vars[engine.VarAssignee].(string)
		if group, _ := v.Vars[engine.VarAssignmentGroup].(string); assignee == "" && group != "" {
			assignee = group
		}
		rows[i] = queueRow{ID: v.ID, Title: title(v.View), Definition: n.Title(), State: n.State(v.State), Priority: v.Priority,
			Assignee: assignee, StartedAt: v.StartedAt, Ended: v.EndedAt != nil, SLAs: chips(l, v.View, now, n)}
	}
	pages := max((list.Total+queuePageSize-1)/queuePageSize, 1)
	data := map[string]any{"Rows": rows, "Total": list.Total, "Filter": qf, "Definitions": options, "Page": qf.Page, "Pages": pages,
		"Views": qf.views(l),
		"More":  qf.Priority != "" || qf.StartedBy != "" || qf.CI != "" || qf.From != "" || qf.To != "" || qf.State != ""}
	if qf.Page > 1 {
		data["PrevURL"] = qf.url(qf.Page - 1)
	}
	if qf.Page < pages {
		data["NextURL"] = qf.url(qf.Page + 1)
	}
	return c.render(ec, status, "queue", data)
}

// queueView is a tab of the queue: a view with the rest of the filter.
type queueView struct {
	Text, URL string
	Current   bool
}

// views are the queue's tabs.
func (qf queueFilter) views(l *locale) []queueView {
	var out []queueView
	for _, v := range []struct{ view, text string }{{viewAll, "queue.view.all"}, {viewMine, "queue.view.mine"},
		{viewGroups, "queue.view.groups"}, {viewUnassigned, "queue.view.unassigned"}} {
		other := qf
		other.View = v.view
		out = append(out, queueView{Text: l.text(v.text), URL: other.url(1), Current: qf.View == v.view})
	}
	return out
}

// url is the queue with the same filter at another page.
func (qf queueFilter) url(page int) string {
	q := url.Values{}
	for k, v := range map[string]string{"view": qf.View, "q": qf.Text, "definition": qf.Definition, "state": qf.State,
		"priority": qf.Priority, "started_by": qf.StartedBy, "ci": qf.CI, "from": qf.From, "to": qf.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if qf.Breached {
		q.Set("breached", "on")
	}
	if qf.Ended {
		q.Set("ended", "on")
	}
	q.Set("page", strconv.Itoa(page))
	return "/queue?" + q.Encode()
}

// title is what a process is called: its input's title, else its id.
func title(v engine.View) string {
	if t, ok := v.Input["title"].(string); ok && t != "" {
		return t
	}
	return v.ID
}

// slaChip shows one SLA clock: its state in a word and a colour, the time
// left (or how long ago it was breached), and how much of its target is used.
type slaChip struct {
	Name    string
	Class   string // ok, warn, breached, paused, met, missed, pending
	Text    string
	Percent int
}

// chips are the SLA clocks of a process as at now, named by n.
func chips(l *locale, v engine.View, now time.Time, n names) []slaChip {
	out := make([]slaChip, 0, len(v.SLAs))
	for _, s := range v.SLAs {
		ch := slaChip{Name: n.SLA(s.Name)}
		if s.Target > 0 {
			ch.Percent = min(100, int(100*time.Duration(s.Elapsed)/time.Duration(s.Target)))
		}
		switch {
		case s.Status == engine.ClockStopped && s.Breached:
			ch.Class, ch.Text = "missed", l.text("sla.missed")
		case s.Status == engine.ClockStopped:
			ch.Class, ch.Text = "met", l.text("sla.met")
		case s.Status == engine.ClockPending:
			ch.Class, ch.Text = "pending", l.text("sla.pending")
		case s.Status == engine.ClockPaused:
			ch.Class, ch.Text = "paused", l.text("sla.paused")
		case s.Breached && s.BreachAt != nil:
			ch.Class, ch.Text = "breached", l.text("sla.breached_ago", map[string]any{"Ago": l.durationText(now.Sub(*s.BreachAt))})
		case s.Due != nil:
			ch.Class, ch.Text = "ok", l.text("sla.left", map[string]any{"Left": l.durationText(s.Due.Sub(now))})
			if s.Warned {
				ch.Class = "warn"
			}
		default:
			ch.Class, ch.Text = "ok", l.text("sla.running")
		}
		out = append(out, ch)
	}
	return out
}
