package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/itilflow/itilflow/store"
)

// auditKeyEnv holds the audit key itself, in hex or base64. There is no flag
// for it: a key on the command line shows in every process listing.
const auditKeyEnv = "ITILFLOW_AUDIT_KEY"

// auditKeyFileName is the audit key `dev` makes in its data directory, where
// the commands that write to the database also look for one.
const auditKeyFileName = "audit.key"

// noAuditKeyHelp is serve's answer when it is given no audit key.
const noAuditKeyHelp = "no audit key: serve links the audit log with HMAC-SHA-256 under a secret key. " +
	"Make one with `openssl rand -hex 32 > audit.key && chmod 600 audit.key` and give --audit-key-file audit.key " +
	"(env ITILFLOW_AUDIT_KEY_FILE), or put the key in ITILFLOW_AUDIT_KEY; keep a copy in a safe place, " +
	"verifying the audit log needs it (docs/audit.md)"

func (f *flags) auditKeyFile() *string {
	return f.string("audit-key-file", "", "file of the audit key, hex or base64 of at least 32 random bytes; after a rotation one key a line, newest first")
}

// readAuditKeys returns the audit keys, newest first: those of file when one is
// given, else the key in ITILFLOW_AUDIT_KEY, else those of fallback when that
// file exists ("" for none). No key is no error here: the caller decides.
func readAuditKeys(file string, getenv func(string) string, fallback string) ([][]byte, error) {
	env := getenv(auditKeyEnv)
	switch {
	case file != "" && env != "":
		return nil, fmt.Errorf("the audit key is given twice, by --audit-key-file (ITILFLOW_AUDIT_KEY_FILE) and by %s: give one", auditKeyEnv)
	case env != "":
		k, err := parseAuditKey(env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", auditKeyEnv, err)
		}
		return [][]byte{k}, nil
	case file != "":
		return readAuditKeyFile(file)
	case fallback != "":
		if _, err := os.Stat(fallback); err == nil {
			return readAuditKeyFile(fallback)
		}
	}
	return nil, nil
}

// readAuditKeyFile reads one key a line, newest first; blank lines and lines
// starting with # are skipped.
func readAuditKeyFile(file string) ([][]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("audit key file: %w", err)
	}
	var keys [][]byte
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := parseAuditKey(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, i+1, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("audit key file %s holds no key", file)
	}
	return keys, nil
}

// parseAuditKey decodes a key written in hex or in base64 (standard or URL
// alphabet, padded or not). Errors never repeat the key.
func parseAuditKey(s string) ([]byte, error) {
	k, err := hex.DecodeString(s)
	if err != nil {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if k, err = enc.DecodeString(s); err == nil {
				break
			}
		}
	}
	if err != nil {
		return nil, errors.New("the audit key is neither hex nor base64")
	}
	if len(k) < store.MinAuditKeyBytes {
		return nil, fmt.Errorf("the audit key has %d bytes; use at least %d random bytes (openssl rand -hex 32)", len(k), store.MinAuditKeyBytes)
	}
	return k, nil
}

// ensureDevAuditKey makes dev's audit key on its first start: 32 random bytes
// in hex, readable by their owner only. Later starts keep the key, so the
// chain stays verifiable.
func ensureDevAuditKey(path string) error {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	// O_EXCL: of two starts racing, one makes the key and the other uses it.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("audit key: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		return fmt.Errorf("audit key: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("audit key: %w", err)
	}
	return f.Close()
}

// cliAuditKeys finds the audit keys for a command that works on the database:
// --audit-key-file or ITILFLOW_AUDIT_KEY, else the key `dev` made in the data
// directory (--data-dir, ITILFLOW_DATA_DIR, default .itilflow), if there is one.
func cliAuditKeys(file string, loc *localStack) ([]store.Option, error) {
	keys, err := readAuditKeys(file, loc.getenv, filepath.Join(loc.dir(), auditKeyFileName))
	return auditKeyOptions(keys), err
}

// openCLIStore opens the database of a command that works on it (see
// openStore) with the audit keys cliAuditKeys finds, so what it changes is
// audited as the server audits it.
func openCLIStore(ctx context.Context, keyFile string, loc *localStack) (*store.Store, error) {
	keys, err := cliAuditKeys(keyFile, loc)
	if err != nil {
		return nil, err
	}
	return openStore(ctx, loc, keys...)
}

func auditKeyOptions(keys [][]byte) []store.Option {
	opts := make([]store.Option, len(keys))
	for i, k := range keys {
		opts[i] = store.WithAuditKey(k)
	}
	return opts
}
