package console

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestEveryTextIsTranslated: every message a template or the code asks for
// exists in every language, the languages have the same messages, and none is
// left unused.
func TestEveryTextIsTranslated(t *testing.T) {
	keysOf := func(lang string) []string {
		raw, err := localeFiles.ReadFile("locales/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		var out []string
		for k, v := range m {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: %s is empty", lang, k)
			}
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	en := keysOf("en")
	for _, tag := range languages[1:] {
		other := keysOf(tag.String())
		for _, k := range en {
			if !slices.Contains(other, k) {
				t.Errorf("%s lacks %s", tag, k)
			}
		}
		for _, k := range other {
			if !slices.Contains(en, k) {
				t.Errorf("%s has %s, which en lacks", tag, k)
			}
		}
	}

	// A message id is what a template asks for ({{t "queue.title"}}), or a
	// literal of the code passed to text() or kept for a template
	// (Hint = "hint.user"), with one of the files' prefixes.
	prefixes := map[string]bool{}
	for _, k := range en {
		prefixes[k[:strings.Index(k, ".")]] = true
	}
	inTemplate := regexp.MustCompile(`\bt "([^"]+)"`)
	literal := regexp.MustCompile(`"([a-z_]+(?:\.[a-z_]+)+)"`)
	used := map[string]string{}
	tmpls, _ := templateFiles.ReadDir("templates")
	for _, f := range tmpls {
		raw, _ := templateFiles.ReadFile("templates/" + f.Name())
		for _, m := range inTemplate.FindAllSubmatch(raw, -1) {
			used[string(m[1])] = f.Name()
		}
	}
	scan := func(name string, text []byte) {
		for _, m := range literal.FindAllSubmatch(text, -1) {
			id := string(m[1])
			if prefixes[id[:strings.Index(id, ".")]] {
				used[id] = name
			}
		}
	}
	code, _ := filepath.Glob("*.go")
	for _, f := range code {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		scan(f, raw)
	}
	for id, where := range used {
		if !slices.Contains(en, id) {
			t.Errorf("%s asks for %s, which no language has", where, id)
		}
	}
	for _, k := range en {
		if _, ok := used[k]; !ok {
			t.Errorf("%s is in the message files but nothing shows it", k)
		}
	}
}
