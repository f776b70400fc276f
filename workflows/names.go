// Package workflows holds the interpreter workflow that runs every process
// definition. The workflow is a deterministic shell around engine.Instance: it feeds
// it actions (workflow updates) and the time (one timer for the next wake-up), and
// hands its events to the projection activity.
package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// Names shared by the worker, the API and the workflow. They are part of the
// contract with running workflows and stored histories: never rename them.
const (
	TaskQueue    = "itilflow"
	ProcessType  = "itilflow.Process"
	UpdateAction = "action"
	UpdateSync   = "sync"
	// UpdateRelease delivers a meeting's decision (engine.Release) to the
	// process it decides; only the worker sends it.
	UpdateRelease = "release"
	// UpdateComment adds a work note (CommentRequest) to a running process.
	UpdateComment = "comment"
	QueryView     = "view"
	// SignalChildEnded tells a process that one it started has ended (ChildEnd).
	SignalChildEnded = "child_ended"
)

// Search attributes that let the Temporal UI filter processes.
var (
	AttrDefinition = temporal.NewSearchAttributeKeyKeyword("ItilDefinition")
	AttrState      = temporal.NewSearchAttributeKeyKeyword("ItilState")
	AttrPriority   = temporal.NewSearchAttributeKeyKeyword("ItilPriority")
)

// SearchAttributes lists the custom search attributes to register on the namespace.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		AttrDefinition.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrState.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrPriority.GetName():   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
}
