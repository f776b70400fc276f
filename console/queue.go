package console

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

// queuePageSize is how many processes a queue page shows.
const queuePageSize = 25

// queueRow is one process of the queue.
type queueRow struct {
	ID, Title, Definition, State, Priority string
	StartedAt                              time.Time
	Ended                                  bool
	SLAs                                   []slaChip
}

// option is one choice of a select: what is sent, and what people read.
type option struct{ Value, Text string }

// queueFilter is what the queue's form asks for.
type queueFilter struct {
	Definition, State string
	Breached, Ended   bool
	Page              int
}

// queuePage lists the processes the person may see, the most urgent first:
// ordered by the next SLA due time, each with its clocks as time left.
func (c *Console) queuePage(ec echo.Context) error {
	ctx := ec.Request().Context()
	qf := queueFilter{Definition: ec.QueryParam("definition"), State: ec.QueryParam("state"),
		Breached: ec.QueryParam("breached") == "on", Ended: ec.QueryParam("ended") == "on"}
	qf.Page, _ = strconv.Atoi(ec.QueryParam("page"))
	qf.Page = max(qf.Page, 1)
	f := store.ProcessFilter{Definition: qf.Definition, State: qf.State, Open: !qf.Ended, ByDue: true,
		Limit: queuePageSize, Offset: (qf.Page - 1) * queuePageSize}
	if qf.Breached {
		yes := true
		f.Breached = &yes
	}
	list, err := c.svc.Processes(ctx, c.caller(ec), f)
	if err != nil {
		return err
	}
	defs, err := c.svc.Definitions(ctx)
	if err != nil {
		return err
	}
	l, now, seen := c.localeOf(ec), time.Now(), map[string]names{}
	options := make([]option, len(defs))
	for i, d := range defs {
		options[i] = option{Value: d.Name, Text: c.namesOf(ctx, l, d).Title()}
	}
	rows := make([]queueRow, len(list.Items))
	for i, v := range list.Items {
		n := c.namesByVersion(ctx, l, seen, v.Definition, v.Version)
		rows[i] = queueRow{ID: v.ID, Title: title(v), Definition: n.Title(), State: n.State(v.State), Priority: v.Priority,
			StartedAt: v.StartedAt, Ended: v.EndedAt != nil, SLAs: chips(l, v, now, n)}
	}
	pages := max((list.Total+queuePageSize-1)/queuePageSize, 1)
	data := map[string]any{"Rows": rows, "Total": list.Total, "Filter": qf, "Definitions": options, "Page": qf.Page, "Pages": pages}
	if qf.Page > 1 {
		data["PrevURL"] = qf.url(qf.Page - 1)
	}
	if qf.Page < pages {
		data["NextURL"] = qf.url(qf.Page + 1)
	}
	return c.render(ec, http.StatusOK, "queue", data)
}

// url is the queue with the same filter at another page.
func (qf queueFilter) url(page int) string {
	q := url.Values{}
	for k, v := range map[string]string{"definition": qf.Definition, "state": qf.State} {
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
