package main

import (
	"context"
	"errors"
)

// startUI would serve the Temporal UI; see the README for pointing a UI at the
// embedded server instead.
func startUI(ctx context.Context, temporalAddr string, port int) (string, error) {
	return "", errors.New("the Temporal UI is not built into this binary")
}
