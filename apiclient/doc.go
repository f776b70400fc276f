// Package apiclient is a typed Go client of itilflow's HTTP API, generated
// from the OpenAPI document (api/openapi.yaml) by oapi-codegen, so that it
// can never describe a request or an answer the document does not: a change
// to the document is a regeneration away, and apiclient_test.go fails until
// the generated code is committed with it.
//
// Create a client with NewClientWithResponses(base, WithRequestEditorFn(…))
// — the editor adds the bearer token — and call an operation by its
// operationId; each answer has the decoded body of every documented status
// (JSON201, JSON409, …). README.md, "Go client", shows a change raised and
// voted on.
package apiclient

// The generator runs by its version (not from go.mod): v2.8.2 needs an older
// kin-openapi than the one the tests validate with.
//
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config oapi-codegen.yaml ../api/openapi.yaml
