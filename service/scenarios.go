package service

import (
	"context"

	"github.com/itilflow/itilflow/engine"
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
