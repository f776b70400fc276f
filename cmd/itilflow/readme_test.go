package main

// The README's examples, run as a reader runs them: every ```sh block of
// README.md, in order, in one bash, against a fresh dev whose data directory
// is .itilflow of the directory bash runs in — with curl, and with this test
// binary as the itilflow command. A block is left out only when the line
// before its fence says so (<!-- readme: not run … -->).
//
// A comment right after a command shows what it answers: the HTTP status
// (the examples print it with curl -w ' %{http_code}\n'), then the body as
// JSON, or, for an error, its message. "…" stands for what varies: a whole
// value ("due":"…", "tally":{…}, "events":…), part of a string ("at …"),
// the fields of an object not shown (an object without it must match
// exactly), or elements of an array (the others must appear in that order).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestREADMEExamplesRunAsWritten(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the README's examples need %s: %v", tool, err)
		}
	}
	steps, err := readmeSteps("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) == 0 {
		t.Fatal("README.md has no ```sh block to run")
	}
	cfg, here := devBesideHere(t)
	// The examples name the repository's files.
	defs, _ := filepath.Abs("../../definitions")
	if err := os.Symlink(defs, filepath.Join(here, "definitions")); err != nil {
		t.Fatal(err)
	}
	startInProcess(t, cfg)
	sh := startShell(t, here, cleanEnv(commandOnPath(t), here))
	for _, s := range steps {
		command := strings.ReplaceAll(s.command, "127.0.0.1:8080", cfg.httpAddr)
		out, errOut, code := sh.run(t, command, time.Minute)
		if code != 0 {
			t.Fatalf("README.md:%d: exit status %d\n%s\n%s%s", s.line, code, s.command, out, errOut)
		}
		if s.expect == nil {
			continue
		}
		if problem := s.expect.check(out); problem != "" {
			t.Errorf("README.md:%d: %s\n%s\nanswered:\n%s", s.line, problem, s.command, out)
		}
	}
}

// step is one command of the README and what its comment shows it answers.
type step struct {
	line    int
	command string
	expect  *shown // nil: the README shows no answer
}

// readmeNotRun, on the line before a fence, leaves the block out.
const readmeNotRun = "<!-- readme: not run"

var statusComment = regexp.MustCompile(`^# ([1-5][0-9][0-9])(?: (.*))?$`)

// readmeSteps reads the commands of the README's shell blocks with what
// their comments show.
func readmeSteps(path string) ([]step, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(b), "\n")
	var steps []step
	problem := func(i int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", path, i+1, fmt.Sprintf(format, args...))
	}
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```sh" {
			continue
		}
		skip := i > 0 && strings.HasPrefix(strings.TrimSpace(lines[i-1]), readmeNotRun)
		var cur *step
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			line := lines[i]
			switch {
			case skip || strings.TrimSpace(line) == "":
				cur = nil
			case strings.HasPrefix(line, "#"):
				m := statusComment.FindStringSubmatch(line)
				if cur == nil || m == nil {
					cur = nil // prose
					continue
				}
				status, _ := strconv.Atoi(m[1])
				text := m[2]
				// An answer goes on over the comment lines that follow, while
				// its JSON is open, or, for a message, while they are indented.
				for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "#  ") &&
					(isJSON(text) && !balanced(text) || !isJSON(text) && strings.HasPrefix(lines[i+1], "#    ")) {
					i++
					next := strings.TrimSpace(strings.TrimPrefix(lines[i], "#"))
					if isJSON(text) {
						text += next
					} else {
						text += " " + next
					}
				}
				cur.expect = &shown{status: status, text: text}
				cur = nil
			default:
				s := step{line: i + 1, command: line}
				for strings.HasSuffix(lines[i], "\\") && i+1 < len(lines) {
					i++
					s.command += "\n" + lines[i]
				}
				steps = append(steps, s)
				cur = &steps[len(steps)-1]
			}
		}
	}
	// Every answer the examples print is shown, so readers know what to expect.
	for _, s := range steps {
		prints := strings.Contains(s.command, "%{http_code}")
		switch {
		case prints && s.expect == nil:
			return nil, problem(s.line-1, "the command prints its status but no comment shows the answer")
		case !prints && strings.HasPrefix(s.command, "curl"):
			return nil, problem(s.line-1, "curl without -w ' %%{http_code}\\n': readers cannot see the status")
		case !prints && s.expect != nil:
			return nil, problem(s.line-1, "a status is shown that the command does not print")
		}
		if s.expect != nil && isJSON(s.expect.text) {
			if _, err := parsePattern(s.expect.text); err != nil {
				return nil, problem(s.line-1, "the answer shown: %v", err)
			}
		}
	}
	return steps, nil
}

func isJSON(s string) bool { return strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") }

// balanced reports whether the brackets of s, outside strings, all close.
func balanced(s string) bool {
	depth, inString, escaped := 0, false, false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case inString && r == '\\':
			escaped = true
		case r == '"':
			inString = !inString
		case !inString && (r == '{' || r == '['):
			depth++
		case !inString && (r == '}' || r == ']'):
			depth--
		}
	}
	return depth == 0
}

// shown is the answer a comment shows: the status, then the body (JSON) or
// the error's message.
type shown struct {
	status int
	text   string
}

// check compares the output of a command — the body, then the status on its
// own line — with what is shown, and says how they differ.
func (s *shown) check(output string) string {
	output = strings.TrimRight(output, "\n")
	cut := strings.LastIndex(output, "\n")
	body, last := output[:max(cut, 0)], strings.TrimSpace(output[cut+1:])
	status, err := strconv.Atoi(last)
	if err != nil {
		return fmt.Sprintf("no status at the end of the output (got %q)", last)
	}
	if status != s.status {
		return fmt.Sprintf("status %d, the README shows %d", status, s.status)
	}
	if s.text == "" {
		return ""
	}
	var got any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		return fmt.Sprintf("the answer is not JSON: %v", err)
	}
	if !isJSON(s.text) {
		body, _ := got.(map[string]any)
		e, _ := body["error"].(map[string]any)
		msg, _ := e["message"].(string)
		if !globMatch(s.text, msg) {
			return fmt.Sprintf("the error's message is %q, the README shows %q", msg, s.text)
		}
		return ""
	}
	p, _ := parsePattern(s.text)
	return p.match("answer", got)
}

// globMatch matches s against pattern, where … stands for any text.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "…")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// pattern is a JSON value as the README shows it, with … for what varies.
type pattern struct {
	kind    rune // '{', '[', '"', 'v' (number, true, false, null), '…' (anything)
	members []member
	items   []pattern
	open    bool // an object or array with … among its members or items
	text    string
	value   any
}

type member struct {
	key   string
	value pattern
}

func parsePattern(s string) (pattern, error) {
	p := &patternParser{s: s}
	v, err := p.value()
	if err == nil && strings.TrimSpace(p.s[p.i:]) != "" {
		err = fmt.Errorf("text after the value: %q", p.s[p.i:])
	}
	return v, err
}

type patternParser struct {
	s string
	i int
}

func (p *patternParser) skipSpace() {
	for p.i < len(p.s) && strings.ContainsRune(" \t\n", rune(p.s[p.i])) {
		p.i++
	}
}

func (p *patternParser) ellipsis() bool {
	p.skipSpace()
	if strings.HasPrefix(p.s[p.i:], "…") {
		p.i += len("…")
		return true
	}
	return false
}

func (p *patternParser) expect(c byte) error {
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != c {
		return fmt.Errorf("want %q at %d of %q", c, p.i, p.s)
	}
	p.i++
	return nil
}

func (p *patternParser) value() (pattern, error) {
	if p.ellipsis() {
		return pattern{kind: '…'}, nil
	}
	p.skipSpace()
	if p.i >= len(p.s) {
		return pattern{}, fmt.Errorf("the value ends early: %q", p.s)
	}
	switch c := p.s[p.i]; c {
	case '{', '[':
		p.i++
		out := pattern{kind: rune(c)}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == end {
			p.i++
			return out, nil
		}
		for {
			switch {
			case c == '{' && p.ellipsis():
				out.open = true
			case c == '{':
				key, err := p.str()
				if err != nil {
					return out, err
				}
				if err := p.expect(':'); err != nil {
					return out, err
				}
				v, err := p.value()
				if err != nil {
					return out, err
				}
				out.members = append(out.members, member{key, v})
			default:
				v, err := p.value()
				if err != nil {
					return out, err
				}
				out.open = out.open || v.kind == '…'
				out.items = append(out.items, v)
			}
			p.skipSpace()
			if p.i < len(p.s) && p.s[p.i] == end {
				p.i++
				return out, nil
			}
			if err := p.expect(','); err != nil {
				return out, err
			}
		}
	case '"':
		s, err := p.str()
		if s == "…" {
			return pattern{kind: '…'}, err
		}
		return pattern{kind: '"', text: s}, err
	default:
		start := p.i
		for p.i < len(p.s) && !strings.ContainsRune(",]} \t\n", rune(p.s[p.i])) {
			p.i++
		}
		var v any
		if err := json.Unmarshal([]byte(p.s[start:p.i]), &v); err != nil {
			return pattern{}, fmt.Errorf("%q: %v", p.s[start:p.i], err)
		}
		return pattern{kind: 'v', value: v}, nil
	}
}

// str reads a JSON string.
func (p *patternParser) str() (string, error) {
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", fmt.Errorf("want a string at %d of %q", p.i, p.s)
	}
	start := p.i
	for p.i++; p.i < len(p.s); {
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		p.i += n
		switch r {
		case '\\':
			p.i++
		case '"':
			var s string
			err := json.Unmarshal([]byte(p.s[start:p.i]), &s)
			return s, err
		}
	}
	return "", fmt.Errorf("a string does not end: %q", p.s[start:])
}

// match says where got differs from the pattern, or "".
func (p pattern) match(path string, got any) string {
	switch p.kind {
	case '…':
		return ""
	case 'v':
		if fmt.Sprint(got) != fmt.Sprint(p.value) {
			return fmt.Sprintf("%s is %s, the README shows %s", path, jsonText(got), jsonText(p.value))
		}
	case '"':
		if s, ok := got.(string); !ok || !globMatch(p.text, s) {
			return fmt.Sprintf("%s is %s, the README shows %q", path, jsonText(got), p.text)
		}
	case '{':
		obj, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s is %s, the README shows an object", path, jsonText(got))
		}
		for _, m := range p.members {
			v, ok := obj[m.key]
			if !ok {
				return fmt.Sprintf("%s has no %q", path, m.key)
			}
			if d := m.value.match(path+"."+m.key, v); d != "" {
				return d
			}
		}
		if !p.open && len(obj) != len(p.members) {
			return fmt.Sprintf("%s has %d fields, the README shows %d and no …", path, len(obj), len(p.members))
		}
	case '[':
		arr, ok := got.([]any)
		if !ok {
			return fmt.Sprintf("%s is %s, the README shows an array", path, jsonText(got))
		}
		if !matchItems(path, p.items, arr) {
			return fmt.Sprintf("%s is %s: the README shows other items, or others in this order", path, jsonText(got))
		}
	}
	return ""
}

// matchItems reports whether items match patterns in order, where a …
// pattern stands for any number of items.
func matchItems(path string, patterns []pattern, items []any) bool {
	if len(patterns) == 0 {
		return len(items) == 0
	}
	if patterns[0].kind == '…' {
		for skip := 0; skip <= len(items); skip++ {
			if matchItems(path, patterns[1:], items[skip:]) {
				return true
			}
		}
		return false
	}
	return len(items) > 0 && patterns[0].match(path, items[0]) == "" && matchItems(path, patterns[1:], items[1:])
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// shell is one bash that runs commands one after another, as a reader's
// terminal does: variables set by one are there for the next.
type shell struct {
	in    io.Writer
	lines chan string
	dir   string // where each command's output goes
}

// stepDone marks, on bash's own output, the end of a command.
const stepDone = "__readme_step_done__"

func startShell(t *testing.T, dir string, env []string) *shell {
	t.Helper()
	cmd := exec.Command("bash", "--noprofile", "--norc")
	cmd.Dir, cmd.Env = dir, env
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	s := &shell{in: in, lines: make(chan string), dir: t.TempDir()}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	return s
}

// run runs command and returns what it wrote and its exit status.
func (s *shell) run(t *testing.T, command string, timeout time.Duration) (stdout, stderr string, code int) {
	t.Helper()
	file := func(name string) string { return filepath.Join(s.dir, name) }
	fmt.Fprintf(s.in, "{\n%s\n} >'%s' 2>'%s' </dev/null; echo \"$?\" >'%s'; echo %s\n", command, file("out"), file("err"), file("status"), stepDone)
	deadline := time.After(timeout)
	for done := false; !done; {
		select {
		case line, ok := <-s.lines:
			if !ok {
				t.Fatalf("bash ended during %s", command)
			}
			done = line == stepDone
		case <-deadline:
			t.Fatalf("%s did not end within %s", command, timeout)
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(file(name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	code, _ = strconv.Atoi(strings.TrimSpace(read("status")))
	return read("out"), read("err"), code
}

// TestREADMEAnswersMatchAsDocumented checks the reading of the answers the
// README shows, on answers made up for it.
func TestREADMEAnswersMatchAsDocumented(t *testing.T) {
	answer := `{"id":"incident-000001","state":"new","slas":[{"name":"response","status":"running","due":"2026-01-05T09:30:00Z"},` +
		`{"name":"resolution","status":"running"}],"actions":[],"events":85}` + "\n 201\n"
	for _, tc := range []struct {
		shown, problem string
	}{
		{`201 {"id":"incident-000001","state":"new","slas":[{"name":"response","status":"running","due":"…"},…],"actions":[],"events":…}`, ""},
		{`201 {"state":"new",…}`, ""},
		{`201 {"slas":[…,{"name":"resolution",…}],…}`, ""},
		{`201 {"id":"incident-…",…}`, ""},
		{`200 {…}`, "status 201, the README shows 200"},
		{`201 {"state":"new"}`, "answer has 5 fields, the README shows 1 and no …"},
		{`201 {"state":"closed",…}`, `answer.state is "new", the README shows "closed"`},
		{`201 {"slas":[{"name":"resolution",…},…],…}`, "answer.slas is"},
		{`201 {"actions":["close"],…}`, "answer.actions is []"},
		{`201 {"events":84,…}`, "answer.events is 85, the README shows 84"},
		{`201 {"owner":"…",…}`, `answer has no "owner"`},
	} {
		m := statusComment.FindStringSubmatch("# " + tc.shown)
		status, _ := strconv.Atoi(m[1])
		got := (&shown{status: status, text: m[2]}).check(answer)
		if tc.problem == "" && got != "" || !strings.HasPrefix(got, tc.problem) {
			t.Errorf("%s: %q, want %q", tc.shown, got, tc.problem)
		}
	}
	refusal := `{"error":{"code":"conflict","message":"cara.cab has already cast their own vote (approve at 2026-11-29T19:37:56Z): one person, one vote"}}` + "\n 409\n"
	if got := (&shown{status: 409, text: "cara.cab has already cast their own vote (approve at …): one person, one vote"}).check(refusal); got != "" {
		t.Error(got)
	}
	if got := (&shown{status: 409, text: "cara.cab has already voted"}).check(refusal); !strings.HasPrefix(got, "the error's message is") {
		t.Errorf("a different message matched: %q", got)
	}
}
