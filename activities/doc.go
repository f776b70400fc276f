// Package activities holds every side effect of a process workflow: writing the
// PostgreSQL projection of an instance (state, SLA clocks, events, notifications).
// Activities are retried by Temporal until they succeed, so a database outage delays
// the projection but loses nothing; each write is idempotent.
package activities
