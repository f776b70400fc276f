// Package engine is itilflow's process language and its semantics: it parses and
// validates process definitions written in YAML (every problem with line and column),
// validates process and action input, does SLA clock arithmetic over business
// calendars, and runs a process instance as a pure state machine.
//
// The package does no I/O and never reads the wall clock: every operation that
// depends on time takes it as an argument. The Temporal workflow that runs an
// instance is a thin shell around Instance, so what the engine decides is exactly
// what a replayed history decides.
package engine
