package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itilflow/itilflow/engine"
)

func TestCICommand(t *testing.T) {
	ctx := context.Background()
	_, vars := migratedDatabase(t, nil)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("ImportsYAMLChildBeforeParent", func(t *testing.T) {
		f := write("cis.yaml", `items:
  - {id: blade-7, name: Blade 7, type: server, service: payments, owner: ops, location: DC1, parent: chassis-1}
  - {id: chassis-1, name: Chassis 1, type: chassis}
`)
		var out bytes.Buffer
		if err := run(ctx, []string{"ci", "import", f}, vars, &out, io.Discard); err != nil || !strings.Contains(out.String(), "2 configuration items read") {
			t.Fatalf("%v %q", err, out.String())
		}
	})
	t.Run("ImportsCSVWithAnyColumnOrder", func(t *testing.T) {
		f := write("cis.csv", "\uFEFFname,id,parent,type\nCore switch 1,core-switch-1,,switch\n\"Port 1, core\",core-switch-1-p1,core-switch-1,port\n")
		var out bytes.Buffer
		if err := run(ctx, []string{"ci", "import", f}, vars, &out, io.Discard); err != nil || !strings.Contains(out.String(), "2 created or changed") {
			t.Fatalf("%v %q", err, out.String())
		}
		out.Reset()
		if err := run(ctx, []string{"ci", "import", f}, vars, &out, io.Discard); err != nil || !strings.Contains(out.String(), "0 created or changed") {
			t.Fatalf("a second import changed something: %v %q", err, out.String())
		}
	})
	t.Run("RefusesAnUnknownColumnAndAnUnknownParent", func(t *testing.T) {
		if err := run(ctx, []string{"ci", "import", write("bad.csv", "id,colour\nx,red\n")}, vars, io.Discard, io.Discard); engine.ErrorCode(err) != engine.EINVALID || !strings.Contains(err.Error(), `"colour"`) {
			t.Fatalf("unknown column: %v", err)
		}
		err := run(ctx, []string{"ci", "import", write("orphan.yaml", "- {id: a-1}\n- {id: b-1, parent: rack-9}\n")}, vars, io.Discard, io.Discard)
		if engine.ErrorCode(err) != engine.EINVALID || !strings.Contains(err.Error(), "rack-9") {
			t.Fatalf("unknown parent: %v", err)
		}
	})
	t.Run("Lists", func(t *testing.T) {
		var out bytes.Buffer
		if err := run(ctx, []string{"ci", "list"}, vars, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"blade-7", "chassis-1", "core-switch-1-p1", "Port 1, core"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("list lacks %q:\n%s", want, out.String())
			}
		}
		if strings.Contains(out.String(), "a-1") {
			t.Errorf("a refused import saved an item:\n%s", out.String())
		}
	})
}
