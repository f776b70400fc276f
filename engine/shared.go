package engine

import (
	"crypto/sha256"
	"encoding/json"
	"sync"
)

// Shared holds one copy of each definition a worker runs, with its compiled
// expressions, by content: every workflow gets its definition decoded from
// its own input (about 20 KB for the incident) and would compile and keep
// its own CEL environments and programs (about 50 KB for a normal change) —
// ten thousand cached workflows of one published version would hold ten
// thousand copies of both. It is safe for concurrent use; a shared
// definition is never written again, and CEL environments and programs are
// safe to share.
type Shared struct {
	mu   sync.Mutex
	defs map[[sha256.Size]byte]*Definition
}

// NewShared returns an empty set.
func NewShared() *Shared { return &Shared{defs: map[[sha256.Size]byte]*Definition{}} }

// Definition returns the copy of d's content the set holds — d itself the
// first time — with its expression cache made. The key is the digest of the
// definition as compiled (its level included), not of its source text: two
// compilations of one text that differ in any way are kept apart. A nil set
// returns d.
func (s *Shared) Definition(d *Definition) *Definition {
	if s == nil {
		return d
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return d
	}
	key := sha256.Sum256(raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.defs[key]; ok {
		return c
	}
	d.exprs() // made under the lock: a shared definition is not written again
	s.defs[key] = d
	return d
}
