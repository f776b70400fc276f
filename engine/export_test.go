package engine

// SameExprs reports whether two definitions share their compiled expressions.
func SameExprs(a, b *Definition) bool { return a.exprs() == b.exprs() }
