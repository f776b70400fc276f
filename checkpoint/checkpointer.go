package checkpoint

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/itilflow/itilflow/store"
)

// Store is what the checkpointer needs of the store: *store.Store.
type Store interface {
	// SignAuditHead signs the chain's head after checking the records since
	// the previous checkpoint; ECONFLICT when they do not verify.
	SignAuditHead(ctx context.Context, at time.Time, since *store.AuditCheckpoint) (store.AuditCheckpoint, error)
	// QueueAuditCheckpoint adds a checkpoint to the outbox, once per record.
	QueueAuditCheckpoint(ctx context.Context, cp store.AuditCheckpoint) error
}

// Checkpointer writes a checkpoint of the audit chain's head when it starts,
// every Interval while the head moves, and when it stops: to File when set, and
// to the outbox, which the notifier delivers to the notification webhook.
type Checkpointer struct {
	Store    Store
	File     *File // nil: the outbox only
	Interval time.Duration
	Now      func() time.Time
	Log      *slog.Logger
	// last is the latest checkpoint written: the next one vouches only for
	// what the store verified since.
	last *store.AuditCheckpoint
}

// stopTimeout bounds the checkpoint written when the checkpointer stops.
const stopTimeout = 10 * time.Second

// Run checkpoints until ctx ends, then writes a last checkpoint. Failures are
// logged, not returned: checkpoints must not stop the server, and a head the
// store refuses to sign (the chain no longer verifies) is reported at every
// tick until someone looks.
func (c *Checkpointer) Run(ctx context.Context) {
	if c.File != nil {
		cp, ok, err := c.File.Latest()
		switch {
		case err != nil:
			c.Log.Error("audit checkpoints: the file's last checkpoint is unreadable; checking the whole chain", "error", err)
		case ok:
			c.last = &cp
		}
	}
	c.logged(c.Checkpoint(ctx))
	t := time.NewTicker(c.Interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.logged(c.Checkpoint(ctx))
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
			defer cancel()
			c.logged(c.Checkpoint(sctx))
			return
		}
	}
}

func (c *Checkpointer) logged(err error) {
	if err != nil {
		c.Log.Error("audit checkpoint not written", "error", err)
	}
}

// Checkpoint writes one checkpoint if the head moved since the last one: to the
// file first, then to the outbox. It is remembered only once both have it, so a
// failure is retried at the next call.
func (c *Checkpointer) Checkpoint(ctx context.Context) error {
	cp, err := c.Store.SignAuditHead(ctx, c.Now(), c.last)
	if err != nil {
		return err
	}
	if cp.Seq == 0 || c.last != nil && cp.Seq == c.last.Seq && cp.Hash == c.last.Hash {
		return nil
	}
	if c.File != nil {
		if err := c.File.Append(cp); err != nil {
			return fmt.Errorf("audit checkpoint file: %w", err)
		}
	}
	if err := c.Store.QueueAuditCheckpoint(ctx, cp); err != nil {
		return err
	}
	c.Log.Debug("audit checkpoint written", "seq", cp.Seq, "key_id", cp.KeyID)
	c.last = &cp
	return nil
}
