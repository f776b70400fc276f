package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/itilflow/itilflow/engine"
)

// The queries of the reports package (see reports/). Each aggregates the
// projection over a period [From, To) and returns small groups; the reports
// package turns them into figures. Durations are the SLA engine's recorded
// clocks (process_slas.elapsed_s), never recomputed here, so business time
// counts in a report as it counted for the SLA.

// reportSelect runs one report query in a read-only transaction without
// JIT compilation: PostgreSQL judges these aggregates over many rows worth
// compiling, and spent more time compiling (340 ms of 680 at 100,000
// processes) than running them.
func (s *Store) reportSelect(ctx context.Context, op string, dest any, query string, args ...any) error {
	return s.inTx(ctx, op, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SET TRANSACTION READ ONLY`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `SET LOCAL jit = off`); err != nil {
			return err
		}
		return tx.SelectContext(ctx, dest, query, args...)
	})
}

// Period is the half-open interval [From, To) a report covers.
type Period struct {
	From, To time.Time
}

// SLAGroup counts the SLA clocks of one definition, SLA, priority,
// assignment group, fault category and end state that concluded or stopped in
// a period. A clock concludes once: when it breached, or else when it stopped
// met; so a clock breached in one month and stopped in the next counts, as
// missed, in the first only.
type SLAGroup struct {
	Definition string `db:"definition"`
	SLA        string `db:"sla"`
	Priority   string `db:"priority"`
	Group      string `db:"assignment_group"`
	Category   string `db:"category"`
	// EndState is the state the process ended in, "" while it is open.
	EndState  string `db:"end_state"`
	Concluded int    `db:"concluded"`
	Met       int    `db:"met"`
	// Stopped clocks stopped in the period; StoppedElapsedS is their business
	// time in seconds as the engine counted it, StoppedMet those not breached.
	Stopped         int   `db:"stopped"`
	StoppedMet      int   `db:"stopped_met"`
	StoppedElapsedS int64 `db:"stopped_elapsed_s"`
}

// ReportSLAs groups the SLA clocks of the definitions that concluded or
// stopped in p. categories gives, per definition (same index), the field that
// holds its fault category, "" for none.
func (s *Store) ReportSLAs(ctx context.Context, definitions, categories []string, p Period) ([]SLAGroup, error) {
	var out []SLAGroup
	err := s.reportSelect(ctx, "store.ReportSLAs", &out, `
		WITH clocks AS (
			SELECT process_id, name, breached, elapsed_s, stopped_at,
			       CASE WHEN breached THEN breached_at ELSE stopped_at END AS concluded_at
			FROM process_slas
			WHERE (stopped_at >= $3 AND stopped_at < $4) OR (breached_at >= $3 AND breached_at < $4))
		SELECT p.definition, c.name AS sla, p.priority, coalesce(p.assignment_group, '') AS assignment_group,
		       coalesce(p.view->'vars'->>src.field, p.view->'input'->>src.field, '') AS category,
		       CASE WHEN p.ended_at IS NULL THEN '' ELSE p.state END AS end_state,
		       count(*) FILTER (WHERE c.concluded_at >= $3 AND c.concluded_at < $4) AS concluded,
		       count(*) FILTER (WHERE c.concluded_at >= $3 AND c.concluded_at < $4 AND NOT c.breached) AS met,
		       count(*) FILTER (WHERE c.stopped_at >= $3 AND c.stopped_at < $4) AS stopped,
		       count(*) FILTER (WHERE c.stopped_at >= $3 AND c.stopped_at < $4 AND NOT c.breached) AS stopped_met,
		       coalesce(sum(c.elapsed_s) FILTER (WHERE c.stopped_at >= $3 AND c.stopped_at < $4), 0) AS stopped_elapsed_s
		FROM clocks c
		JOIN processes p ON p.id = c.process_id
		JOIN unnest($1::text[], $2::text[]) AS src(definition, field) ON src.definition = p.definition
		GROUP BY 1, 2, 3, 4, 5, 6
		ORDER BY 1, 2, 3, 4, 5, 6`, pq.StringArray(definitions), pq.StringArray(categories), p.From, p.To)
	return out, err
}

// OpenedGroup counts the processes of one definition, priority and fault
// category started in a period.
type OpenedGroup struct {
	Definition string `db:"definition"`
	Priority   string `db:"priority"`
	Category   string `db:"category"`
	Count      int    `db:"count"`
}

// ReportOpened counts the processes of the definitions started in p;
// categories as for ReportSLAs.
func (s *Store) ReportOpened(ctx context.Context, definitions, categories []string, p Period) ([]OpenedGroup, error) {
	var out []OpenedGroup
	err := s.reportSelect(ctx, "store.ReportOpened", &out, `
		SELECT p.definition, p.priority,
		       coalesce(p.view->'vars'->>src.field, p.view->'input'->>src.field, '') AS category, count(*) AS count
		FROM unnest($1::text[], $2::text[]) AS src(definition, field)
		JOIN processes p ON p.definition = src.definition AND p.started_at >= $3 AND p.started_at < $4
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, pq.StringArray(definitions), pq.StringArray(categories), p.From, p.To)
	return out, err
}

// EndedGroup counts the processes of a definition that ended in a period in
// State, entered from From (the state they left last).
type EndedGroup struct {
	Definition string `db:"definition"`
	State      string `db:"state"`
	From       string `db:"from_state"`
	Count      int    `db:"count"`
}

// ReportEnded counts the processes of the definitions that ended in p, by end
// state and, when withFrom, the state they ended from ("" otherwise: finding
// it reads each process's events, which only problems' solved rule needs).
func (s *Store) ReportEnded(ctx context.Context, definitions []string, p Period, withFrom bool) ([]EndedGroup, error) {
	var out []EndedGroup
	last := `''`
	if withFrom {
		last = `coalesce((SELECT e.from_state FROM events e
			WHERE e.process_id = p.id AND e.to_state = p.state AND e.from_state <> '' AND e.from_state <> e.to_state
			ORDER BY e.seq DESC LIMIT 1), '')`
	}
	err := s.reportSelect(ctx, "store.ReportEnded", &out, `
		SELECT p.definition, p.state, `+last+` AS from_state, count(*) AS count
		FROM processes p
		WHERE p.definition = ANY($1) AND p.ended_at >= $2 AND p.ended_at < $3
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
		pq.StringArray(definitions), p.From, p.To)
	return out, err
}

// BacklogBuckets are the ages of a process still open at a time, youngest
// first, as ReportBacklog names them. A new slice each call: no caller can
// change another's.
func BacklogBuckets() []string { return []string{"<1d", "1-3d", "3-7d", "7-30d", ">=30d"} }

// BacklogGroup counts the processes of a definition and priority open at a
// time whose age falls in Bucket (one of BacklogBuckets()).
type BacklogGroup struct {
	Definition string `db:"definition"`
	Priority   string `db:"priority"`
	Bucket     string `db:"bucket"`
	Count      int    `db:"count"`
}

// ReportBacklog counts the processes of the definitions that were open at
// (started before, not ended by then) by the age they had then. Age is wall
// time: a backlog is how long people have waited, whatever the calendar.
func (s *Store) ReportBacklog(ctx context.Context, definitions []string, at time.Time) ([]BacklogGroup, error) {
	var out []BacklogGroup
	err := s.reportSelect(ctx, "store.ReportBacklog", &out, `
		SELECT definition, priority, bucket, count(*) AS count FROM (
			SELECT p.definition, p.priority, CASE
				WHEN $2::timestamptz - p.started_at < interval '1 day' THEN '<1d'
				WHEN $2::timestamptz - p.started_at < interval '3 days' THEN '1-3d'
				WHEN $2::timestamptz - p.started_at < interval '7 days' THEN '3-7d'
				WHEN $2::timestamptz - p.started_at < interval '30 days' THEN '7-30d'
				ELSE '>=30d' END AS bucket
			FROM processes p
			WHERE p.definition = ANY($1) AND p.started_at < $2 AND (p.ended_at IS NULL OR p.ended_at >= $2)) open
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, pq.StringArray(definitions), at)
	return out, err
}

// LogEntry is one line of the daily log: a process opened, breached,
// escalated or closed.
type LogEntry struct {
	At         time.Time `db:"at"`
	Kind       string    `db:"kind"`
	Process    string    `db:"process_id"`
	Definition string    `db:"definition"`
	Priority   string    `db:"priority"`
	// Detail is the SLA breached or escalated, or the state a process ended in.
	Detail string `db:"detail"`
}

// Log kinds of the daily log.
const (
	LogOpened    = "opened"
	LogBreached  = "breached"
	LogEscalated = "escalated"
	LogClosed    = "closed"
)

// LogCount counts one kind of the daily log on one day (in the report's zone).
type LogCount struct {
	Day   time.Time `db:"day"`
	Kind  string    `db:"kind"`
	Count int       `db:"count"`
}

const logEvents = `
	SELECT e.at, CASE e.type WHEN 'process_started' THEN 'opened' WHEN 'sla_breached' THEN 'breached'
	                        WHEN 'escalation' THEN 'escalated' ELSE 'closed' END AS kind,
	       e.process_id, p.definition, p.priority,
	       CASE e.type WHEN 'process_ended' THEN e.to_state ELSE e.sla END AS detail
	FROM events e JOIN processes p ON p.id = e.process_id
	WHERE e.at >= $1 AND e.at < $2 AND e.type IN ('process_started', 'sla_breached', 'escalation', 'process_ended')`

// ReportLog returns the daily log of p: the counts per day of zone and kind,
// and the first limit entries in time order (a month of a large site holds
// more than a page can show; the counts are complete). The counts read the
// events alone: joining every event of a year to its process for nothing
// took half of the report's time at 100,000 processes.
func (s *Store) ReportLog(ctx context.Context, p Period, zone string, limit int) ([]LogCount, []LogEntry, error) {
	var counts []LogCount
	if err := s.reportSelect(ctx, "store.ReportLog", &counts, `
		SELECT (at AT TIME ZONE $3)::date::timestamp AS day, CASE type WHEN 'process_started' THEN 'opened'
		       WHEN 'sla_breached' THEN 'breached' WHEN 'escalation' THEN 'escalated' ELSE 'closed' END AS kind, count(*) AS count
		FROM events
		WHERE at >= $1 AND at < $2 AND type IN ('process_started', 'sla_breached', 'escalation', 'process_ended')
		GROUP BY 1, 2 ORDER BY 1, 2`, p.From, p.To, zone); err != nil {
		return nil, nil, err
	}
	var entries []LogEntry
	if err := s.reportSelect(ctx, "store.ReportLog", &entries, logEvents+` ORDER BY e.at, e.process_id, e.seq LIMIT $3`, p.From, p.To, limit); err != nil {
		return nil, nil, err
	}
	return counts, entries, nil
}

// DueReport is a report a process owed from DueAt, delivered at DeliveredAt
// (nil: not yet).
type DueReport struct {
	Process     string     `db:"process_id"`
	DueAt       time.Time  `db:"due_at"`
	DeliveredAt *time.Time `db:"delivered_at"`
}

// ReportDue lists the reports that processes of definition came to owe in p
// by entering state, with the first time the action delivered each.
func (s *Store) ReportDue(ctx context.Context, definition, state, action string, p Period) ([]DueReport, error) {
	var out []DueReport
	err := s.reportSelect(ctx, "store.ReportDue", &out, `
		SELECT e.process_id, e.at AS due_at,
		       (SELECT min(d.at) FROM events d WHERE d.process_id = e.process_id AND d.seq > e.seq
		          AND d.type = 'action' AND d.action = $3) AS delivered_at
		FROM events e JOIN processes p ON p.id = e.process_id
		WHERE p.definition = $1 AND e.to_state = $2 AND e.from_state <> $2 AND e.type <> 'process_ended'
		  AND e.at >= $4 AND e.at < $5
		ORDER BY e.at, e.process_id`, definition, state, action, p.From, p.To)
	return out, err
}

// DecisionTimes summarises, per definition and over all (Definition ""), the
// business time of the clocks named sla that stopped in a period.
type DecisionTimes struct {
	Definition string  `db:"definition"`
	Count      int     `db:"count"`
	MedianS    float64 `db:"median_s"`
}

// ReportDecisionTimes gives the median elapsed business time of the SLA
// clocks sla of the definitions that stopped in p. A period without any has
// no rows (the grand total of nothing would have no median).
func (s *Store) ReportDecisionTimes(ctx context.Context, definitions []string, sla string, p Period) ([]DecisionTimes, error) {
	var out []DecisionTimes
	err := s.reportSelect(ctx, "store.ReportDecisionTimes", &out, `
		SELECT coalesce(p.definition, '') AS definition, count(*) AS count,
		       percentile_cont(0.5) WITHIN GROUP (ORDER BY s.elapsed_s) AS median_s
		FROM process_slas s JOIN processes p ON p.id = s.process_id
		WHERE s.name = $2 AND p.definition = ANY($1) AND s.stopped_at >= $3 AND s.stopped_at < $4
		GROUP BY GROUPING SETS ((p.definition), ()) HAVING count(*) > 0 ORDER BY 1`, pq.StringArray(definitions), sla, p.From, p.To)
	return out, err
}

// Meeting is a board meeting held (its process entered the meeting state) in
// a period, with the agenda items it decided in that period.
type Meeting struct {
	Process string    `db:"process_id"`
	HeldAt  time.Time `db:"held_at"`
	Decided int       `db:"decided"`
}

// ReportMeetings lists the meetings of the board definition held in p: each
// entry into state meeting, with the agenda items decided before the process
// left it.
func (s *Store) ReportMeetings(ctx context.Context, definition, meeting string, p Period) ([]Meeting, error) {
	var out []Meeting
	err := s.reportSelect(ctx, "store.ReportMeetings", &out, `
		SELECT e.process_id, e.at AS held_at,
		       (SELECT count(*) FROM events d WHERE d.process_id = e.process_id AND d.seq > e.seq
		          AND d.type = 'approval_decided' AND d.data ? 'item'
		          AND d.seq < coalesce((SELECT min(l.seq) FROM events l WHERE l.process_id = e.process_id AND l.seq > e.seq
		                                 AND l.from_state = $2 AND l.to_state <> $2 AND l.to_state <> ''), 9223372036854775807)) AS decided
		FROM events e JOIN processes p ON p.id = e.process_id
		WHERE p.definition = $1 AND e.to_state = $2 AND e.from_state <> $2 AND e.type <> 'process_ended'
		  AND e.at >= $3 AND e.at < $4
		ORDER BY e.at, e.process_id`, definition, meeting, p.From, p.To)
	return out, err
}

// CastVote is a vote cast in a period: by whom (the approver, for a vote a
// delegate cast for them), in which definition, when the vote opened (the
// process entered the state) and when it was cast.
type CastVote struct {
	Approver   string    `db:"approver"`
	Definition string    `db:"definition"`
	OpenedAt   time.Time `db:"opened_at"`
	VotedAt    time.Time `db:"voted_at"`
}

// ReportVotes lists the votes cast in p in processes of the definitions.
func (s *Store) ReportVotes(ctx context.Context, definitions []string, p Period) ([]CastVote, error) {
	var out []CastVote
	err := s.reportSelect(ctx, "store.ReportVotes", &out, `
		SELECT coalesce(e.data->>'on_behalf_of', e.actor) AS approver, p.definition, e.at AS voted_at,
		       coalesce((SELECT max(o.at) FROM events o WHERE o.process_id = e.process_id AND o.seq < e.seq
		                   AND o.to_state = e.from_state AND o.from_state <> o.to_state AND o.type <> 'process_ended'), p.started_at) AS opened_at
		FROM events e JOIN processes p ON p.id = e.process_id
		WHERE p.definition = ANY($1) AND e.type = $2 AND e.action IN ($3, $4) AND e.at >= $5 AND e.at < $6
		ORDER BY 1, e.at`, pq.StringArray(definitions), engine.EventAction, engine.ActionApprove, engine.ActionReject, p.From, p.To)
	return out, err
}

// Credit counts the processes a person is credited with: those of which they
// took the action first in a period, and of them those whose SLA clock was
// not breached.
type Credit struct {
	Actor  string `db:"actor"`
	Count  int    `db:"count"`
	OnTime int    `db:"on_time"`
}

// ReportCredits credits each person with the processes of definition whose
// action they took first, in p; on time when the clock sla was not breached.
func (s *Store) ReportCredits(ctx context.Context, definition, action, sla string, p Period) ([]Credit, error) {
	var out []Credit
	err := s.reportSelect(ctx, "store.ReportCredits", &out, `
		SELECT e.actor, count(*) AS count, count(*) FILTER (WHERE NOT coalesce(c.breached, false)) AS on_time
		FROM events e
		JOIN processes p ON p.id = e.process_id
		LEFT JOIN process_slas c ON c.process_id = e.process_id AND c.name = $3
		WHERE p.definition = $1 AND e.type = 'action' AND e.action = $2 AND e.at >= $4 AND e.at < $5
		  AND NOT EXISTS (SELECT 1 FROM events x WHERE x.process_id = e.process_id AND x.seq < e.seq
		                    AND x.type = 'action' AND x.action = $2)
		GROUP BY 1 ORDER BY 1`, definition, action, sla, p.From, p.To)
	return out, err
}

// Rating sums the satisfaction ratings of the processes credited to a person.
type Rating struct {
	Actor string  `db:"actor"`
	Count int     `db:"count"`
	Sum   float64 `db:"sum"`
}

// ReportRatings sums the ratings (field, a number) of the processes of
// definition that ended in p, credited to whoever took action first.
func (s *Store) ReportRatings(ctx context.Context, definition, action, field string, p Period) ([]Rating, error) {
	var out []Rating
	err := s.reportSelect(ctx, "store.ReportRatings", &out, `
		SELECT first.actor, count(*) AS count, sum((p.view->'vars'->>$3)::numeric) AS sum
		FROM processes p
		JOIN LATERAL (SELECT e.actor FROM events e WHERE e.process_id = p.id AND e.type = 'action' AND e.action = $2
		              ORDER BY e.seq LIMIT 1) first ON true
		WHERE p.definition = $1 AND p.ended_at >= $4 AND p.ended_at < $5
		  AND p.view->'vars'->>$3 ~ '^[0-9]+(\.[0-9]+)?$'
		GROUP BY 1 ORDER BY 1`, definition, action, field, p.From, p.To)
	return out, err
}
