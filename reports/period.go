package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

var quarterRe = regexp.MustCompile(`^(\d{4})-Q([1-4])$`)

// span reads one end of a period: a day (2026-11-03), a month (2026-11), a
// quarter (2026-Q4) in the zone, or an instant (RFC 3339). It returns where
// the span starts and where it ends.
func span(s string, loc *time.Location) (time.Time, time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, t, true
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, t.AddDate(0, 0, 1), true
	}
	if t, err := time.ParseInLocation("2006-01", s, loc); err == nil {
		return t, t.AddDate(0, 1, 0), true
	}
	if m := quarterRe.FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[1])
		q, _ := strconv.Atoi(m[2])
		t := time.Date(y, time.Month(3*(q-1)+1), 1, 0, 0, 0, 0, loc)
		return t, t.AddDate(0, 3, 0), true
	}
	return time.Time{}, time.Time{}, false
}

// MaxPeriod bounds a period: a report over decades would read the whole
// projection for a figure nobody asked for.
const MaxPeriod = 366 * 24 * time.Hour * 2

// ParsePeriod reads from and to as a report period in the zone of cfg: from's
// start to to's end, so from=2026-11-01&to=2026-11-30 is November, and
// from=2026-Q4 alone the fourth quarter (to defaults to from). Problems are
// EINVALID naming the field.
func (c *Config) ParsePeriod(from, to string) (store.Period, error) {
	const op = "reports.ParsePeriod"
	bad := func(field, msg string) error {
		return &engine.Error{Code: engine.EINVALID, Op: op, Message: "bad report period",
			Details: []engine.Detail{{Field: field, Message: msg}}}
	}
	const forms = "a day (2026-11-03), a month (2026-11), a quarter (2026-Q4) or an RFC 3339 time"
	if from == "" {
		return store.Period{}, bad("from", "required: "+forms)
	}
	start, end, ok := span(from, c.Location)
	if !ok {
		return store.Period{}, bad("from", fmt.Sprintf("%q is not %s", from, forms))
	}
	if to != "" {
		if _, end, ok = span(to, c.Location); !ok {
			return store.Period{}, bad("to", fmt.Sprintf("%q is not %s", to, forms))
		}
	} else if end.Equal(start) {
		return store.Period{}, bad("to", "required when from is an instant: an instant spans no time")
	}
	if !end.After(start) {
		return store.Period{}, bad("to", "must be after from")
	}
	if end.Sub(start) > MaxPeriod {
		return store.Period{}, bad("to", "a period is at most two years")
	}
	return store.Period{From: start, To: end}, nil
}

// WriteCSV writes the report's tables one after the other, each as a line
// naming it, its header and its rows, with a blank line between tables.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	for i, t := range r.Tables {
		if i > 0 {
			cw.Write(nil)
		}
		cw.Write([]string{"# " + t.Name})
		cw.Write(t.Columns)
		for _, row := range t.Rows {
			rec := make([]string, len(row))
			for j, v := range row {
				rec[j] = Cell(v)
				if _, text := v.(string); text && strings.ContainsAny(rec[j][:min(1, len(rec[j]))], "=+-@\t\r") {
					// Text people typed (an assignment group) must not run as
					// a spreadsheet formula when the file is opened.
					rec[j] = "'" + rec[j]
				}
			}
			cw.Write(rec)
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the report for a terminal: a heading, then each table
// with aligned columns; an empty cell (a rate with nothing to divide by)
// shows as "-".
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s, %s up to %s (%s)\n", r.Title, r.From.Format("2006-01-02 15:04"), r.To.Format("2006-01-02 15:04"), r.TimeZone)
	for _, t := range r.Tables {
		fmt.Fprintf(w, "\n%s\n", t.Name)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(t.Columns, "\t"))
		for _, row := range t.Rows {
			cells := make([]string, len(row))
			for i, v := range row {
				if cells[i] = Cell(v); cells[i] == "" {
					cells[i] = "-"
				}
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		if len(t.Rows) == 0 {
			fmt.Fprintln(tw, "(none)")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// Cell renders one value of a table: nothing for nil, numbers without
// trailing zeros.
func Cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}
