package history

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// runFile is how the runs of one process are named when exported to files:
// NAME-run1.json, NAME-run2.json, …
var runFile = regexp.MustCompile(`^(.+)-run(\d+)\.json$`)

// Chain is the runs of one process read from files, the first first, and
// the files they came from.
type Chain struct {
	Files []string
	Runs  []*historypb.History
}

// ReadFiles reads histories exported as JSON (`itilflow history export`,
// `temporal workflow show --output json`) and groups the runs of a process
// named NAME-runN.json into one chain, the first run first, under NAME.json;
// any other file is a chain of its own under its name. Decode takes a chain's
// runs.
func ReadFiles(files []string) (map[string]Chain, error) {
	type run struct {
		n    int
		file string
		h    *historypb.History
	}
	runs := map[string][]run{}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
		f.Close()
		if err != nil {
			return nil, err
		}
		name, n := filepath.Base(file), 1
		if m := runFile.FindStringSubmatch(name); m != nil {
			name = m[1] + ".json"
			n, _ = strconv.Atoi(m[2])
		}
		runs[name] = append(runs[name], run{n, file, h})
	}
	out := make(map[string]Chain, len(runs))
	for name, rs := range runs {
		sort.Slice(rs, func(i, j int) bool { return rs[i].n < rs[j].n })
		var c Chain
		for _, r := range rs {
			c.Files, c.Runs = append(c.Files, r.file), append(c.Runs, r.h)
		}
		out[name] = c
	}
	return out, nil
}
