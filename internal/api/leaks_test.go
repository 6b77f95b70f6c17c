package api

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// FuzzParseLeakReports: any body is a clear 4xx or a list of reports
// that encodes back to what it said, never a panic.
func FuzzParseLeakReports(f *testing.F) {
	f.Add([]byte(`[{"token":"lk_prod_0123456789abcdefghijABCDEFGHIJ012345abcdef","type":"latchkey_api_key","url":"https://github.com/a/b/blob/c/d","source":"content"}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(` [ {"token":"x","extra":{"nested":[1,2]}} , {} ] `))
	f.Add([]byte(`[null]`))
	f.Add([]byte(`[{"token":"\u00e9\ud83d\ude00"}]`))
	f.Add([]byte(`{"token":"x"}`))
	f.Add([]byte(`[{"token":1}]`))
	f.Add([]byte(`[[]]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		reports, err := ParseLeakReports(body)
		if err != nil {
			switch latchkey.ErrorCode(err) {
			case latchkey.EINVALID, latchkey.ETOOLARGE:
			default:
				t.Fatalf("error %v: want EINVALID or ETOOLARGE", err)
			}
			if reports != nil {
				t.Fatalf("reports beside an error")
			}
			return
		}
		if len(reports) > manage.MaxLeakReports {
			t.Fatalf("%d reports: more than the bound", len(reports))
		}
		var again []json.RawMessage
		if err := json.Unmarshal(bytes.TrimSpace(body), &again); err != nil || len(again) != len(reports) {
			t.Fatalf("accepted %q as %d reports, which is not a JSON array of as many (%v)", body, len(reports), err)
		}
	})
}

func TestLeakVerifier(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	doc := func(id string) []byte {
		b, _ := json.Marshal(map[string]any{"public_keys": []any{map[string]any{"key_identifier": id, "key": pemKey, "is_current": true}}})
		return b
	}
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(path, doc("k1"), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := NewLeakVerifier(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	v.now = func() time.Time { return now }
	body := []byte(`[{"token":"x"}]`)
	sum := sha256.Sum256(body)
	sig, _ := ecdsa.SignASN1(rand.Reader, priv, sum[:])
	b64 := base64.StdEncoding.EncodeToString(sig)
	if !v.Verify("k1", b64, body) {
		t.Fatal("a good signature: refused")
	}
	if v.Verify("k1", b64, append(body, ' ')) || v.Verify("k2", b64, body) || v.Verify("k1", "", body) {
		t.Fatal("a bad signature: accepted")
	}
	// GitHub rotates: the operator saves the new document; no restart.
	if err := os.WriteFile(path, doc("k2"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(path, now.Add(time.Minute), now.Add(time.Minute))
	now = now.Add(2 * time.Second)
	if !v.Verify("k2", b64, body) || v.Verify("k1", b64, body) {
		t.Fatal("after the rotation: want k2 only")
	}
	// A broken file keeps the keys last read.
	os.WriteFile(path, []byte("{"), 0o600)
	os.Chtimes(path, now.Add(2*time.Minute), now.Add(2*time.Minute))
	now = now.Add(2 * time.Second)
	if !v.Verify("k2", b64, body) {
		t.Fatal("a broken file dropped the keys")
	}

	for name, bad := range map[string]string{
		"not json":    `{`,
		"no keys":     `{"public_keys":[]}`,
		"not pem":     `{"public_keys":[{"key_identifier":"a","key":"xyz"}]}`,
		"no id":       `{"public_keys":[{"key":` + string(mustJSON(pemKey)) + `}]}`,
		"rsa or p384": `{"public_keys":[{"key_identifier":"a","key":` + string(mustJSON(p384PEM())) + `}]}`,
	} {
		if _, err := ParseLeakVerifierKeys([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewLeakVerifier(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file: accepted")
	}
}

func mustJSON(s string) []byte { b, _ := json.Marshal(s); return b }

func p384PEM() string {
	k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}
