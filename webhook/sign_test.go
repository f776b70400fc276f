package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/webhook"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef-receiver")
	signed = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
)

// receiver checks a request the way the README tells receivers to, written
// from the description and not with this package: split the header, refuse a
// timestamp more than five minutes away, compare the HMAC of "t.body".
func receiver(now time.Time, secret []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var t string
		var sigs []string
		for _, part := range strings.Split(r.Header.Get("Itilflow-Signature"), ",") {
			k, v, _ := strings.Cut(part, "=")
			switch k {
			case "t":
				t = v
			case "v1":
				sigs = append(sigs, v)
			}
		}
		ts, err := strconv.ParseInt(t, 10, 64)
		if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
			http.Error(w, "stale", http.StatusUnauthorized)
			return
		}
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(t + "." + string(body)))
		want := hex.EncodeToString(m.Sum(nil))
		for _, s := range sigs {
			if hmac.Equal([]byte(s), []byte(want)) {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		http.Error(w, "bad signature", http.StatusUnauthorized)
	}
}

func post(t *testing.T, s *webhook.Signer, url string, body []byte, tamper func(*http.Request)) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	s.Sign(req, body)
	if tamper != nil {
		tamper(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestAReceiverVerifiesTheSignature(t *testing.T) {
	srv := httptest.NewServer(receiver(signed.Add(time.Minute), secret))
	defer srv.Close()
	body := []byte(`{"kind":"notification","id":7,"process_id":"incident-000001","seq":4,"role":"incident-manager","message":"late"}`)
	s := &webhook.Signer{Secrets: [][]byte{secret}, Now: func() time.Time { return signed }}

	t.Run("AcceptsTheSignedBody", func(t *testing.T) {
		if got := post(t, s, srv.URL, body, nil); got != http.StatusNoContent {
			t.Fatalf("status %d", got)
		}
	})
	t.Run("RefusesATamperedBody", func(t *testing.T) {
		got := post(t, s, srv.URL, body, func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(strings.Replace(string(body), "late", "fine", 1)))
			r.ContentLength = int64(len(body))
		})
		if got != http.StatusUnauthorized {
			t.Fatalf("status %d", got)
		}
	})
	t.Run("RefusesAnOldTimestamp", func(t *testing.T) {
		old := &webhook.Signer{Secrets: [][]byte{secret}, Now: func() time.Time { return signed.Add(-10 * time.Minute) }}
		if got := post(t, old, srv.URL, body, nil); got != http.StatusUnauthorized {
			t.Fatalf("status %d", got)
		}
	})
	t.Run("AcceptsEitherSecretWhileRotating", func(t *testing.T) {
		rotating := &webhook.Signer{Secrets: [][]byte{[]byte("a-new-secret-of-at-least-32-bytes!!"), secret}, Now: s.Now}
		if got := post(t, rotating, srv.URL, body, nil); got != http.StatusNoContent {
			t.Fatalf("status %d", got)
		}
	})
	t.Run("NilSignerSignsNothing", func(t *testing.T) {
		req, _ := http.NewRequest("POST", srv.URL, nil)
		(*webhook.Signer)(nil).Sign(req, body)
		if h := req.Header.Get(webhook.SignatureHeader); h != "" {
			t.Fatalf("header %q", h)
		}
	})
}

func TestVerify(t *testing.T) {
	body := []byte(`{"text":"overdue"}`)
	header := webhook.Signature([][]byte{secret}, signed.Unix(), body)
	if !strings.HasPrefix(header, "t=1795942800,v1=") || len(header) != len("t=1795942800,v1=")+64 {
		t.Fatalf("header %q", header)
	}
	for _, tc := range []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"Valid", header, body, signed.Add(4 * time.Minute), nil},
		{"ClockBehind", header, body, signed.Add(-4 * time.Minute), nil},
		{"TamperedBody", header, []byte(`{"text":"all fine"}`), signed, webhook.ErrMismatch},
		{"TooOld", header, body, signed.Add(6 * time.Minute), webhook.ErrTooOld},
		{"OtherSecret", webhook.Signature([][]byte{[]byte("someone-else-entirely-0123456789ab")}, signed.Unix(), body), body, signed, webhook.ErrMismatch},
		{"NoHeader", "", body, signed, webhook.ErrNoSignature},
		{"NoV1", "t=1795942800", body, signed, webhook.ErrNoSignature},
		{"TimestampMoved", strings.Replace(header, "t=1795942800", "t=1795942801", 1), body, signed, webhook.ErrMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := webhook.Verify(tc.header, tc.body, [][]byte{secret}, tc.now, webhook.DefaultTolerance)
			if !errors.Is(err, tc.want) || (err != nil && engine.ErrorCode(err) != engine.EUNAUTHORIZED) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestReadSecrets(t *testing.T) {
	dir := t.TempDir()
	write := func(text string) string {
		f := filepath.Join(dir, "secret")
		os.WriteFile(f, []byte(text), 0o600)
		return f
	}
	got, err := webhook.ReadSecrets(write("# rotated 2026-11-29\nnew-secret-of-at-least-32-bytes-xx\n\n" + string(secret) + "\n"))
	if err != nil || len(got) != 2 || string(got[1]) != string(secret) {
		t.Fatalf("ReadSecrets = %q, %v", got, err)
	}
	for _, bad := range []string{"short\n", "# only a comment\n"} {
		if _, err := webhook.ReadSecrets(write(bad)); engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("ReadSecrets(%q) = %v, want invalid", bad, err)
		}
	}
}
