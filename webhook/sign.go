// Package webhook signs what itilflow POSTs to other systems — notifications
// and audit checkpoints to the notification webhook, the calls of webhook
// steps — and verifies such a signature as a receiver does, so that a
// receiver can tell itilflow's requests from anyone else's that reach its
// URL, and a request replayed later from a fresh one.
//
// The header, in the style of Stripe's:
//
//	Itilflow-Signature: t=1795910400,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
//
// t is the Unix time of signing, v1 the hex HMAC-SHA-256 under a shared secret
// of t, a full stop and the body exactly as sent ("1795910400.{…}"). While
// secrets rotate, each secret gives its own v1; a receiver accepts the request
// when one of them matches a secret it holds and t is recent.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/itilflow/itilflow/engine"
)

// SignatureHeader carries the signature of a request's body.
const SignatureHeader = "Itilflow-Signature"

// MinSecretLen is the shortest secret accepted: 32 bytes, the size of the
// HMAC's output, so that guessing the secret is no easier than forging a MAC.
const MinSecretLen = 32

// DefaultTolerance is how old a signature a receiver should accept: long
// enough for clocks that differ a little and a slow network, short enough
// that a captured request cannot be replayed much later.
const DefaultTolerance = 5 * time.Minute

// Signer signs requests with its secrets. A nil *Signer signs nothing: a
// deployment without a secret sends requests as before.
type Signer struct {
	// Secrets sign, newest first; every one gives a v1, so receivers can
	// move to a new secret while the old one still verifies.
	Secrets [][]byte
	// Now is the clock (time.Now when nil); tests set it.
	Now func() time.Time
}

// Sign sets the signature header of req, whose body is body.
func (s *Signer) Sign(req *http.Request, body []byte) {
	if s == nil || len(s.Secrets) == 0 {
		return
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	req.Header.Set(SignatureHeader, Signature(s.Secrets, now().Unix(), body))
}

// Signature is the header's value for a body signed at Unix time t.
func Signature(secrets [][]byte, t int64, body []byte) string {
	var b strings.Builder
	b.WriteString("t=" + strconv.FormatInt(t, 10))
	for _, secret := range secrets {
		b.WriteString(",v1=" + hex.EncodeToString(mac(secret, t, body)))
	}
	return b.String()
}

func mac(secret []byte, t int64, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(t, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify's refusals, all EUNAUTHORIZED: a receiver answers 401 and itilflow
// retries (the request may have been held up, or the secret be rotating).
var (
	ErrNoSignature = &engine.Error{Code: engine.EUNAUTHORIZED, Op: "webhook.Verify", Message: "no " + SignatureHeader + " header with t= and v1="}
	ErrTooOld      = &engine.Error{Code: engine.EUNAUTHORIZED, Op: "webhook.Verify", Message: "the signature's timestamp is outside the tolerance"}
	ErrMismatch    = &engine.Error{Code: engine.EUNAUTHORIZED, Op: "webhook.Verify", Message: "no signature matches the body under the secrets held"}
)

// Verify checks a signature header as a receiver does: the timestamp within
// tolerance of now (either way, for clocks that differ), then one v1 equal to
// the MAC of the body under one of secrets. It returns nil or one of the
// errors above (ErrTooOld wrapped with the times).
func Verify(header string, body []byte, secrets [][]byte, now time.Time, tolerance time.Duration) error {
	var t int64
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return ErrNoSignature
			}
			t = n
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	if t == 0 || len(sigs) == 0 {
		return ErrNoSignature
	}
	if d := now.Sub(time.Unix(t, 0)); d > tolerance || d < -tolerance {
		return &engine.Error{Code: engine.EUNAUTHORIZED, Op: "webhook.Verify", Err: ErrTooOld,
			Message: fmt.Sprintf("signed at %s, %s from now", time.Unix(t, 0).UTC().Format(time.RFC3339), d.Round(time.Second))}
	}
	for _, secret := range secrets {
		want := mac(secret, t, body)
		for _, sig := range sigs {
			if hmac.Equal(sig, want) {
				return nil
			}
		}
	}
	return ErrMismatch
}

// ReadSecrets reads a secret file: one secret a line, newest first, each at
// least MinSecretLen bytes; blank lines and lines starting with # are skipped.
// A secret is used as the bytes of its line, so that a receiver configures
// the same text.
func ReadSecrets(file string) ([][]byte, error) {
	const op = "webhook.ReadSecrets"
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, &engine.Error{Code: engine.EINVALID, Op: op, Message: "cannot read the secret file", Err: err}
	}
	var secrets [][]byte
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(line) < MinSecretLen {
			return nil, &engine.Error{Code: engine.EINVALID, Op: op,
				Message: fmt.Sprintf("%s:%d: a secret of %d bytes; use at least %d (openssl rand -hex 32)", file, i+1, len(line), MinSecretLen)}
		}
		secrets = append(secrets, []byte(line))
	}
	if len(secrets) == 0 {
		return nil, &engine.Error{Code: engine.EINVALID, Op: op, Message: file + " holds no secret"}
	}
	return secrets, nil
}
