// Package checkpoint keeps signed checkpoints of the audit chain's head where the
// database's writers cannot rewrite them: a JSON-lines file, and the outbox the
// notifier delivers to a webhook. The Checkpointer writes them while the server
// runs; `itilflow audit verify` and the API check the chain against the latest.
package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/itilflow/itilflow/store"
)

// File is an append-only file of checkpoints, one JSON object a line, oldest
// first. Keep it on a disk the database's administrators cannot write, or ship
// it elsewhere (it is append-only, so any log shipper will do).
type File struct {
	Path string
}

// tailBytes is how much of the file's end Latest reads: a checkpoint is a few
// hundred bytes.
const tailBytes = 64 << 10

// Append adds cp as one line and syncs it to disk before returning, so a
// checkpoint reported written survives a crash.
func (f *File) Append(cp store.AuditCheckpoint) error {
	line, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	fh, err := os.OpenFile(f.Path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return err
	}
	if size := info.Size(); size > 0 {
		last := make([]byte, 1)
		if _, err := fh.ReadAt(last, size-1); err != nil {
			return err
		}
		if last[0] != '\n' {
			// A line a crash cut short keeps to itself.
			line = append([]byte{'\n'}, line...)
		}
	}
	if _, err := fh.Write(append(line, '\n')); err != nil {
		return err
	}
	if err := fh.Sync(); err != nil {
		return err
	}
	if info.Size() == 0 {
		// A new file survives a crash only once its directory entry is on disk.
		if err := syncDir(filepath.Dir(f.Path)); err != nil {
			return err
		}
	}
	return fh.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Latest returns the file's last checkpoint, and false when the file does not
// exist or holds none. A last line without its newline is a write a crash cut
// short and is passed over; a complete last line that is not a checkpoint is an
// error, since it hides the checkpoint before it.
func (f *File) Latest() (store.AuditCheckpoint, bool, error) {
	var cp store.AuditCheckpoint
	fh, err := os.Open(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return cp, false, nil
	}
	if err != nil {
		return cp, false, err
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return cp, false, err
	}
	off := max(0, info.Size()-tailBytes)
	tail := make([]byte, info.Size()-off)
	if _, err := fh.ReadAt(tail, off); err != nil {
		return cp, false, err
	}
	// What follows the last newline is empty, or a torn write.
	lines := bytes.Split(tail, []byte("\n"))
	lines = lines[:len(lines)-1]
	for i := len(lines) - 1; i >= 0; i-- {
		if len(bytes.TrimSpace(lines[i])) == 0 {
			continue
		}
		if i == 0 && off > 0 {
			break // cut by the start of the tail
		}
		if err := json.Unmarshal(lines[i], &cp); err != nil || cp.Kind != store.CheckpointKind {
			return store.AuditCheckpoint{}, false, fmt.Errorf("%s: the last line is not an audit checkpoint", f.Path)
		}
		return cp, true, nil
	}
	if off > 0 {
		return cp, false, fmt.Errorf("%s: no audit checkpoint in the last %d bytes", f.Path, tailBytes)
	}
	return cp, false, nil
}
