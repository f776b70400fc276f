package checkpoint_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itilflow/itilflow/checkpoint"
	"github.com/itilflow/itilflow/store"
)

func cp(seq int64) store.AuditCheckpoint {
	return store.AuditCheckpoint{Kind: store.CheckpointKind, Seq: seq, Hash: strings.Repeat("ab", 32),
		At: time.Date(2026, 11, 23, 9, 0, int(seq), 0, time.UTC), KeyID: "0123456789abcdef", MAC: strings.Repeat("cd", 32)}
}

func TestFileKeepsTheLatestCheckpoint(t *testing.T) {
	f := &checkpoint.File{Path: filepath.Join(t.TempDir(), "audit-checkpoints.jsonl")}
	if _, ok, err := f.Latest(); ok || err != nil {
		t.Fatalf("absent file: %v %v", ok, err)
	}
	for _, seq := range []int64{1, 2} {
		if err := f.Append(cp(seq)); err != nil {
			t.Fatal(err)
		}
	}
	if got, ok, err := f.Latest(); !ok || err != nil || got != cp(2) {
		t.Fatalf("latest %+v %v %v", got, ok, err)
	}
	if info, _ := os.Stat(f.Path); info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", info.Mode())
	}
	t.Run("PassesOverALineACrashCutShort", func(t *testing.T) {
		appendRaw(t, f.Path, `{"kind":"audit_checkpoint","seq":3,"ha`)
		if got, ok, err := f.Latest(); !ok || err != nil || got != cp(2) {
			t.Fatalf("latest %+v %v %v", got, ok, err)
		}
		if err := f.Append(cp(4)); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := f.Latest(); !ok || err != nil || got != cp(4) {
			t.Fatalf("latest after the torn line %+v %v %v", got, ok, err)
		}
	})
	t.Run("RefusesALastLineThatIsNoCheckpoint", func(t *testing.T) {
		appendRaw(t, f.Path, `{"kind":"notification"}`+"\n")
		if _, _, err := f.Latest(); err == nil || !strings.Contains(err.Error(), "not an audit checkpoint") {
			t.Fatalf("got %v", err)
		}
	})
}

func appendRaw(t *testing.T, path, s string) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if _, err := io.WriteString(fh, s); err != nil {
		t.Fatal(err)
	}
}

// fakeStore signs whatever head it is set to and records what it was asked.
type fakeStore struct {
	mu        sync.Mutex
	head      int64
	since     []int64
	queued    []int64
	queueFail error
}

func (s *fakeStore) setHead(seq int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.head = seq
}

func (s *fakeStore) SignAuditHead(_ context.Context, at time.Time, since *store.AuditCheckpoint) (store.AuditCheckpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var from int64
	if since != nil {
		from = since.Seq
	}
	s.since = append(s.since, from)
	if s.head == 0 {
		return store.AuditCheckpoint{}, nil
	}
	c := cp(s.head)
	c.At = at
	return c, nil
}

func (s *fakeStore) QueueAuditCheckpoint(_ context.Context, c store.AuditCheckpoint) error {
	if s.queueFail != nil {
		return s.queueFail
	}
	s.queued = append(s.queued, c.Seq)
	return nil
}

func TestCheckpointerWritesWhenTheHeadMoves(t *testing.T) {
	st := &fakeStore{}
	f := &checkpoint.File{Path: filepath.Join(t.TempDir(), "cp.jsonl")}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	c := &checkpoint.Checkpointer{Store: st, File: f, Interval: time.Hour, Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	step := func(head int64) {
		t.Helper()
		st.head = head
		if err := c.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}
	step(0) // an empty chain has no head to vouch for
	step(3)
	step(3) // unchanged: nothing new
	step(5)
	if got, _, _ := f.Latest(); got.Seq != 5 || !got.At.Equal(now) {
		t.Fatalf("file's latest %+v", got)
	}
	if !slices.Equal(st.queued, []int64{3, 5}) {
		t.Fatalf("queued %v", st.queued)
	}
	// Each signature covers only what was verified since the last checkpoint.
	if want := []int64{0, 0, 3, 3}; !slices.Equal(st.since, want) {
		t.Fatalf("signed since %v, want %v", st.since, want)
	}
	t.Run("RetriesWhatTheOutboxRefused", func(t *testing.T) {
		st.head, st.queueFail = 6, errors.New("database down")
		if err := c.Checkpoint(ctx); err == nil {
			t.Fatal("no error")
		}
		st.queueFail = nil
		step(6)
		if st.queued[len(st.queued)-1] != 6 {
			t.Fatalf("queued %v", st.queued)
		}
	})
	t.Run("RunStartsFromTheFileAndCheckpointsWhenItStops", func(t *testing.T) {
		st := &fakeStore{head: 6}
		c := &checkpoint.Checkpointer{Store: st, File: f, Interval: time.Hour, Now: time.Now, Log: slog.New(slog.DiscardHandler)}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { c.Run(ctx); close(done) }()
		time.Sleep(100 * time.Millisecond)
		st.setHead(7) // written while it runs, before it stops
		cancel()
		<-done
		if !slices.Equal(st.since, []int64{6, 6}) || !slices.Equal(st.queued, []int64{7}) {
			t.Fatalf("signed since %v, queued %v", st.since, st.queued)
		}
	})
}
