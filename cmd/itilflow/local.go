package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// devFileName is the file in its data directory where a running `itilflow
// dev` says where its PostgreSQL, Temporal and API are, so that the commands
// run beside it need no DATABASE_URL or TEMPORAL_ADDRESS. dev removes it when
// it stops; one left by a dev that was killed names a process that no longer
// runs, and the commands pass it by.
const devFileName = "dev.json"

// defaultDataDir is where dev keeps its data, and where the commands look for
// a running dev, unless --data-dir or ITILFLOW_DATA_DIR say otherwise.
const defaultDataDir = ".itilflow"

// defaultTemporalAddress is the Temporal frontend tried when none is given
// and no dev runs: Temporal's own default port on this machine.
const defaultTemporalAddress = "127.0.0.1:7233"

// devFile is what a running dev tells the commands run beside it.
type devFile struct {
	PID         int       `json:"pid"`
	StartedAt   time.Time `json:"started_at"`
	API         string    `json:"api"`
	DatabaseURL string    `json:"database_url"`
	Temporal    string    `json:"temporal_address"`
	Namespace   string    `json:"temporal_namespace"`
}

// writeDevFile writes f into the data directory dir. It returns the function
// that removes it again, unless another dev has written its own since. The
// file is readable by its owner only: DATABASE_URL may carry a password.
func writeDevFile(dir string, f devFile) (remove func(), err error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, devFileName)
	// Written aside and renamed, so a command never reads half of it.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	return func() {
		if now, err := readDevFile(dir); err == nil && now.PID == f.PID && now.StartedAt.Equal(f.StartedAt) {
			os.Remove(path)
		}
	}, nil
}

func readDevFile(dir string) (devFile, error) {
	var f devFile
	b, err := os.ReadFile(filepath.Join(dir, devFileName))
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("%s: %w", filepath.Join(dir, devFileName), err)
	}
	return f, nil
}

// running reports whether the dev that wrote f still runs. A process of
// another user answers the probe with EPERM: it runs.
func (f devFile) running() bool {
	if f.PID <= 0 {
		return false // signal 0 to pid 0 or -1 would probe a whole group
	}
	p, err := os.FindProcess(f.PID)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// localStack is how a command finds the PostgreSQL and Temporal it works on:
// DATABASE_URL and TEMPORAL_ADDRESS (or --temporal-address) when given, else
// those of the dev running on the data directory — saying on stderr which it
// uses, so nobody repairs or verifies one database believing it another.
type localStack struct {
	dataDir *string
	getenv  func(string) string
	stderr  io.Writer

	looked bool
	dev    *devFile // the running dev, once looked for; nil if none
	absent string   // why there is none
}

// local registers --data-dir (once) and returns the command's localStack.
func (f *flags) local() *localStack {
	if f.loc == nil {
		f.loc = &localStack{getenv: f.getenv, stderr: f.Output(),
			dataDir: f.string("data-dir", defaultDataDir, "data directory of the itilflow dev whose PostgreSQL and Temporal to use "+
				"when DATABASE_URL and TEMPORAL_ADDRESS are not set; its audit key and checkpoint file are found there too")}
	}
	return f.loc
}

// dir is the data directory.
func (l *localStack) dir() string { return *l.dataDir }

// running returns the dev running on the data directory, or nil and why
// there is none.
func (l *localStack) running() (*devFile, string) {
	if l.looked {
		return l.dev, l.absent
	}
	l.looked = true
	path := filepath.Join(l.dir(), devFileName)
	f, err := readDevFile(l.dir())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		l.absent = "no " + path
	case err != nil:
		l.absent = err.Error()
	case !f.running():
		l.absent = fmt.Sprintf("%s is left by pid %d, which no longer runs", path, f.PID)
	default:
		l.dev = &f
	}
	return l.dev, l.absent
}

// databaseURL is DATABASE_URL, else the running dev's PostgreSQL.
func (l *localStack) databaseURL() (string, error) {
	if u := l.getenv("DATABASE_URL"); u != "" {
		return u, nil
	}
	dev, absent := l.running()
	if dev == nil {
		return "", fmt.Errorf("DATABASE_URL is not set and no itilflow dev runs on %s (%s): run this where `itilflow dev` runs, "+
			"give its --data-dir, or set DATABASE_URL to the PostgreSQL URL, e.g. postgres://user:pass@host:5432/itilflow?sslmode=disable", l.dir(), absent)
	}
	fmt.Fprintf(l.stderr, "itilflow: DATABASE_URL is not set: using the PostgreSQL of the dev running on %s (pid %d): %s\n",
		l.dir(), dev.PID, redacted(dev.DatabaseURL))
	return dev.DatabaseURL, nil
}

// temporalAddress is the address given, else the running dev's Temporal,
// else Temporal's default port on this machine.
func (l *localStack) temporalAddress(given string) string {
	if given != "" {
		return given
	}
	dev, absent := l.running()
	if dev == nil {
		fmt.Fprintf(l.stderr, "itilflow: TEMPORAL_ADDRESS is not set and no itilflow dev runs on %s (%s): trying %s\n",
			l.dir(), absent, defaultTemporalAddress)
		return defaultTemporalAddress
	}
	fmt.Fprintf(l.stderr, "itilflow: TEMPORAL_ADDRESS is not set: using the Temporal of the dev running on %s (pid %d): %s\n",
		l.dir(), dev.PID, dev.Temporal)
	return dev.Temporal
}

// redacted is a database URL without its password, for showing.
func redacted(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || u.Scheme == "" {
		// key=value settings, which may hold a password anywhere
		return "(not shown: not a URL)"
	}
	return u.Redacted()
}
