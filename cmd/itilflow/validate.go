package main

import (
	"fmt"
	"io"
	"os"

	"github.com/itilflow/itilflow/engine"
)

// runValidate checks definition files and prints every problem as
// file:line:col: message, like a compiler. It fails if any file has a problem.
func runValidate(files []string, stdout, stderr io.Writer) error {
	if len(files) == 0 {
		return fmt.Errorf("usage: itilflow validate FILE...")
	}
	bad := 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if _, err := engine.Parse(src); err != nil {
			bad++
			for _, line := range formatProblems(file, err) {
				fmt.Fprintln(stderr, line)
			}
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", file)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d file(s) have problems", bad, len(files))
	}
	return nil
}
