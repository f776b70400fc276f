// Package activities holds every side effect of a process workflow: writing the
// PostgreSQL projection of an instance (state, SLA clocks, events, notifications),
// calling webhooks and starting the processes that start steps ask for.
// Activities are retried by Temporal, so each one is idempotent: the projection
// skips what it already stored, a webhook carries an Idempotency-Key, and a start
// step gets the same process id on every attempt.
package activities
