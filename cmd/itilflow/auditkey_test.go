package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAuditKeysComeFromFileEnvOrDataDir(t *testing.T) {
	key := testAuditKeyBytes()
	dir := t.TempDir()
	older := bytes.Repeat([]byte{0x42}, 32)
	twoKeys := filepath.Join(dir, "keys")
	os.WriteFile(twoKeys, []byte("# rotated on 2026-11-23\n"+testAuditKey+"\n\n"+base64.StdEncoding.EncodeToString(older)+"\n"), 0o600)
	dataDir := filepath.Join(dir, "data")
	os.Mkdir(dataDir, 0o755)
	os.WriteFile(filepath.Join(dataDir, auditKeyFileName), []byte(testAuditKey+"\n"), 0o600)
	for _, tc := range []struct {
		name string
		file string
		env  map[string]string
		want [][]byte
		err  string
	}{
		{"EnvHex", "", map[string]string{auditKeyEnv: testAuditKey}, [][]byte{key}, ""},
		{"EnvBase64", "", map[string]string{auditKeyEnv: base64.RawURLEncoding.EncodeToString(key)}, [][]byte{key}, ""},
		{"EnvShort", "", map[string]string{auditKeyEnv: "00112233"}, nil, "the audit key has 4 bytes; use at least 32"},
		{"EnvNeither", "", map[string]string{auditKeyEnv: "not a key!"}, nil, "neither hex nor base64"},
		{"FileNewestFirst", twoKeys, nil, [][]byte{key, older}, ""},
		{"Twice", twoKeys, map[string]string{auditKeyEnv: testAuditKey}, nil, "given twice"},
		{"DataDir", "", map[string]string{"ITILFLOW_DATA_DIR": dataDir}, [][]byte{key}, ""},
		{"None", "", map[string]string{"ITILFLOW_DATA_DIR": dir}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := readAuditKeys(tc.file, env(tc.env), filepath.Join(envOr(env(tc.env), "ITILFLOW_DATA_DIR", ".itilflow"), auditKeyFileName))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), tc.env[auditKeyEnv]) {
					t.Fatalf("got %v, want an error saying %q without the key", err, tc.err)
				}
				return
			}
			if err != nil || len(keys) != len(tc.want) {
				t.Fatalf("keys %x, %v; want %x", keys, err, tc.want)
			}
			for i := range keys {
				if !bytes.Equal(keys[i], tc.want[i]) {
					t.Fatalf("key %d is %x, want %x", i, keys[i], tc.want[i])
				}
			}
		})
	}
}

func TestDevMakesItsAuditKeyOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), auditKeyFileName)
	for range 2 {
		if err := ensureDevAuditKey(path); err != nil {
			t.Fatal(err)
		}
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v %v", info, err)
	}
	first, _ := os.ReadFile(path)
	keys, err := devAuditKeys("", env(nil), filepath.Dir(path))
	if err != nil || len(keys) != 1 || len(keys[0]) != 32 || hex.EncodeToString(keys[0])+"\n" != string(first) {
		t.Fatalf("dev's key %x %v, file %q", keys, err, first)
	}
}
