package store

import (
	"fmt"
	"strings"

	"github.com/itilflow/itilflow/engine"
)

// The rules for the names of users, groups and roles, wherever they come from:
// the directory (SaveUser, SaveGroup) and the claims of a JWT (the API checks
// them with CheckID and CheckRole).
//
// Ids are compared byte for byte everywhere — by the directory, the engine's
// role and approver checks, workflow histories and the audit chain — and are
// never case-folded or otherwise normalised: OpenID Connect makes the subject
// (sub) case-sensitive, so folding could merge two people, and an id recorded
// in a history or in the audit chain cannot be rewritten afterwards. What
// folding would guard against is confusion, and the rules below rule it out
// instead: an id is printable ASCII (OpenID Connect limits sub to 255 ASCII
// characters), so it holds no invisible, control or look-alike characters,
// and no case variant of the engine's reserved id is accepted.

// maxNameBytes is OpenID Connect's limit on a subject.
const maxNameBytes = 255

// CheckID says why id cannot name a user or a group, or returns nil. An id is 1
// to 255 printable ASCII characters without spaces, and is not the process
// engine's reserved id in any case ("system", "System", "SYSTEM").
func CheckID(id string) error {
	if err := checkName(id, "id"); err != nil {
		return err
	}
	if Reserved(id) {
		return fmt.Errorf("%q is reserved for the process engine", id)
	}
	return nil
}

// Reserved reports whether id is the process engine's own id or a case variant
// of it, which no caller may hold: the engine acts without role checks.
func Reserved(id string) bool { return strings.EqualFold(id, engine.System.ID) }

// CheckRole says why role cannot name a role, or returns nil. A role is 1 to 255
// printable ASCII characters without spaces or commas (lists of roles are
// written with commas).
func CheckRole(role string) error {
	if err := checkName(role, "role"); err != nil {
		return err
	}
	if strings.Contains(role, ",") {
		return fmt.Errorf("%q is not a valid role: it must not contain commas", role)
	}
	return nil
}

func checkName(s, what string) error {
	if s == "" || len(s) > maxNameBytes {
		return fmt.Errorf("%q is not a valid %s: it must have 1 to %d characters", s, what, maxNameBytes)
	}
	for _, r := range s {
		if r <= ' ' || r > '~' {
			return fmt.Errorf("%q is not a valid %s: use printable ASCII characters without spaces, not %U", s, what, r)
		}
	}
	return nil
}

// checkID is CheckID as the detail of an EINVALID error about field.
func checkID(id, field string) *engine.Detail {
	if err := CheckID(id); err != nil {
		return &engine.Detail{Field: field, Message: err.Error()}
	}
	return nil
}
