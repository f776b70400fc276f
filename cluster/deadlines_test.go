package cluster

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// fastIncident is the shipped incident definition with its response and
// resolution targets shortened so that they fall due during the test: the
// first while no worker runs, the second after a new one started.
func fastIncident(t *testing.T, source string, response, resolution time.Duration) string {
	t.Helper()
	out := source
	for old, repl := range map[string]string{
		"targets: {P1: 30m, P2: 30m, P3: 2h, P4: 4h}": "targets: {P1: %[1]v, P2: %[1]v, P3: %[1]v, P4: %[1]v}",
		"targets: {P1: 2h, P2: 4h, P3: 1d, P4: 3d}":   "targets: {P1: %[2]v, P2: %[2]v, P3: %[2]v, P4: %[2]v}",
	} {
		if !strings.Contains(out, old) {
			t.Fatalf("incident.yaml no longer contains %q: update fastIncident", old)
		}
		repl = strings.ReplaceAll(repl, "%[1]v", seconds(response))
		repl = strings.ReplaceAll(repl, "%[2]v", seconds(resolution))
		out = strings.Replace(out, old, repl, 1)
	}
	return out
}

// seconds writes d as the definition language does, such as 20s.
func seconds(d time.Duration) string { return fmt.Sprintf("%ds", int(d.Seconds())) }

// slaOf returns the process's SLA view by name, or nil.
func slaOf(p map[string]any, name string) map[string]any {
	slas, _ := p["slas"].([]any)
	for _, s := range slas {
		if m := s.(map[string]any); m["name"] == name {
			return m
		}
	}
	return nil
}

// dueOf returns when the process's SLA falls due, failing without one.
func dueOf(t *testing.T, p map[string]any, name string) string {
	t.Helper()
	sla := slaOf(p, name)
	due, _ := sla["due"].(string)
	if due == "" {
		t.Fatalf("%v: SLA %s has no due time: %v", p["id"], name, p["slas"])
	}
	return due
}

// breachedAtDue checks that the process's SLA breached once, recorded at the
// time it fell due however late a worker got to it.
func breachedAtDue(t *testing.T, p map[string]any, name, due string) {
	t.Helper()
	sla := slaOf(p, name)
	if sla["breached"] != true || sla["breached_at"] != due {
		t.Errorf("%v: SLA %s: breached %v at %v, want breached at its due time %s", p["id"], name, sla["breached"], sla["breached_at"], due)
	}
	n := 0
	for _, e := range eventsOf(p, "sla_breached") {
		if e["sla"] == name {
			n++
			// Events are kept in PostgreSQL, rounded to the microsecond.
			at, err1 := time.Parse(time.RFC3339Nano, fmt.Sprint(e["at"]))
			dueAt, err2 := time.Parse(time.RFC3339Nano, due)
			if err1 != nil || err2 != nil || at.Sub(dueAt).Abs() > time.Microsecond/2 {
				t.Errorf("%v: the sla_breached event of %s is at %v, want %s", p["id"], name, e["at"], due)
			}
		}
	}
	if n != 1 {
		t.Errorf("%v: %d sla_breached events for %s, want 1", p["id"], n, name)
	}
}

// metInTime checks that the process's SLA stopped before its due time and
// never breached.
func metInTime(t *testing.T, p map[string]any, name, due string) {
	t.Helper()
	sla := slaOf(p, name)
	stopped, _ := sla["stopped_at"].(string)
	stoppedAt, err1 := time.Parse(time.RFC3339Nano, stopped)
	dueAt, err2 := time.Parse(time.RFC3339Nano, due)
	if sla["breached"] != false || sla["status"] != "stopped" || err1 != nil || err2 != nil || !stoppedAt.Before(dueAt) {
		t.Errorf("%v: SLA %s: status %v, stopped at %v, breached %v; want stopped before %s, not breached", p["id"], name, sla["status"], stopped, sla["breached"], due)
	}
	for _, e := range eventsOf(p, "sla_breached") {
		if e["sla"] == name {
			t.Errorf("%v: SLA %s met in time has a breach event %v", p["id"], name, e)
		}
	}
}
