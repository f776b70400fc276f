package engine

import (
	"fmt"
	"strings"
)

// yamlErrorDetails explains a YAML syntax error. yaml.v3 reports where it
// noticed the error, often the start of the block several lines above the
// line at fault, and says nothing of indentation, the usual cause in
// hand-written definitions; so the text is also checked for a line indented
// out of step with the lines around it, and that line is named first.
func yamlErrorDetails(src []byte, err error) []Detail {
	parsed := yamlErrorDetail(err)
	// The line at fault is at or after where the parser noticed, or just before.
	var near *Detail
	for _, d := range misindented(string(src)) {
		if d.Line >= parsed.Line-2 && d.Line <= parsed.Line+10 {
			near = &d
			break
		}
	}
	if near == nil {
		return []Detail{parsed}
	}
	parsed.Message += fmt.Sprintf(" (probably the indentation of line %d)", near.Line)
	return []Detail{*near, parsed}
}

// misindented finds the lines whose indentation is out of step: a tab in it,
// more indented than the line above when that line opens no block, or less
// indented than it at a depth no enclosing block has. Lines inside block
// scalars (| and >) and inside flow collections spanning lines are skipped.
func misindented(src string) []Detail {
	var out []Detail
	levels := []int{0} // indentation of the enclosing blocks, innermost last
	opens := false     // the last line ends with ":" and may start a block
	scalarAt := -1     // a block scalar's key indentation, while in one
	depth := 0         // open brackets of a flow collection spanning lines
	lastLine, lastIndent := 0, 0
	for i, line := range strings.Split(src, "\n") {
		n := len(line) - len(strings.TrimLeft(line, " "))
		content := strings.TrimSpace(stripComment(line))
		if strings.HasPrefix(strings.TrimLeft(line, " "), "\t") {
			out = append(out, Detail{Line: i + 1, Column: n + 1, Message: fmt.Sprintf("line %d is indented with a tab: YAML indents with spaces only", i+1)})
			continue
		}
		if content == "" || strings.HasPrefix(content, "---") {
			continue
		}
		if scalarAt >= 0 {
			if n > scalarAt {
				continue
			}
			scalarAt = -1
		}
		if depth > 0 {
			depth += brackets(content)
			continue
		}
		top := levels[len(levels)-1]
		switch {
		case n > top && !opens:
			out = append(out, Detail{Line: i + 1, Column: n + 1, Message: fmt.Sprintf(
				"line %d is indented %d spaces, more than line %d above it (%d), which does not open a block: check the indentation", i+1, n, lastLine, lastIndent)})
			levels = append(levels, n)
		case n > top:
			levels = append(levels, n)
		case n < top:
			for len(levels) > 1 && levels[len(levels)-1] > n {
				levels = levels[:len(levels)-1]
			}
			if levels[len(levels)-1] != n {
				out = append(out, Detail{Line: i + 1, Column: n + 1, Message: fmt.Sprintf(
					"line %d is indented %d spaces, which lines up with no block above it (line %d is at %d): check the indentation of both", i+1, n, lastLine, lastIndent)})
				levels = append(levels, n)
			}
		}
		lastLine, lastIndent = i+1, n
		// A sequence item's content is a block of its own, at the item's text.
		item, at := content, n
		for strings.HasPrefix(item, "- ") {
			rest := strings.TrimLeft(item[2:], " ")
			at += len(item) - len(rest)
			levels = append(levels, at)
			item = rest
		}
		if levels[len(levels)-1] > n && !strings.Contains(item, ":") {
			levels = levels[:len(levels)-1] // "- value": nothing may follow at its text
		}
		bare := anchorless(item)
		opens = strings.HasSuffix(bare, ":") || bare == "" || item == "-"
		if strings.HasSuffix(item, "|") || strings.HasSuffix(item, ">") || strings.HasSuffix(item, "|-") || strings.HasSuffix(item, ">-") {
			scalarAt = n
		}
		depth = brackets(item)
	}
	return out
}

// anchorless is a line without a trailing anchor or tag ("key: &name"), which
// opens a block as "key:" does.
func anchorless(item string) string {
	if !strings.Contains(item, " ") && (strings.HasPrefix(item, "&") || strings.HasPrefix(item, "!")) {
		return "" // "- &name": the item's block follows
	}
	if i := strings.LastIndex(item, " "); i >= 0 && (strings.HasPrefix(item[i+1:], "&") || strings.HasPrefix(item[i+1:], "!")) {
		return strings.TrimRight(item[:i], " ")
	}
	return item
}

// stripComment removes a trailing comment, outside quotes.
func stripComment(line string) string {
	end := len(line)
	unquoted(line, func(i int) bool {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ') {
			end = i
			return false
		}
		return true
	})
	return line[:end]
}

// brackets counts the flow brackets a line leaves open, outside quotes.
func brackets(s string) int {
	open := 0
	unquoted(s, func(i int) bool {
		switch s[i] {
		case '{', '[':
			open++
		case '}', ']':
			open--
		}
		return true
	})
	return max(open, 0)
}

// unquoted calls f with the index of each byte of s outside quotes, until f
// returns false.
func unquoted(s string, f func(i int) bool) {
	var quote byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case !f(i):
			return
		}
	}
}
