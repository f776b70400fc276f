package service

import (
	"context"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/history"
	"github.com/itilflow/itilflow/scenario"
)

// maxScenarios bounds the scenario tests a person may run against a draft.
const maxScenarios = 256 << 10

// RunScenarios runs scenario tests (the YAML of a *.test.yaml file) against
// a draft, in the time-skipping test environment, before it is published:
// EINVALID with each problem when the draft does not compile or the tests do
// not parse, else each test's result. It is heavy work, in a slot of s.heavy.
func (s *Service) RunScenarios(ctx context.Context, caller Caller, d Draft, tests []byte) ([]scenario.Result, error) {
	const op = "service.RunScenarios"
	if err := MayCheckDefinitions(caller); err != nil {
		return nil, err
	}
	if len(tests) > maxScenarios {
		return nil, &engine.Error{Code: engine.EINVALID, Op: op, Message: "scenarios too long",
			Details: []engine.Detail{{Field: "scenarios", Message: "at most 256 KiB"}}}
	}
	def, err := s.check(ctx, d)
	if err != nil {
		return nil, err
	}
	f, err := scenario.Parse("scenarios", tests)
	if err != nil {
		return nil, &engine.Error{Code: engine.EINVALID, Op: op, Message: "the scenarios do not parse",
			Details: []engine.Detail{{Field: "scenarios", Message: err.Error()}}}
	}
	return bounded(ctx, s.heavy, "scenarios too long to run", func() ([]scenario.Result, error) {
		return f.Run(def), nil
	})
}

// whatIfLimit bounds the processes a what-if replays: each is a history read
// from Temporal.
const whatIfLimit = 500

// WhatIf replays the processes of the draft's definition started in the
// last days days under the draft, up to now, and says which would have gone
// differently and how SLA breaches would change (at most whatIfLimit
// processes). EINVALID when the draft does not compile or days
// is not 1 to 366.
func (s *Service) WhatIf(ctx context.Context, caller Caller, d Draft, days int) (history.Comparison, error) {
	if err := MayCheckDefinitions(caller); err != nil {
		return history.Comparison{}, err
	}
	if days < 1 || days > 366 {
		return history.Comparison{}, &engine.Error{Code: engine.EINVALID, Op: "service.WhatIf", Message: "bad period",
			Details: []engine.Detail{{Field: "days", Message: "a whole number of days from 1 to 366"}}}
	}
	def, err := s.check(ctx, d)
	if err != nil {
		return history.Comparison{}, err
	}
	now := time.Now()
	cmp, err := history.Compare(ctx, s.temporal, def, now.AddDate(0, 0, -days), now, whatIfLimit)
	if err != nil {
		return history.Comparison{}, temporalError("service.WhatIf", err)
	}
	return cmp, nil
}
