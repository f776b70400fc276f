// Package pgcluster runs a private PostgreSQL server for development and
// tests.
//
// itilflow needs PostgreSQL, but a developer should not have to install,
// configure and babysit a system-wide server (or Docker) just to run the
// app or its tests. With only PostgreSQL's server binaries installed,
// this package initialises a cluster under a directory we own, runs the
// postmaster as our child process, and makes sure it does not outlive us.
package pgcluster

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lib/pq"
)

const (
	defaultDB    = "itilflow"
	startTimeout = 60 * time.Second
	stopTimeout  = 30 * time.Second
)

// Options says where and how to run the cluster.
type Options struct {
	Dir  string                           // data root; the cluster lives in Dir (PGDATA = Dir/data, sockets in Dir/run, log in Dir/postgres.log). Created if missing.
	Port int                              // TCP port on 127.0.0.1; 0 = pick a free port (and remember it in Dir so the next Start uses the same one if free)
	Logf func(format string, args ...any) // optional progress log
	// MaxConnections is the server's max_connections; 0 keeps PostgreSQL's
	// default (100), too few for a Temporal server and several itilflow
	// processes, which each keep a pool.
	MaxConnections int
}

// Cluster is a running server.
type Cluster struct {
	port int

	proc *os.Process
	done chan struct{} // closed once the postmaster has exited and been reaped

	stopOnce sync.Once
	stopErr  error
}

// FindBinaries returns the directory holding initdb, pg_ctl and postgres:
// search PATH first, then /usr/lib/postgresql/*/bin (highest version first).
// Debian/Ubuntu keep the server binaries out of PATH, hence the fallback.
func FindBinaries() (string, error) {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		// PATH often holds symlinks (e.g. /usr/local/bin/initdb); prefer
		// the real directory so all three binaries come from one install.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Sort numerically so that 15 beats 9.6.
	sort.Slice(versions, func(i, j int) bool {
		vi, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(versions[i])), 64)
		vj, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(versions[j])), 64)
		return vi > vj
	})
	for _, d := range append(dirs, versions...) {
		if isExecutable(d, "initdb") && isExecutable(d, "pg_ctl") && isExecutable(d, "postgres") {
			return d, nil
		}
	}
	return "", errors.New("pgcluster: PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: install PostgreSQL's server binaries (e.g. `apt-get install postgresql` on Debian/Ubuntu, `brew install postgresql` on macOS) or set DATABASE_URL to an existing server")
}

func isExecutable(dir, name string) bool {
	fi, err := os.Stat(filepath.Join(dir, name))
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// runner runs PostgreSQL binaries as the right user: PostgreSQL refuses to
// run as root, so as root we switch to the postgres system user.
type runner struct {
	bin  string
	dir  string              // working directory; the target user must be able to enter it
	cred *syscall.Credential // nil = run as ourselves
}

func (r runner) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(r.bin, name), args...)
	cmd.Dir = r.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred}
	return cmd
}

// Start initialises the cluster on first use, starts the server, waits until
// it accepts connections and creates the database "itilflow" if missing.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	dir, err := prepareDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	r := runner{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		if r.cred, err = postgresUser(); err != nil {
			return nil, err
		}
		if err := checkAccess(dir, r.cred); err != nil {
			return nil, err
		}
	}
	data, run, logPath := filepath.Join(dir, "data"), filepath.Join(dir, "run"), filepath.Join(dir, "postgres.log")
	if err := os.MkdirAll(run, 0o755); err != nil {
		return nil, fmt.Errorf("pgcluster: create socket dir: %w", err)
	}
	if r.cred != nil {
		for _, d := range []string{dir, run} {
			if err := os.Chown(d, int(r.cred.Uid), int(r.cred.Gid)); err != nil {
				return nil, fmt.Errorf("pgcluster: chown %s to postgres: %w", d, err)
			}
		}
	}
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: open server log: %w", err)
	}
	// The children keep their own copy of the descriptor.
	defer logFile.Close()

	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		// No PG_VERSION means no usable cluster (e.g. initdb was killed
		// midway); initdb refuses a non-empty directory, so clear it.
		if err := os.RemoveAll(data); err != nil {
			return nil, fmt.Errorf("pgcluster: remove incomplete data dir: %w", err)
		}
		logf("pgcluster: initialising cluster in %s", data)
		cmd := r.command(ctx, "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C")
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("pgcluster: initdb: %w\n%s", err, logTail(logPath))
		}
	} else if err := stopLeftover(ctx, r, data, logFile, logf); err != nil {
		return nil, err
	}
	port, err := choosePort(dir, opts.Port)
	if err != nil {
		return nil, err
	}

	c := &Cluster{port: port, done: make(chan struct{})}
	logf("pgcluster: starting postgres on 127.0.0.1:%d (log: %s)", port, logPath)
	args := []string{"-D", data, "-p", strconv.Itoa(port), "-k", run,
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_permissions=0777"}
	if opts.MaxConnections > 0 {
		args = append(args, "-c", "max_connections="+strconv.Itoa(opts.MaxConnections))
	}
	cmd := r.command(context.Background(), "postgres", args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// If we die, even by SIGKILL, the kernel tells the postmaster to shut down.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the forking *thread* exits, not the process,
		// so fork from a locked thread that lives as long as the child.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		c.proc = cmd.Process
		started <- nil
		_ = cmd.Wait()
		close(c.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("pgcluster: start postgres: %w", err)
	}
	if err := c.waitReady(ctx, logPath); err != nil {
		_ = c.Stop()
		return nil, err
	}
	if err := c.CreateDatabase(ctx, defaultDB); err != nil {
		_ = c.Stop()
		return nil, err
	}
	logf("pgcluster: ready at %s", c.URL())
	return c, nil
}

// prepareDir makes Dir absolute, creates it and resolves symlinks so that
// the permission check sees the real path.
func prepareDir(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("pgcluster: Options.Dir is required")
	}
	abs, err := filepath.Abs(dir)
	if err = errors.Join(err, os.MkdirAll(abs, 0o755)); err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return "", fmt.Errorf("pgcluster: create %s: %w", dir, err)
	}
	return abs, nil
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: running as root needs the postgres system user: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	ids, _ := u.GroupIds()
	for _, g := range ids {
		if n, err := strconv.ParseUint(g, 10, 32); err == nil {
			cred.Groups = append(cred.Groups, uint32(n))
		}
	}
	return cred, nil
}

// checkAccess reports a parent of dir that the postgres user cannot enter.
// We refuse rather than chmod it: loosening e.g. a private temp dir is the
// caller's decision.
func checkAccess(dir string, cred *syscall.Credential) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgcluster: stat %s: %w", p, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		var bit os.FileMode = 0o001
		if st.Uid == cred.Uid {
			bit = 0o100
		} else if st.Gid == cred.Gid || slices.Contains(cred.Groups, st.Gid) {
			bit = 0o010
		}
		if fi.Mode().Perm()&bit == 0 {
			return fmt.Errorf("pgcluster: directory %s is not traversable by the postgres user (mode %v); chmod it (e.g. chmod o+x %s) or choose another Dir", p, fi.Mode().Perm(), p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// stopLeftover stops a server left running on data by an earlier process
// (e.g. one that was killed before its postmaster finished shutting down).
func stopLeftover(ctx context.Context, r runner, data string, logFile *os.File, logf func(string, ...any)) error {
	pidFile := filepath.Join(data, "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return nil // no pid file: nothing running
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return nil // garbled: postgres itself copes with it
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return nil // dead: postgres handles stale pid files
	}
	// After a reboot or in a container the pid may belong to some unrelated
	// process; pg_ctl would signal it and postgres would refuse to start.
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && !bytes.HasPrefix(comm, []byte("postgres")) && !bytes.HasPrefix(comm, []byte("postmaster")) {
		logf("pgcluster: removing stale %s (pid %d is not postgres)", pidFile, pid)
		if err := os.Remove(pidFile); err != nil {
			return fmt.Errorf("pgcluster: remove stale pid file: %w", err)
		}
		return nil
	}
	logf("pgcluster: stopping leftover server (pid %d)", pid)
	cmd := r.command(ctx, "pg_ctl", "stop", "-m", "fast", "-w", "-t", strconv.Itoa(int(stopTimeout/time.Second)), "-D", data)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Run(); err != nil {
		// It may have finished exiting between the check above and pg_ctl,
		// which then finds no server and fails: gone is what was wanted.
		if _, statErr := os.Stat(pidFile); errors.Is(statErr, os.ErrNotExist) || errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			logf("pgcluster: leftover server (pid %d) exited by itself", pid)
			return nil
		}
		return fmt.Errorf("pgcluster: pg_ctl stop leftover server (pid %d): %w", pid, err)
	}
	return nil
}

// choosePort returns the requested port, or the one remembered in Dir if it
// is still free (stable URLs across restarts), or a fresh free one.
func choosePort(dir string, port int) (int, error) {
	if port != 0 {
		return port, nil
	}
	portFile := filepath.Join(dir, "port")
	b, _ := os.ReadFile(portFile)
	remembered, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	// Listening proves the remembered port free; port 0 picks a fresh one.
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(remembered))
	if err != nil {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return 0, fmt.Errorf("pgcluster: pick a free port: %w", err)
	}
	port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	if port != remembered {
		if err := os.WriteFile(portFile, []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
			return 0, fmt.Errorf("pgcluster: remember port: %w", err)
		}
	}
	return port, nil
}

func (c *Cluster) waitReady(ctx context.Context, logPath string) error {
	db, err := sql.Open("postgres", c.DatabaseURL("postgres"))
	if err != nil {
		return fmt.Errorf("pgcluster: open: %w", err)
	}
	defer db.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := db.PingContext(pctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("pgcluster: postgres exited during startup:\n%s", logTail(logPath))
		case <-ctx.Done():
			return fmt.Errorf("pgcluster: waiting for postgres: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgcluster: postgres did not accept connections within %v (last error: %w); server log:\n%s", startTimeout, err, logTail(logPath))
		}
	}
}

// logTail returns the last lines of the server log for error messages.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// URL is a lib/pq connection URL for database "itilflow".
func (c *Cluster) URL() string { return c.DatabaseURL(defaultDB) }

// DatabaseURL is a lib/pq connection URL for database db.
func (c *Cluster) DatabaseURL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// CreateDatabase creates a database if it does not exist (used by tests to
// isolate themselves).
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	db, err := sql.Open("postgres", c.DatabaseURL("postgres"))
	if err != nil {
		return fmt.Errorf("pgcluster: create database %q: %w", name, err)
	}
	defer db.Close()
	// Check first so that the normal case does not log an ERROR in the
	// server log; 42P04 (duplicate_database) covers a concurrent creator.
	var exists bool
	err = db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err == nil && !exists {
		_, err = db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
	}
	var pqErr *pq.Error
	if err != nil && !(errors.As(err, &pqErr) && pqErr.Code == "42P04") {
		return fmt.Errorf("pgcluster: create database %q: %w", name, err)
	}
	return nil
}

// Stop shuts the server down (fast shutdown) and waits for it to exit,
// killing it after 30s. Safe to call twice.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() { c.stopErr = c.stop() })
	return c.stopErr
}

func (c *Cluster) stop() error {
	select {
	case <-c.done:
		return nil // already gone (e.g. stopped as a leftover by another Start)
	default:
	}
	// SIGINT = fast shutdown: roll back open transactions and disconnect
	// clients instead of waiting for them.
	if err := c.proc.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("pgcluster: stop: signal postgres: %w", err)
	}
	select {
	case <-c.done:
		return nil
	case <-time.After(stopTimeout):
		_ = c.proc.Kill()
		<-c.done
		return fmt.Errorf("pgcluster: stop: postgres did not exit within %v; killed it", stopTimeout)
	}
}
