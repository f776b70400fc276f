package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/store"
)

// StartInput is a start step of a process: start Process with Input, linked to
// the process Parent (of definition ParentDefinition) whose effect Effect asked.
type StartInput struct {
	Parent           string         `json:"parent"`
	ParentDefinition string         `json:"parent_definition"`
	Effect           int64          `json:"effect"`
	Process          string         `json:"process"`
	Input            map[string]any `json:"input,omitempty"`
	// Once, when set, names the process across processes (a start step's
	// once): every start giving it starts the same one.
	Once string `json:"once,omitempty"`
}

// Key names the step; every attempt of it starts the same process. A step
// with once is named by it and the process it starts, so the steps of two
// processes giving the same once start one.
func (in StartInput) Key() string {
	if in.Once != "" {
		return fmt.Sprintf("once/%s/%s", in.Process, in.Once)
	}
	return fmt.Sprintf("%s/%d", in.Parent, in.Effect)
}

// Processes is what StartProcess needs from the store.
type Processes interface {
	// Definition returns a published definition; version 0 is the latest.
	Definition(ctx context.Context, name string, version int) (store.Definition, error)
	// StartID returns the process id allocated for key, allocating it once.
	StartID(ctx context.Context, key, definition string) (string, error)
}

// Launch is a process to start, resolved: its id, the published definition and
// validated input, and the process that started it.
type Launch struct {
	ID               string
	Definition       engine.Definition
	Version          int
	Hash             string
	Input            map[string]any
	Parent           string
	ParentDefinition string
}

// Starter starts process workflows. workflows.ClientStarter implements it with a
// Temporal client. Start must be idempotent: starting an id already started,
// running or ended, succeeds and starts nothing.
type Starter interface {
	Start(ctx context.Context, l Launch) error
}

// Error types of start failures that are not worth retrying.
const (
	ErrUnknownProcess = "unknown_process"
	ErrInvalidInput   = "invalid_input"
)

// StartProcess starts the latest published version of the named process for a
// start step and returns its id. An unknown process or input it does not accept
// fails at once; anything else (the database, Temporal) is retried.
func (a *Activities) StartProcess(ctx context.Context, in StartInput) (string, error) {
	if a.Processes == nil || a.Starter == nil {
		return "", temporal.NewNonRetryableApplicationError("the worker cannot start processes: no store or starter", ErrNotConfigured, nil)
	}
	d, err := a.Processes.Definition(ctx, in.Process, 0)
	if engine.ErrorCode(err) == engine.ENOTFOUND {
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf("no published process %q", in.Process), ErrUnknownProcess, nil)
	}
	if err != nil {
		return "", err
	}
	input, err := engine.ValidateInput(d.Compiled.Input, in.Input, "input")
	if err != nil {
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s does not accept the input: %s", in.Process, problems(err)), ErrInvalidInput, nil)
	}
	id, err := a.Processes.StartID(ctx, in.Key(), d.Name)
	if err != nil {
		return "", err
	}
	err = a.Starter.Start(ctx, Launch{ID: id, Definition: d.Compiled, Version: d.Version, Hash: d.Hash, Input: input,
		Parent: in.Parent, ParentDefinition: in.ParentDefinition})
	if err != nil {
		return "", err
	}
	return id, nil
}

// problems lists an engine error's details, or its message.
func problems(err error) string {
	var e *engine.Error
	if !errors.As(err, &e) || len(e.Details) == 0 {
		return err.Error()
	}
	out := make([]string, len(e.Details))
	for i, d := range e.Details {
		out[i] = d.String()
	}
	return strings.Join(out, "; ")
}
