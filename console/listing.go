package console

import (
	"errors"
	"strings"

	"github.com/itilflow/itilflow/engine"
)

// sourceLine is one line of a definition's text as a page shows it,
// numbered, and flagged when a problem was found on it.
type sourceLine struct {
	N       int
	Text    string
	Flagged bool
}

// numbered splits a definition's text into its lines, flagging those the
// problems point at. A final newline ends the last line; it starts none.
func numbered(src string, problems []problem) []sourceLine {
	flagged := map[int]bool{}
	for _, p := range problems {
		flagged[p.Line] = true
	}
	texts := strings.Split(strings.TrimSuffix(src, "\n"), "\n")
	out := make([]sourceLine, len(texts))
	for i, t := range texts {
		out[i] = sourceLine{N: i + 1, Text: t, Flagged: flagged[i+1]}
	}
	return out
}

// problem is one problem a check found in a definition: where (line 0 when
// it is about the whole text) and what.
type problem struct {
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Text   string `json:"text"`
}

// problemsOf lists the problems of a refused definition: each detail of the
// error at its place, or the error's message when it has none.
func problemsOf(err error) []problem {
	var e *engine.Error
	if !errors.As(err, &e) {
		return []problem{{Text: err.Error()}}
	}
	if len(e.Details) == 0 {
		return []problem{{Text: e.Message}}
	}
	out := make([]problem, len(e.Details))
	for i, d := range e.Details {
		text := d.Message
		if d.Field != "" {
			text = d.Field + ": " + text
		}
		out[i] = problem{Line: d.Line, Column: d.Column, Text: text}
	}
	return out
}

// diffLine is one line of a unified diff, with its kind for its colour:
// file (the headers), hunk (@@ … @@), add, del, or "" for context.
type diffLine struct {
	Kind, Text string
}

// diffLines splits a unified diff into its lines, each with its kind. The
// diff starts with its two file headers.
func diffLines(unified string) []diffLine {
	if unified == "" {
		return nil
	}
	texts := strings.Split(strings.TrimSuffix(unified, "\n"), "\n")
	out := make([]diffLine, len(texts))
	for i, t := range texts {
		kind := ""
		switch {
		case i < 2 && (strings.HasPrefix(t, "--- ") || strings.HasPrefix(t, "+++ ")):
			kind = "file" // only the first two lines: a removed "-- x" reads "--- x" too
		case strings.HasPrefix(t, "@@"):
			kind = "hunk"
		case strings.HasPrefix(t, "+"):
			kind = "add"
		case strings.HasPrefix(t, "-"):
			kind = "del"
		}
		out[i] = diffLine{Kind: kind, Text: t}
	}
	return out
}
