package engine

import (
	"fmt"
	"sync"
)

// Shared holds the compiled expressions of definitions by content, for a
// worker: every workflow gets its definition decoded from its own input, and
// would compile and keep its own CEL environments and programs (about 50 KB
// for a normal change) — ten thousand cached workflows of one published
// version would hold ten thousand copies. Definitions of the same content
// share one set. It is safe for concurrent use; CEL environments and
// programs are.
type Shared struct {
	mu    sync.Mutex
	exprs map[string]*exprCache
}

// NewShared returns an empty set.
func NewShared() *Shared { return &Shared{exprs: map[string]*exprCache{}} }

// Share gives d the expressions of the definitions shared under hash (the
// content hash of its text, store.SourceHash) and its level. Without a hash,
// d keeps its own.
func (s *Shared) Share(d *Definition, hash string) {
	if s == nil || hash == "" {
		return
	}
	key := fmt.Sprintf("%s@%d", hash, d.Level)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.exprs[key]
	if !ok {
		c = d.exprs()
		s.exprs[key] = c
	}
	d.cache = c
}
