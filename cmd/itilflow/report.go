package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/itilflow/itilflow/reports"
)

const reportUsage = "usage: itilflow report NAME --from PERIOD [--to PERIOD] [--format table|csv|json] [--definitions DIR]\n" +
	"  NAME: fault-summary, sla-attainment, resolution-rates, response-times, daily-log, report-punctuality, changes, staff-scores\n" +
	"  PERIOD: a day (2026-11-03), a month (2026-11), a quarter (2026-Q4) or an RFC 3339 time\n" +
	"  (reads DATABASE_URL; unset, that of the dev running on --data-dir)"

// runReport implements `itilflow report NAME --from --to`: one report
// computed on DATABASE_URL as the API computes it, as a table for terminals,
// CSV or JSON. Like `audit verify` it reads the database directly: whoever
// holds DATABASE_URL reads everything already, so no role is checked here.
func runReport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("report", getenv, stderr)
	from := f.String("from", "", "start of the period: a day, a month, a quarter or an RFC 3339 time")
	to := f.String("to", "", "end of the period, as --from (default: the end of --from's day, month or quarter)")
	format := f.String("format", "table", "table, csv or json")
	dir := f.string("definitions", "definitions", "directory holding "+reports.File+" and "+calendarsFile)
	loc := f.local()
	var name string
	// The name may come first (itilflow report fault-summary --from …) or
	// after the flags.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := f.parse(args); err != nil {
		return err
	}
	if name == "" && f.NArg() > 0 {
		// Flags stop at the name: read those after it too.
		name = f.Arg(0)
		if err := f.parse(f.Args()[1:]); err != nil {
			return err
		}
	}
	if f.NArg() > 0 {
		return fmt.Errorf("one report at a time: %q is one too many\n%s", f.Arg(0), reportUsage)
	}
	if name == "" || *from == "" {
		return errors.New(reportUsage)
	}
	if *format != "table" && *format != "csv" && *format != "json" {
		return fmt.Errorf("--format %q: want table, csv or json", *format)
	}
	calendars, err := loadCalendars(filepath.Join(*dir, calendarsFile))
	if err != nil {
		return err
	}
	st, err := openStore(ctx, loc)
	if err != nil {
		return err
	}
	defer st.Close()
	cfg, err := loadReports(ctx, st, filepath.Join(*dir, reports.File), calendars)
	if err != nil {
		return err
	}
	if cfg == nil {
		return fmt.Errorf("no %s in %s: say which directory holds it with --definitions", reports.File, *dir)
	}
	p, err := cfg.ParsePeriod(*from, *to)
	if err != nil {
		return err
	}
	r, err := reports.New(cfg, st, time.Now).Run(ctx, name, p)
	if err != nil {
		return err
	}
	switch *format {
	case "csv":
		return r.WriteCSV(stdout)
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return r.WriteTable(stdout)
}
