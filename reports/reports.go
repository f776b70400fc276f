package reports

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

// Report is one computed report: tables of figures over a period.
type Report struct {
	Name     string    `json:"name"`
	Title    string    `json:"title"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	TimeZone string    `json:"timezone"`
	Tables   []Table   `json:"tables"`
}

// Table is a part of a report. A cell is a string, an int, a float64
// (rounded to 0.1: minutes and percentages) or nil where a rate has no
// denominator.
type Table struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// Table returns the table of that name, or nil.
func (r *Report) Table(name string) *Table {
	for i := range r.Tables {
		if r.Tables[i].Name == name {
			return &r.Tables[i]
		}
	}
	return nil
}

// Info names and describes a report, for the list.
type Info struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

// List is every report, in the order the API lists them.
var list = []Info{
	{"fault-summary", "Monthly fault summary", "User reports, major, system and device faults, total and average fault duration in minutes, on-time repair rate."},
	{"sla-attainment", "SLA attainment", "Attainment per SLA and priority, and the weighted total A·P1 + B·P2 + … of reports.yaml."},
	{"resolution-rates", "Resolution rates", "Incidents resolved / incidents closed; problems solved / problems closed."},
	{"response-times", "Response times", "Mean time to acknowledge and to resolve by priority and assignment group (business time); backlog by age at the period's end."},
	{"daily-log", "Daily log", "Everything opened, breached, escalated and closed, day by day."},
	{"report-punctuality", "Report punctuality", "Written reports delivered on time / reports due."},
	{"changes", "Changes", "Success rate, emergency share, changes decided per CAB meeting, median time to decision, approval turnaround per approver."},
	{"staff-scores", "Staff scores", "Satisfaction, workload, timely problem handling and timely recovery, weighted as reports.yaml says."},
}

// List returns the reports there are.
func List() []Info { return append([]Info(nil), list...) }

// Source is what the reports read: the store's report queries.
type Source interface {
	ReportSLAs(ctx context.Context, definitions, categories []string, p store.Period) ([]store.SLAGroup, error)
	ReportOpened(ctx context.Context, definitions, categories []string, p store.Period) ([]store.OpenedGroup, error)
	ReportEnded(ctx context.Context, definitions []string, p store.Period, withFrom bool) ([]store.EndedGroup, error)
	ReportBacklog(ctx context.Context, definitions []string, at time.Time) ([]store.BacklogGroup, error)
	ReportLog(ctx context.Context, p store.Period, zone string, limit int) ([]store.LogCount, []store.LogEntry, error)
	ReportDue(ctx context.Context, definition, state, action string, p store.Period) ([]store.DueReport, error)
	ReportDecisionTimes(ctx context.Context, definitions []string, sla string, p store.Period) ([]store.DecisionTimes, error)
	ReportMeetings(ctx context.Context, definition, meeting string, p store.Period) ([]store.Meeting, error)
	ReportVotes(ctx context.Context, definitions []string, p store.Period) ([]store.CastVote, error)
	ReportCredits(ctx context.Context, definition, action, sla string, p store.Period) ([]store.Credit, error)
	ReportRatings(ctx context.Context, definition, action, field string, p store.Period) ([]store.Rating, error)
}

// LogLimit bounds the entries of a daily log (its counts are complete).
const LogLimit = 10000

// Reports computes reports from a source as a configuration says.
type Reports struct {
	cfg *Config
	src Source
	// now is the time of "not yet due": a report owed after it is pending.
	now func() time.Time
}

// New returns the reports of cfg over src; now tells the time (time.Now).
func New(cfg *Config, src Source, now func() time.Time) *Reports {
	return &Reports{cfg: cfg, src: src, now: now}
}

// Config returns the configuration the reports follow.
func (r *Reports) Config() *Config { return r.cfg }

// Run computes the report name over p. An unknown name is ENOTFOUND.
func (r *Reports) Run(ctx context.Context, name string, p store.Period) (*Report, error) {
	const op = "reports.Run"
	var info *Info
	for i := range list {
		if list[i].Name == name {
			info = &list[i]
		}
	}
	if info == nil {
		return nil, &engine.Error{Code: engine.ENOTFOUND, Op: op, Message: fmt.Sprintf("no report named %q", name)}
	}
	run := map[string]func(context.Context, store.Period) ([]Table, error){
		"fault-summary":      r.faultSummary,
		"sla-attainment":     r.slaAttainment,
		"resolution-rates":   r.resolutionRates,
		"response-times":     r.responseTimes,
		"daily-log":          r.dailyLog,
		"report-punctuality": r.punctuality,
		"changes":            r.changes,
		"staff-scores":       r.staffScores,
	}[name]
	tables, err := run(ctx, p)
	if err != nil {
		return nil, err
	}
	return &Report{Name: info.Name, Title: info.Title, From: p.From.In(r.cfg.Location), To: p.To.In(r.cfg.Location),
		TimeZone: r.cfg.TimeZone, Tables: tables}, nil
}

// round1 keeps one decimal: minutes and percentages are shown to 0.1.
func round1(x float64) float64 { return math.Round(x*10) / 10 }

// pct is n/d in percent to 0.1, nil when there is nothing to divide by.
func pct(n, d int) any {
	if d == 0 {
		return nil
	}
	return round1(100 * float64(n) / float64(d))
}

// minutes is a mean of seconds in minutes to 0.1, nil when there is none.
func minutes(totalS int64, n int) any {
	if n == 0 {
		return nil
	}
	return round1(float64(totalS) / float64(n) / 60)
}

func (r *Reports) incidentSources() (defs, cats []string) {
	for _, s := range r.cfg.Incidents {
		defs, cats = append(defs, s.Definition), append(cats, s.Category)
	}
	return defs, cats
}

func (r *Reports) incidentSource(def string) *IncidentSource {
	for i := range r.cfg.Incidents {
		if r.cfg.Incidents[i].Definition == def {
			return &r.cfg.Incidents[i]
		}
	}
	return nil
}

// repaired says whether a clock group counts as a repair: open, or ended in
// one of the resolved states (a cancelled incident was not repaired).
func repaired(src *IncidentSource, g store.SLAGroup) bool {
	return g.SLA == src.Resolution && (g.EndState == "" || contains(src.Resolved, g.EndState))
}

func (r *Reports) faultSummary(ctx context.Context, p store.Period) ([]Table, error) {
	defs, cats := r.incidentSources()
	opened, err := r.src.ReportOpened(ctx, defs, cats, p)
	if err != nil {
		return nil, err
	}
	var reports, major, system, device int
	for _, g := range opened {
		src := r.incidentSource(g.Definition)
		reports += g.Count
		if src.Major || contains(src.MajorPriorities, g.Priority) {
			major += g.Count
		}
		switch {
		case contains(r.cfg.FaultCategories.System, g.Category):
			system += g.Count
		case contains(r.cfg.FaultCategories.Device, g.Category):
			device += g.Count
		}
	}
	clocks, err := r.src.ReportSLAs(ctx, defs, cats, p)
	if err != nil {
		return nil, err
	}
	var fixed, onTime int
	var durationS int64
	for _, g := range clocks {
		if src := r.incidentSource(g.Definition); repaired(src, g) {
			fixed += g.Stopped
			onTime += g.StoppedMet
			durationS += g.StoppedElapsedS
		}
	}
	return []Table{{
		Name: "summary",
		Columns: []string{"user_reports", "major_faults", "system_faults", "device_faults", "repaired",
			"total_duration_min", "average_duration_min", "on_time_repair_rate_pct"},
		Rows: [][]any{{reports, major, system, device, fixed, round1(float64(durationS) / 60), minutes(durationS, fixed), pct(onTime, fixed)}},
	}}, nil
}

// allDefinitions are every definition a report configuration names, for the
// SLA attainment, which shows every clock.
func (r *Reports) allDefinitions() []string {
	seen := map[string]bool{}
	var out []string
	add := func(names ...string) {
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	for _, s := range r.cfg.Incidents {
		add(s.Definition)
	}
	for _, s := range r.cfg.Problems {
		add(s.Definition)
	}
	add(r.cfg.Changes.Definitions...)
	for _, w := range r.cfg.SLAWeights {
		add(w.Definition)
	}
	sort.Strings(out)
	return out
}

type slaKey struct{ def, sla, priority string }

func (r *Reports) slaAttainment(ctx context.Context, p store.Period) ([]Table, error) {
	defs := r.allDefinitions()
	groups, err := r.src.ReportSLAs(ctx, defs, make([]string, len(defs)), p)
	if err != nil {
		return nil, err
	}
	type tally struct{ concluded, met int }
	by := map[slaKey]*tally{}
	var keys []slaKey
	for _, g := range groups {
		if contains(r.cfg.Withdrawn, g.EndState) {
			continue
		}
		k := slaKey{g.Definition, g.SLA, g.Priority}
		if by[k] == nil {
			by[k] = &tally{}
			keys = append(keys, k)
		}
		by[k].concluded += g.Concluded
		by[k].met += g.Met
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a.def < b.def || a.def == b.def && (a.sla < b.sla || a.sla == b.sla && a.priority < b.priority)
	})
	bySLA := Table{Name: "by_sla", Columns: []string{"definition", "sla", "priority", "concluded", "met", "attainment_pct"}}
	for _, k := range keys {
		if t := by[k]; t.concluded > 0 {
			bySLA.Rows = append(bySLA.Rows, []any{k.def, k.sla, k.priority, t.concluded, t.met, pct(t.met, t.concluded)})
		}
	}
	weighted := Table{Name: "weighted", Columns: []string{"definition", "sla", "priority", "weight", "concluded", "met", "attainment_pct"}}
	var sum, weights float64
	for _, w := range r.cfg.SLAWeights {
		var t tally
		for k, v := range by {
			if k.def == w.Definition && k.sla == w.SLA && (w.Priority == "" || k.priority == w.Priority) {
				t.concluded += v.concluded
				t.met += v.met
			}
		}
		weighted.Rows = append(weighted.Rows, []any{w.Definition, w.SLA, w.Priority, w.Weight, t.concluded, t.met, pct(t.met, t.concluded)})
		if t.concluded > 0 {
			// An indicator with no clock in the period has no rate: it
			// neither helps nor hurts, and the others' weights share its part.
			sum += w.Weight * float64(t.met) / float64(t.concluded)
			weights += w.Weight
		}
	}
	var total any
	if weights > 0 {
		total = round1(100 * sum / weights)
	}
	return []Table{bySLA, weighted, {Name: "total", Columns: []string{"weighted_attainment_pct", "weights_counted"}, Rows: [][]any{{total, weights}}}}, nil
}

func (r *Reports) resolutionRates(ctx context.Context, p store.Period) ([]Table, error) {
	t := Table{Name: "rates", Columns: []string{"kind", "definition", "closed", "resolved", "rate_pct"}}
	defs, _ := r.incidentSources()
	ended, err := r.src.ReportEnded(ctx, defs, p, false)
	if err != nil {
		return nil, err
	}
	var allClosed, allResolved int
	for _, d := range defs {
		src := r.incidentSource(d)
		var closed, resolved int
		for _, g := range ended {
			if g.Definition == d {
				closed += g.Count
				if contains(src.Resolved, g.State) {
					resolved += g.Count
				}
			}
		}
		t.Rows = append(t.Rows, []any{"incident", d, closed, resolved, pct(resolved, closed)})
		allClosed, allResolved = allClosed+closed, allResolved+resolved
	}
	t.Rows = append(t.Rows, []any{"incident", "", allClosed, allResolved, pct(allResolved, allClosed)})
	var pdefs []string
	for _, s := range r.cfg.Problems {
		pdefs = append(pdefs, s.Definition)
	}
	ended, err = r.src.ReportEnded(ctx, pdefs, p, true)
	if err != nil {
		return nil, err
	}
	allClosed, allResolved = 0, 0
	for _, s := range r.cfg.Problems {
		var closed, solved int
		for _, g := range ended {
			if g.Definition == s.Definition {
				closed += g.Count
				if contains(s.SolvedStates, g.State) && (len(s.SolvedFrom) == 0 || contains(s.SolvedFrom, g.From)) {
					solved += g.Count
				}
			}
		}
		t.Rows = append(t.Rows, []any{"problem", s.Definition, closed, solved, pct(solved, closed)})
		allClosed, allResolved = allClosed+closed, allResolved+solved
	}
	t.Rows = append(t.Rows, []any{"problem", "", allClosed, allResolved, pct(allResolved, allClosed)})
	return []Table{t}, nil
}

func (r *Reports) responseTimes(ctx context.Context, p store.Period) ([]Table, error) {
	defs, cats := r.incidentSources()
	groups, err := r.src.ReportSLAs(ctx, defs, make([]string, len(cats)), p)
	if err != nil {
		return nil, err
	}
	type key struct{ def, priority, group string }
	type sums struct {
		acked, resolved int
		ackS, resS      int64
	}
	by := map[key]*sums{}
	var keys []key
	for _, g := range groups {
		src := r.incidentSource(g.Definition)
		k := key{g.Definition, g.Priority, g.Group}
		s := by[k]
		if s == nil {
			s = &sums{}
			by[k] = s
			keys = append(keys, k)
		}
		switch {
		case g.SLA == src.Response:
			s.acked += g.Stopped
			s.ackS += g.StoppedElapsedS
		case repaired(src, g):
			s.resolved += g.Stopped
			s.resS += g.StoppedElapsedS
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a.def < b.def || a.def == b.def && (a.priority < b.priority || a.priority == b.priority && a.group < b.group)
	})
	means := Table{Name: "means", Columns: []string{"definition", "priority", "assignment_group", "acknowledged", "mean_acknowledge_min", "resolved", "mean_resolve_min"}}
	for _, k := range keys {
		s := by[k]
		if s.acked+s.resolved > 0 {
			means.Rows = append(means.Rows, []any{k.def, k.priority, k.group, s.acked, minutes(s.ackS, s.acked), s.resolved, minutes(s.resS, s.resolved)})
		}
	}
	backlog, err := r.src.ReportBacklog(ctx, defs, p.To)
	if err != nil {
		return nil, err
	}
	buckets := store.BacklogBuckets()
	cols := append([]string{"definition", "priority"}, buckets...)
	bt := Table{Name: "backlog", Columns: append(cols, "total")}
	row := map[[2]string][]any{}
	var order [][2]string
	for _, g := range backlog {
		k := [2]string{g.Definition, g.Priority}
		if row[k] == nil {
			row[k] = []any{g.Definition, g.Priority}
			for range buckets {
				row[k] = append(row[k], 0)
			}
			row[k] = append(row[k], 0)
			order = append(order, k)
		}
		for i, b := range buckets {
			if b == g.Bucket {
				row[k][2+i] = row[k][2+i].(int) + g.Count
			}
		}
		last := len(row[k]) - 1
		row[k][last] = row[k][last].(int) + g.Count
	}
	for _, k := range order {
		bt.Rows = append(bt.Rows, row[k])
	}
	return []Table{means, bt}, nil
}

func (r *Reports) dailyLog(ctx context.Context, p store.Period) ([]Table, error) {
	counts, entries, err := r.src.ReportLog(ctx, p, r.cfg.TimeZone, LogLimit)
	if err != nil {
		return nil, err
	}
	kinds := []string{store.LogOpened, store.LogBreached, store.LogEscalated, store.LogClosed}
	days := Table{Name: "days", Columns: append([]string{"day"}, kinds...)}
	index := map[string]int{}
	for _, c := range counts {
		day := c.Day.Format(time.DateOnly)
		i, ok := index[day]
		if !ok {
			i = len(days.Rows)
			index[day] = i
			days.Rows = append(days.Rows, []any{day, 0, 0, 0, 0})
		}
		for j, k := range kinds {
			if k == c.Kind {
				days.Rows[i][1+j] = c.Count
			}
		}
	}
	log := Table{Name: "entries", Columns: []string{"at", "kind", "process", "definition", "priority", "detail"}}
	for _, e := range entries {
		log.Rows = append(log.Rows, []any{e.At.In(r.cfg.Location).Format(time.RFC3339), e.Kind, e.Process, e.Definition, e.Priority, e.Detail})
	}
	return []Table{days, log}, nil
}

// Punctuality statuses of a written report.
const (
	OnTime  = "on_time"
	Late    = "late"
	Pending = "pending"
)

func (r *Reports) punctuality(ctx context.Context, p store.Period) ([]Table, error) {
	asOf := r.now()
	if p.To.Before(asOf) {
		asOf = p.To
	}
	list := Table{Name: "reports", Columns: []string{"definition", "process", "due_from", "deadline", "delivered_at", "status"}}
	var onTime, late, pending int
	for _, c := range r.cfg.Punctuality {
		due, err := r.src.ReportDue(ctx, c.Definition, c.DueOnEnter, c.DeliveredBy, p)
		if err != nil {
			return nil, err
		}
		for _, d := range due {
			// The deadline counts in the reporting calendar, by the engine's
			// arithmetic, as an SLA target would.
			deadline := r.cfg.Cal.Add(d.DueAt, c.Within)
			status := Pending
			var delivered any
			switch {
			case d.DeliveredAt != nil && !d.DeliveredAt.After(deadline):
				status = OnTime
			case d.DeliveredAt != nil || !deadline.After(asOf):
				status = Late
			}
			if d.DeliveredAt != nil {
				delivered = d.DeliveredAt.In(r.cfg.Location).Format(time.RFC3339)
			}
			switch status {
			case OnTime:
				onTime++
			case Late:
				late++
			default:
				pending++
			}
			list.Rows = append(list.Rows, []any{c.Definition, d.Process, d.DueAt.In(r.cfg.Location).Format(time.RFC3339),
				deadline.In(r.cfg.Location).Format(time.RFC3339), delivered, status})
		}
	}
	summary := Table{Name: "summary", Columns: []string{"due", "on_time", "late", "pending", "punctuality_pct"},
		Rows: [][]any{{onTime + late, onTime, late, pending, pct(onTime, onTime+late)}}}
	return []Table{summary, list}, nil
}

func (r *Reports) changes(ctx context.Context, p store.Period) ([]Table, error) {
	ch := r.cfg.Changes
	opened, err := r.src.ReportOpened(ctx, ch.Definitions, make([]string, len(ch.Definitions)), p)
	if err != nil {
		return nil, err
	}
	var all, emergency int
	for _, g := range opened {
		all += g.Count
		if contains(ch.Emergency, g.Definition) {
			emergency += g.Count
		}
	}
	ended, err := r.src.ReportEnded(ctx, ch.Definitions, p, false)
	if err != nil {
		return nil, err
	}
	var succeeded, failed int
	for _, g := range ended {
		switch {
		case contains(ch.Succeeded, g.State):
			succeeded += g.Count
		case contains(ch.Failed, g.State):
			failed += g.Count
		}
	}
	meetings := Table{Name: "meetings", Columns: []string{"definition", "process", "held_at", "decided"}}
	var held, decidedAtMeetings int
	for _, b := range ch.Boards {
		ms, err := r.src.ReportMeetings(ctx, b.Definition, b.Meeting, p)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			held++
			decidedAtMeetings += m.Decided
			meetings.Rows = append(meetings.Rows, []any{b.Definition, m.Process, m.HeldAt.In(r.cfg.Location).Format(time.RFC3339), m.Decided})
		}
	}
	var perMeeting any
	if held > 0 {
		perMeeting = round1(float64(decidedAtMeetings) / float64(held))
	}
	decisions := Table{Name: "decision_times", Columns: []string{"definition", "decided", "median_decision_min"}}
	var median any
	if ch.Decision != "" {
		times, err := r.src.ReportDecisionTimes(ctx, ch.Definitions, ch.Decision, p)
		if err != nil {
			return nil, err
		}
		for _, t := range times {
			m := round1(t.MedianS / 60)
			if t.Definition == "" {
				median = m
				continue
			}
			decisions.Rows = append(decisions.Rows, []any{t.Definition, t.Count, m})
		}
	}
	var boards []string
	for _, b := range ch.Boards {
		boards = append(boards, b.Definition)
	}
	votes, err := r.src.ReportVotes(ctx, append(append([]string{}, ch.Definitions...), boards...), p)
	if err != nil {
		return nil, err
	}
	approvers := Table{Name: "approvers", Columns: []string{"approver", "votes", "mean_turnaround_min", "median_turnaround_min"}}
	var turn []time.Duration
	flush := func(who string) {
		if len(turn) == 0 {
			return
		}
		var sum time.Duration
		for _, d := range turn {
			sum += d
		}
		sort.Slice(turn, func(i, j int) bool { return turn[i] < turn[j] })
		med := turn[len(turn)/2]
		if len(turn)%2 == 0 {
			med = (turn[len(turn)/2-1] + turn[len(turn)/2]) / 2
		}
		approvers.Rows = append(approvers.Rows, []any{who, len(turn), round1(sum.Minutes() / float64(len(turn))), round1(med.Minutes())})
		turn = turn[:0]
	}
	for i, v := range votes {
		if i > 0 && votes[i-1].Approver != v.Approver {
			flush(votes[i-1].Approver)
		}
		// Turnaround counts in the reporting calendar, by the engine's
		// arithmetic: a vote opened on Friday evening is not late on Monday
		// morning in a 5x8 calendar.
		turn = append(turn, r.cfg.Cal.Between(v.OpenedAt, v.VotedAt))
		if i == len(votes)-1 {
			flush(v.Approver)
		}
	}
	summary := Table{Name: "summary", Columns: []string{"opened", "emergency", "emergency_share_pct", "succeeded", "failed",
		"success_rate_pct", "meetings", "decided_at_meetings", "decided_per_meeting", "median_decision_min"},
		Rows: [][]any{{all, emergency, pct(emergency, all), succeeded, failed, pct(succeeded, succeeded+failed), held, decidedAtMeetings, perMeeting, median}}}
	return []Table{summary, decisions, meetings, approvers}, nil
}

func (r *Reports) staffScores(ctx context.Context, p store.Period) ([]Table, error) {
	st := r.cfg.Staff
	type person struct {
		resolved, resolvedOnTime, diagnosed, diagnosedOnTime, ratings int
		ratingSum                                                     float64
	}
	people := map[string]*person{}
	get := func(id string) *person {
		if people[id] == nil {
			people[id] = &person{}
		}
		return people[id]
	}
	rec, err := r.src.ReportCredits(ctx, st.Recovery.Definition, st.Recovery.Action, st.Recovery.SLA, p)
	if err != nil {
		return nil, err
	}
	for _, c := range rec {
		pp := get(c.Actor)
		pp.resolved, pp.resolvedOnTime = c.Count, c.OnTime
	}
	diag, err := r.src.ReportCredits(ctx, st.ProblemHandling.Definition, st.ProblemHandling.Action, st.ProblemHandling.SLA, p)
	if err != nil {
		return nil, err
	}
	for _, c := range diag {
		pp := get(c.Actor)
		pp.diagnosed, pp.diagnosedOnTime = c.Count, c.OnTime
	}
	ratings, err := r.src.ReportRatings(ctx, st.Satisfaction.Definition, st.Recovery.Action, st.Satisfaction.Field, p)
	if err != nil {
		return nil, err
	}
	for _, c := range ratings {
		pp := get(c.Actor)
		pp.ratings, pp.ratingSum = c.Count, c.Sum
	}
	var ids []string
	most := 0
	for id, pp := range people {
		ids = append(ids, id)
		if n := pp.resolved + pp.diagnosed; n > most {
			most = n
		}
	}
	sort.Strings(ids)
	t := Table{Name: "scores", Columns: []string{"person", "resolved", "resolved_on_time", "diagnosed", "diagnosed_on_time",
		"ratings", "mean_rating", "satisfaction", "workload", "problem_handling", "recovery", "score"}}
	w := st.Weights
	for _, id := range ids {
		pp := people[id]
		// Each part is 0–100; a part without data (no rating, no problem)
		// is left out and the others' weights share its part, so a person
		// is not marked down for work they were not given.
		var parts, weights float64
		part := func(ok bool, v, weight float64) any {
			if !ok {
				return nil
			}
			parts += v * weight
			weights += weight
			return round1(v)
		}
		var meanRating any
		if pp.ratings > 0 {
			meanRating = round1(pp.ratingSum / float64(pp.ratings))
		}
		sat := part(pp.ratings > 0 && st.Satisfaction.Scale > 0, 100*pp.ratingSum/float64(max(pp.ratings, 1))/st.Satisfaction.Scale, w.Satisfaction)
		load := part(most > 0, 100*float64(pp.resolved+pp.diagnosed)/float64(max(most, 1)), w.Workload)
		prob := part(pp.diagnosed > 0, 100*float64(pp.diagnosedOnTime)/float64(max(pp.diagnosed, 1)), w.ProblemHandling)
		recov := part(pp.resolved > 0, 100*float64(pp.resolvedOnTime)/float64(max(pp.resolved, 1)), w.Recovery)
		var score any
		if weights > 0 {
			score = round1(parts / weights)
		}
		t.Rows = append(t.Rows, []any{id, pp.resolved, pp.resolvedOnTime, pp.diagnosed, pp.diagnosedOnTime, pp.ratings, meanRating,
			sat, load, prob, recov, score})
	}
	return []Table{t}, nil
}
