package temporalserver

import (
	"strings"
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// quietLogger wraps the server's logger to drop what is noise for a
// single-process development server:
//
//   - everything below DPanic once Stop has begun: while the services shut
//     down one by one, the ones still running log a burst of "Not enough
//     hosts to serve the request", dial and poll errors (about a hundred
//     lines, with stack traces) about the ones already gone;
//   - the warning, at every start, that the frontend has no HTTP port and so
//     Nexus HTTP endpoints are unavailable.
type quietLogger struct {
	base     log.Logger
	stopping *atomic.Bool
}

func newQuietLogger(base log.Logger, stopping *atomic.Bool) *quietLogger {
	// One more stack frame (ours) between the caller and the logger, so that
	// the "logging-call-at" tag still names the caller.
	if sl, ok := base.(log.SkipLogger); ok {
		base = sl.Skip(1)
	}
	return &quietLogger{base: base, stopping: stopping}
}

func (l *quietLogger) Debug(msg string, tags ...tag.Tag) {
	if !l.stopping.Load() {
		l.base.Debug(msg, tags...)
	}
}

func (l *quietLogger) Info(msg string, tags ...tag.Tag) {
	if !l.stopping.Load() {
		l.base.Info(msg, tags...)
	}
}

func (l *quietLogger) Warn(msg string, tags ...tag.Tag) {
	if !l.stopping.Load() && !strings.HasPrefix(msg, "HTTP API port has not been set") {
		l.base.Warn(msg, tags...)
	}
}

func (l *quietLogger) Error(msg string, tags ...tag.Tag) {
	if !l.stopping.Load() {
		l.base.Error(msg, tags...)
	}
}

func (l *quietLogger) DPanic(msg string, tags ...tag.Tag) { l.base.DPanic(msg, tags...) }
func (l *quietLogger) Panic(msg string, tags ...tag.Tag)  { l.base.Panic(msg, tags...) }
func (l *quietLogger) Fatal(msg string, tags ...tag.Tag)  { l.base.Fatal(msg, tags...) }

// With implements log.WithLogger.
func (l *quietLogger) With(tags ...tag.Tag) log.Logger {
	return &quietLogger{base: log.With(l.base, tags...), stopping: l.stopping}
}

// Skip implements log.SkipLogger.
func (l *quietLogger) Skip(extraSkip int) log.Logger {
	base := l.base
	if sl, ok := base.(log.SkipLogger); ok {
		base = sl.Skip(extraSkip)
	}
	return &quietLogger{base: base, stopping: l.stopping}
}
