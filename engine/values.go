package engine

import (
	"encoding/json"
	"sort"
)

// sortedKeys returns the keys of m in order: map iteration order is random, and
// workflow code must do the same thing on every replay.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonValue returns v as it reads back from JSON, for comparing values that may
// or may not have been through a JSON round trip.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}
