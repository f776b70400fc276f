package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/gate"
	"github.com/itilflow/itilflow/store"
	"github.com/itilflow/itilflow/workflows"
)

// updateTimeout bounds how long a request waits for the workflow to decide; the
// workflow itself answers within its sync wait, so this only fires when Temporal
// or the worker is down.
const updateTimeout = 30 * time.Second

// maxIdempotencyKey keeps keys within what Temporal accepts as an update id
// and what a person would call a key.
const maxIdempotencyKey = 200

// StartRequest asks for a new process of the latest version of a definition.
type StartRequest struct {
	Definition string
	Input      map[string]any
	// IdempotencyKey, when set, makes a retry by the same caller return the
	// process the first request started instead of starting another.
	IdempotencyKey string
}

// Start starts a process. The input is checked here first (the gate, then the
// definition's schema), so bad input starts nothing. replay reports a retry
// answered with the process an earlier request with the same key started.
func (s *Service) Start(ctx context.Context, caller Caller, req StartRequest) (p Process, replay bool, err error) {
	if err := idempotencyKey(req.IdempotencyKey); err != nil {
		return Process{}, false, err
	}
	d, err := s.store.Definition(ctx, req.Definition, 0)
	if err != nil {
		return Process{}, false, err
	}
	if err := s.store.CheckStartable(ctx, d); err != nil {
		return Process{}, false, err // retired: no new starts
	}
	in, err := input(d.Compiled.Input, req.Input)
	if err != nil {
		return Process{}, false, err
	}
	in, err = engine.ValidateInput(d.Compiled.Input, in, "input")
	if err != nil {
		return Process{}, false, err
	}
	if err := s.checkRefs(ctx, caller, d.Compiled.Input, in, "input"); err != nil {
		return Process{}, false, err
	}
	var id string
	if req.IdempotencyKey == "" {
		id, err = s.store.NextProcessID(ctx, d.Name)
	} else {
		id, replay, err = s.store.ReserveStart(ctx, store.StartRequest{Caller: caller.ID, Key: req.IdempotencyKey,
			Definition: d.Name, BodyDigest: digest(in)})
	}
	if err != nil {
		return Process{}, false, err
	}
	win := workflows.Input{ID: id, Definition: d.Compiled, Version: d.Version, Input: in, Actor: caller.Actor, Hash: d.Hash, RequestID: caller.RequestID}
	// A retry of a keyed start finds the process its first request started
	// (StartOptions' conflict policy).
	start := s.temporal.NewWithStartWorkflowOperation(workflows.StartOptions(&win), workflows.ProcessType, win)
	uctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	handle, err := s.temporal.UpdateWithStartWorkflow(uctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			WorkflowID:   id,
			UpdateName:   workflows.UpdateSync,
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return Process{}, false, temporalError("service.Start", err)
	}
	var res workflows.Result
	if err := handle.Get(uctx, &res); err != nil {
		return Process{}, false, temporalError("service.Start", err)
	}
	v, err := s.after(ctx, id, res)
	if err != nil {
		return Process{}, false, err
	}
	if v.Definition != d.Name || v.Version != d.Version {
		// A replay whose process was started from another version.
		other, err := s.store.Definition(ctx, v.Definition, v.Version)
		if err != nil {
			return Process{}, false, err
		}
		d = other
	}
	return process(v, &d.Compiled, caller, nil), replay, nil
}

// idempotencyKey checks an Idempotency-Key header's value.
func idempotencyKey(key string) error {
	if len(key) > maxIdempotencyKey {
		return &engine.Error{Code: engine.EBADREQUEST, Message: "Idempotency-Key too long",
			Details: []engine.Detail{{Field: "Idempotency-Key", Message: fmt.Sprintf("at most %d bytes", maxIdempotencyKey)}}}
	}
	return gate.Param("Idempotency-Key", key)
}

// digest identifies what a request asked for: the same input gives the same
// digest (JSON encodes map keys in order).
func digest(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
