package engine

import "sort"

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
