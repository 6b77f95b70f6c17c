package api

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// leakService is what the leak report handler uses.
type leakService interface {
	ReportLeaksFromGitHub(ctx context.Context, reports []manage.LeakReport) ([]manage.LeakLabel, error)
	ReportLeaks(ctx context.Context, p latchkey.Principal, reports []manage.LeakReport) ([]manage.LeakLabel, error)
}

// Headers of GitHub's secret-scanning partner requests.
const (
	headerKeyID     = "Github-Public-Key-Identifier"
	headerSignature = "Github-Public-Key-Signature"
)

// maxLeakBody bounds a leak report; GitHub's batches are far smaller.
const maxLeakBody = 1 << 20

// LeakVerifier checks the signatures of GitHub's secret-scanning reports
// against the public keys of a file in exactly the JSON GitHub publishes
// (https://api.github.com/meta/public_keys/secret_scanning):
// {"public_keys": [{"key_identifier", "key" (PEM), "is_current"}]}. The
// file is read again when it changes, so an operator rotating keys saves
// GitHub's new document and restarts nothing.
type LeakVerifier struct {
	path string
	// now throttles the file checks (at most one stat a second).
	now func() time.Time

	mu      sync.Mutex
	checked time.Time
	modTime time.Time
	size    int64
	keys    map[string]*ecdsa.PublicKey
}

// NewLeakVerifier reads the keys of path; an error names what is wrong
// with the file, for the operator.
func NewLeakVerifier(path string) (*LeakVerifier, error) {
	v := &LeakVerifier{path: path, now: time.Now}
	if err := v.reload(); err != nil {
		return nil, err
	}
	return v, nil
}

func (v *LeakVerifier) reload() error {
	fi, err := os.Stat(v.path)
	if err != nil {
		return fmt.Errorf("leak verifier keys: %w", err)
	}
	if fi.ModTime().Equal(v.modTime) && fi.Size() == v.size && v.keys != nil {
		return nil
	}
	b, err := os.ReadFile(v.path)
	if err != nil {
		return fmt.Errorf("leak verifier keys: %w", err)
	}
	keys, err := ParseLeakVerifierKeys(b)
	if err != nil {
		return fmt.Errorf("leak verifier keys %s: %w", v.path, err)
	}
	v.keys, v.modTime, v.size = keys, fi.ModTime(), fi.Size()
	return nil
}

// key returns the public key named id, reading the file again when it
// changed. A file made unreadable or invalid keeps the keys last read.
func (v *LeakVerifier) key(id string) (*ecdsa.PublicKey, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if now := v.now(); now.Sub(v.checked) >= time.Second {
		v.checked = now
		_ = v.reload()
	}
	k, ok := v.keys[id]
	return k, ok
}

// ParseLeakVerifierKeys reads GitHub's public keys document. Every key
// must be an ECDSA P-256 public key in PEM; is_current is informative
// (GitHub signs with current keys, but a report signed just before a
// rotation is still GitHub's).
func ParseLeakVerifierKeys(b []byte) (map[string]*ecdsa.PublicKey, error) {
	var doc struct {
		PublicKeys []struct {
			KeyIdentifier string `json:"key_identifier"`
			Key           string `json:"key"`
			IsCurrent     bool   `json:"is_current"`
		} `json:"public_keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("not GitHub's public keys JSON: %v", err)
	}
	if len(doc.PublicKeys) == 0 {
		return nil, errors.New(`no keys: want {"public_keys": [{"key_identifier": ..., "key": "-----BEGIN PUBLIC KEY-----..."}]}`)
	}
	keys := make(map[string]*ecdsa.PublicKey, len(doc.PublicKeys))
	for i, k := range doc.PublicKeys {
		if k.KeyIdentifier == "" {
			return nil, fmt.Errorf("key %d has no key_identifier", i)
		}
		block, _ := pem.Decode([]byte(k.Key))
		if block == nil {
			return nil, fmt.Errorf("key %s is not PEM", k.KeyIdentifier)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("key %s: %v", k.KeyIdentifier, err)
		}
		ec, ok := pub.(*ecdsa.PublicKey)
		if !ok || ec.Curve != elliptic.P256() {
			return nil, fmt.Errorf("key %s is not an ECDSA P-256 key", k.KeyIdentifier)
		}
		keys[k.KeyIdentifier] = ec
	}
	return keys, nil
}

// Verify checks a report's signature: sig is the base64 of an ASN.1 DER
// ECDSA signature of SHA-256(body) by the key named id.
func (v *LeakVerifier) Verify(id, sig string, body []byte) bool {
	if v == nil || id == "" || sig == "" || len(sig) > 1024 {
		return false
	}
	k, ok := v.key(id)
	if !ok {
		return false
	}
	der, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	sum := sha256.Sum256(body)
	return ecdsa.VerifyASN1(k, sum[:], der)
}

// ParseLeakReports reads a report body: a JSON array of {token, type,
// url, source}. Fields GitHub may add later are ignored; wrong types,
// trailing data and more than manage.MaxLeakReports entries are refused.
func ParseLeakReports(b []byte) ([]manage.LeakReport, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '[' {
		return nil, latchkey.Errorf(latchkey.EINVALID, "the report must be a JSON array of {token, type, url, source}")
	}
	// Count first, so that a huge array is refused before it is decoded.
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "the report is not valid JSON")
	}
	if len(raw) > manage.MaxLeakReports {
		return nil, latchkey.Errorf(latchkey.ETOOLARGE, "a report may hold at most %d tokens", manage.MaxLeakReports)
	}
	out := make([]manage.LeakReport, len(raw))
	for i, m := range raw {
		if m = bytes.TrimSpace(m); len(m) == 0 || m[0] != '{' {
			return nil, latchkey.Errorf(latchkey.EINVALID, "entry %d of the report is not an object", i)
		}
		if err := json.Unmarshal(m, &out[i]); err != nil {
			return nil, latchkey.Errorf(latchkey.EINVALID, "entry %d of the report: token, type, url and source must be strings", i)
		}
	}
	return out, nil
}

// reportLeaks serves POST /v1/leaks: GitHub's secret-scanning partner
// endpoint, signed with GitHub's key, and the same for a workspace's own
// scanners with a management key holding leaks:report. A signature that is
// present decides alone: a bad one is refused even beside a valid key.
func (a *API) reportLeaks(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLeakBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			a.fail(w, r, latchkey.Errorf(latchkey.ETOOLARGE, "the report must be at most 1 MiB"))
			return
		}
		a.fail(w, r, latchkey.Errorf(latchkey.EINVALID, "could not read the report"))
		return
	}
	id, sig := r.Header.Get(headerKeyID), r.Header.Get(headerSignature)
	var (
		p      latchkey.Principal
		github bool
	)
	switch {
	case id != "" || sig != "":
		if !a.leakKeys.Verify(id, sig, body) {
			a.fail(w, r, latchkey.Errorf(latchkey.EUNAUTHORIZED, "the report's GitHub signature does not verify"))
			return
		}
		github = true
	case presentedKey(r) != "":
		c, _, err := a.caller(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if p, err = a.svc.Principal(r.Context(), c, ""); err != nil {
			a.fail(w, r, err)
			return
		}
	default:
		a.fail(w, r, latchkey.Errorf(latchkey.EUNAUTHORIZED, "sign the report as GitHub does, or send a management key holding leaks:report"))
		return
	}
	reports, err := ParseLeakReports(body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var labels []manage.LeakLabel
	if github {
		labels, err = a.svc.ReportLeaksFromGitHub(r.Context(), reports)
	} else {
		labels, err = a.svc.ReportLeaks(r.Context(), p, reports)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, labels)
}
