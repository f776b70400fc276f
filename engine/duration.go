package engine

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Duration is a span of (business) time written the way process owners write it:
// "90s", "15m", "4h", "3d", "1w", or combinations such as "1h30m". A day is 24 hours
// of calendar time; business calendars decide which of those hours count.
type Duration time.Duration

var durationUnits = map[byte]time.Duration{
	's': time.Second,
	'm': time.Minute,
	'h': time.Hour,
	'd': 24 * time.Hour,
	'w': 7 * 24 * time.Hour,
}

// ParseDuration parses a duration such as "90s", "4h", "3d" or "1h30m". It accepts
// only whole numbers and the units s, m, h, d and w, and rejects zero and negative
// durations: a deadline of zero would fire before anyone could act. Working days
// (wd) need a calendar: only a definition's durations may use them (workingDays).
func ParseDuration(s string) (Duration, error) {
	parts, err := durationParts(s)
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, p := range parts {
		if p.unit == "wd" {
			return 0, fmt.Errorf("invalid duration %q: working days (wd) count in a process's calendar; write hours here", s)
		}
		if total, err = p.addTo(s, total, durationUnits[p.unit[0]]); err != nil {
			return 0, err
		}
	}
	return positive(s, total)
}

// durationPart is one whole number and its unit in a written duration.
type durationPart struct {
	n    int64
	unit string // s, m, h, d, w or wd
}

// durationParts splits a written duration into its numbers and units.
func durationParts(s string) ([]durationPart, error) {
	if s == "" {
		return nil, fmt.Errorf("empty duration")
	}
	var parts []durationPart
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			return nil, fmt.Errorf("invalid duration %q: want a whole number followed by a unit s, m, h, d, w or wd, as in 90s, 15m, 4h, 3d, 2wd", s)
		}
		unit := rest[i : i+1]
		if strings.HasPrefix(rest[i:], "wd") {
			unit = "wd"
		} else if _, ok := durationUnits[rest[i]]; !ok {
			return nil, fmt.Errorf("invalid duration %q: unknown unit %q (use s, m, h, d, w or wd)", s, rest[i:i+1])
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid duration %q: number too large", s)
		}
		parts = append(parts, durationPart{n: n, unit: unit})
		rest = rest[i+len(unit):]
	}
	return parts, nil
}

// addTo adds p, each of its units size long, to total, refusing overflow.
func (p durationPart) addTo(s string, total, size time.Duration) (time.Duration, error) {
	if p.n > (int64(1<<62)-int64(total))/int64(size) {
		return 0, fmt.Errorf("invalid duration %q: number too large", s)
	}
	return total + time.Duration(p.n)*size, nil
}

func positive(s string, total time.Duration) (Duration, error) {
	if total <= 0 {
		return 0, fmt.Errorf("invalid duration %q: must be greater than zero", s)
	}
	return Duration(total), nil
}

// String formats d in the units process owners use, largest first ("1d4h").
func (d Duration) String() string {
	if d <= 0 {
		return time.Duration(d).String()
	}
	var b strings.Builder
	rest := time.Duration(d)
	for _, u := range []struct {
		sym  string
		size time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if n := rest / u.size; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.sym)
			rest -= n * u.size
		}
	}
	if rest > 0 {
		b.WriteString(rest.String())
	}
	return b.String()
}

// MarshalJSON writes the readable form, so snapshots in workflow histories and API
// responses say "4h" rather than 14400000000000.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads the readable form, and a bare number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return err
		}
		*d = Duration(n)
		return nil
	}
	td, err := time.ParseDuration(s)
	if err != nil {
		p, perr := parseWritten(s)
		if perr != nil {
			return perr
		}
		td = time.Duration(p)
	}
	*d = Duration(td)
	return nil
}

// subSecondRe matches the part String writes after the whole seconds, such as
// "999ms" or "1.000001ms".
var subSecondRe = regexp.MustCompile(`^(.*?)([0-9]+(?:\.[0-9]+)?(?:ms|µs|us|ns))$`)

// parseWritten reads back what String writes: whole units ("2d8h"), optionally
// followed by a sub-second part in Go's notation ("2d8h59m59s999ms"), which
// clocks that count real instants have.
func parseWritten(s string) (Duration, error) {
	m := subSecondRe.FindStringSubmatch(s)
	if m == nil {
		return ParseDuration(s)
	}
	frac, err := time.ParseDuration(m[2])
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: %w", s, err)
	}
	if m[1] == "" {
		return Duration(frac), nil
	}
	whole, err := ParseDuration(m[1])
	if err != nil {
		return 0, err
	}
	return whole + Duration(frac), nil
}
