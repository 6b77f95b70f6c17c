package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/api/apitest"
	"github.com/latchkey/latchkey/internal/token"
)

// githubSigner is a stand-in for GitHub's secret-scanning service: a P-256
// key published in GitHub's public keys JSON, which signs reports.
type githubSigner struct {
	id   string
	priv *ecdsa.PrivateKey
}

func newGitHubSigner(t *testing.T, id string) githubSigner {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return githubSigner{id: id, priv: priv}
}

func (g githubSigner) entry(t *testing.T) map[string]any {
	der, err := x509.MarshalPKIXPublicKey(&g.priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	return map[string]any{"key_identifier": g.id, "key": pemKey, "is_current": true}
}

func (g githubSigner) sign(t *testing.T, body []byte) string {
	sum := sha256.Sum256(body)
	sig, err := ecdsa.SignASN1(rand.Reader, g.priv, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// leakWorld is a server accepting reports signed by github, with a
// validated owner session.
type leakWorld struct {
	s      *testServer
	github githubSigner
	v      *apitest.Validator
	owner  *http.Client
	anon   *http.Client
	wsURL  string
}

func newLeakWorld(t *testing.T) *leakWorld {
	t.Helper()
	w := &leakWorld{github: newGitHubSigner(t, "bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c")}
	retired := newGitHubSigner(t, "ab7d7a36d3a2c5f8e2b7e1e5b0e4f0c3a9d6b2c1e8f7a6b5c4d3e2f1a0b9c8d7")
	doc, _ := json.Marshal(map[string]any{"public_keys": []any{retired.entry(t), w.github.entry(t)}})
	keys := filepath.Join(t.TempDir(), "github-secret-scanning.json")
	if err := os.WriteFile(keys, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	w.s = startServerWith(t, func(c *Config) { c.LeakVerifierKeys = keys })
	w.v = apitest.New(t)
	w.owner = w.v.Client(w.s.login(t))
	w.anon = w.v.Client(&http.Client{Timeout: 10 * time.Second})
	w.wsURL = w.s.URL + "/v1/workspaces/" + w.s.WorkspaceID
	return w
}

type leak struct {
	Token  string `json:"token"`
	Type   string `json:"type"`
	URL    string `json:"url"`
	Source string `json:"source"`
}

func leakOf(tok string) leak {
	return leak{Token: tok, Type: "latchkey_api_key", URL: "https://github.com/acme/app/blob/1f2e/config/prod.yml", Source: "content"}
}

// report posts leaks signed by g (nil: unsigned), with extra headers.
func (w *leakWorld) report(t *testing.T, g *githubSigner, leaks []leak, headers ...string) exchange {
	t.Helper()
	body, _ := json.Marshal(leaks)
	if g != nil {
		headers = append(headers, "Github-Public-Key-Identifier: "+g.id, "Github-Public-Key-Signature: "+g.sign(t, body))
	}
	return sendLeaks(t, w.anon, w.s.URL, body, headers...)
}

func labels(t *testing.T, e exchange) []string {
	t.Helper()
	var out []struct {
		Label string `json:"label"`
	}
	if err := json.Unmarshal(e.raw, &out); err != nil {
		t.Fatalf("labels: %v in %s", err, e.raw)
	}
	var l []string
	for _, o := range out {
		l = append(l, o.Label)
	}
	return l
}

// lookAlike is tok with its last character changed: the pattern matches,
// the checksum does not.
func lookAlike(tok string) string {
	last := tok[len(tok)-1]
	c := byte('A')
	if last == 'A' {
		c = 'B'
	}
	return tok[:len(tok)-1] + string(c)
}

func TestLeakReportSignedByGitHubRevokes(t *testing.T) {
	w := newLeakWorld(t)
	keyID, secret := acctCreateKey(t, w.owner, w.wsURL, map[string]any{"name": "Deploy bot", "callback_url": "https://hooks.example.com/latchkey"})
	other, otherSecret := acctCreateKey(t, w.owner, w.wsURL, map[string]any{"name": "Untouched"})
	unknown := freshToken(t)
	leaks := []leak{leakOf(secret), leakOf(lookAlike(secret)), leakOf(unknown), leakOf("lk_prod_short")}

	got := w.report(t, &w.github, leaks)
	if got.status != 200 {
		t.Fatalf("report: %d %s", got.status, got.raw)
	}
	if l, want := labels(t, got), []string{"true_positive", "false_positive", "false_positive", "false_positive"}; !slices.Equal(l, want) {
		t.Fatalf("labels: got %v, want %v", l, want)
	}
	if status, code := acctVerify(t, w.s.URL, secret); status != 401 || code != "key_revoked" {
		t.Fatalf("the leaked key: got %d %s, want 401 key_revoked", status, code)
	}
	if status, code := acctVerify(t, w.s.URL, otherSecret); status != 200 {
		t.Fatalf("another key of the workspace: got %d %s, want valid", status, code)
	}
	evs := leakEvents(t, w.owner, w.wsURL, "key.leaked")
	if len(evs) != 1 || evs[0]["target"] != keyID || acctStr(evs[0], "data", "url") != leakOf(secret).URL ||
		acctStr(evs[0], "data", "action") != "revoked" || acctStr(evs[0], "actor", "id") != "github" {
		t.Fatalf("key.leaked events: got %v, want one on %s from github with the url", evs, keyID)
	}
	if revoked := leakEvents(t, w.owner, w.wsURL, "key.revoked"); len(revoked) != 1 || revoked[0]["target"] != keyID {
		t.Fatalf("key.revoked events: got %v, want one on %s", revoked, keyID)
	}
	ctx := context.Background()
	mails, _, err := w.s.Main.store.Mails(ctx, w.s.WorkspaceID, 50, "")
	if err != nil || len(mails) != 1 || mails[0].To != w.s.OwnerEmail || !strings.Contains(mails[0].Body, keyID) {
		t.Fatalf("mails: got %d (%v), want one to the owner naming the key", len(mails), err)
	}
	hooks, _, _ := w.s.Main.store.WebhookDeliveries(ctx, w.s.WorkspaceID, 50, "")
	var types []string
	for _, d := range hooks {
		types = append(types, d.Type)
	}
	if !slices.Contains(types, "key.leaked") || !slices.Contains(types, "key.revoked") {
		t.Fatalf("webhooks: got %v, want key.leaked and key.revoked", types)
	}
	for _, where := range [][]byte{w.eventsRaw(t), []byte(mails[0].Body), hooks[0].Payload} {
		if bytes.Contains(where, []byte(secret)) || bytes.Contains(where, []byte(secret[len(secret)-20:])) {
			t.Fatalf("the leaked secret is stored: %s", where)
		}
	}

	// The replay: GitHub sends the same report again.
	again := w.report(t, &w.github, leaks)
	if again.status != 200 || !slices.Equal(labels(t, again), labels(t, got)) {
		t.Fatalf("replay: got %d %s, want the same labels", again.status, again.raw)
	}
	if evs := leakEvents(t, w.owner, w.wsURL, "key.leaked"); len(evs) != 1 {
		t.Fatalf("key.leaked after the replay: got %d, want 1", len(evs))
	}
	if mails, _, _ := w.s.Main.store.Mails(ctx, w.s.WorkspaceID, 50, ""); len(mails) != 1 {
		t.Fatalf("mails after the replay: got %d, want 1", len(mails))
	}
	_ = other
}

func (w *leakWorld) eventsRaw(t *testing.T) []byte {
	t.Helper()
	return eventsAnswer(t, w.owner, w.wsURL, "").raw
}

// eventsAnswer reads the workspace's events with action ("" for all). The
// exchange is not validated: the audit chain's fields are documented on
// another branch, and what these tests check is the leak events' content.
func eventsAnswer(t *testing.T, hc *http.Client, wsURL, action string) exchange {
	t.Helper()
	req, err := http.NewRequestWithContext(apitest.WithoutValidation(context.Background()), "GET", wsURL+"/events?limit=200&action="+action, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	ex := exchange{status: resp.StatusCode, raw: raw}
	if err := json.Unmarshal(raw, &ex.body); err != nil || ex.status != 200 {
		t.Fatalf("events: %d %s", resp.StatusCode, raw)
	}
	return ex
}

// leakEvents lists the workspace's events with the given action.
func leakEvents(t *testing.T, hc *http.Client, wsURL, action string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, e := range eventsAnswer(t, hc, wsURL, action).body["data"].([]any) {
		out = append(out, acctObj(e))
	}
	return out
}

func TestLeakReportBadSignatureRefused(t *testing.T) {
	w := newLeakWorld(t)
	_, secret := acctCreateKey(t, w.owner, w.wsURL, map[string]any{"name": "Deploy bot"})
	leaks := []leak{leakOf(secret)}
	body, _ := json.Marshal(leaks)
	impostor := newGitHubSigner(t, w.github.id) // GitHub's key id, another private key
	stranger := newGitHubSigner(t, "not-a-github-key")
	otherBody, _ := json.Marshal([]leak{leakOf("lk_prod_x")})
	mgmt := w.s.managementKey(t, "keys:read")
	cases := []struct {
		name    string
		headers []string
	}{
		{"unsigned", nil},
		{"wrong key, GitHub's id", []string{"Github-Public-Key-Identifier: " + w.github.id, "Github-Public-Key-Signature: " + impostor.sign(t, body)}},
		{"unknown key identifier", []string{"Github-Public-Key-Identifier: " + stranger.id, "Github-Public-Key-Signature: " + stranger.sign(t, body)}},
		{"signature of another body", []string{"Github-Public-Key-Identifier: " + w.github.id, "Github-Public-Key-Signature: " + w.github.sign(t, otherBody)}},
		{"signature without identifier", []string{"Github-Public-Key-Signature: " + w.github.sign(t, body)}},
		{"identifier without signature", []string{"Github-Public-Key-Identifier: " + w.github.id}},
		{"not base64", []string{"Github-Public-Key-Identifier: " + w.github.id, "Github-Public-Key-Signature: %%%"}},
		{"bad signature beside a key", []string{"Github-Public-Key-Identifier: " + w.github.id, "Github-Public-Key-Signature: " + impostor.sign(t, body), "Authorization: Bearer " + mgmt}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := send(t, w.anon, "POST", w.s.URL+"/v1/leaks", body, c.headers...)
			expect(t, c.name, got, 401, "unauthenticated")
		})
	}
	if status, code := acctVerify(t, w.s.URL, secret); status != 200 {
		t.Fatalf("the key after refused reports: got %d %s, want valid", status, code)
	}
	if evs := leakEvents(t, w.owner, w.wsURL, "key.leaked"); len(evs) != 0 {
		t.Fatalf("key.leaked: got %d, want 0", len(evs))
	}
}

func TestLeakReportBadBodies(t *testing.T) {
	w := newLeakWorld(t)
	sign := func(body []byte) []string {
		return []string{"Github-Public-Key-Identifier: " + w.github.id, "Github-Public-Key-Signature: " + w.github.sign(t, body)}
	}
	many := make([]leak, 1001)
	for i := range many {
		many[i] = leakOf("x")
	}
	manyBody, _ := json.Marshal(many)
	huge := append([]byte(`[{"token":"`), bytes.Repeat([]byte("a"), 1<<20)...)
	huge = append(huge, `"}]`...)
	for _, c := range []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"object", []byte(`{"token":"x"}`), 400, "invalid_request"},
		{"not json", []byte(`[{"token":`), 400, "invalid_request"},
		{"number token", []byte(`[{"token":42}]`), 400, "invalid_request"},
		{"array of strings", []byte(`["lk_prod_x"]`), 400, "invalid_request"},
		{"trailing data", []byte(`[] []`), 400, "invalid_request"},
		{"too many tokens", manyBody, 413, "body_too_large"},
		{"too large", huge, 413, "body_too_large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := send(t, w.v.Client(nil), "POST", w.s.URL+"/v1/leaks", c.body, sign(c.body)...)
			expect(t, c.name, got, c.status, c.code)
		})
	}
	empty := sendLeaks(t, w.anon, w.s.URL, []byte(`[]`), sign([]byte(`[]`))...)
	if empty.status != 200 || string(bytes.TrimSpace(empty.raw)) != "[]" {
		t.Fatalf("an empty report: got %d %s, want 200 []", empty.status, empty.raw)
	}
}

func TestLeakNotifyModeKeepsTheKey(t *testing.T) {
	w := newLeakWorld(t)
	if got := send(t, w.owner, "PATCH", w.wsURL+"/settings", map[string]any{"on_leak": "notify"}); got.status != 200 || acctStr(got.body, "on_leak") != "notify" {
		t.Fatalf("settings: %d %s", got.status, got.raw)
	}
	keyID, secret := acctCreateKey(t, w.owner, w.wsURL, map[string]any{"name": "Deploy bot"})
	got := w.report(t, &w.github, []leak{leakOf(secret)})
	if got.status != 200 || !slices.Equal(labels(t, got), []string{"true_positive"}) {
		t.Fatalf("report: %d %s", got.status, got.raw)
	}
	if status, code := acctVerify(t, w.s.URL, secret); status != 200 {
		t.Fatalf("notify mode: got %d %s, want the key still valid", status, code)
	}
	evs := leakEvents(t, w.owner, w.wsURL, "key.leaked")
	if len(evs) != 1 || evs[0]["target"] != keyID || acctStr(evs[0], "data", "action") != "notified" {
		t.Fatalf("key.leaked: got %v, want one notified", evs)
	}
	if revoked := leakEvents(t, w.owner, w.wsURL, "key.revoked"); len(revoked) != 0 {
		t.Fatalf("key.revoked: got %v, want none", revoked)
	}
	mails, _, _ := w.s.Main.store.Mails(context.Background(), w.s.WorkspaceID, 50, "")
	if len(mails) != 1 || !strings.Contains(mails[0].Body, "STILL WORKS") {
		t.Fatalf("mails: got %d, want one saying the key still works", len(mails))
	}
	// Switching to revoke later does not act on the leak reported before.
	send(t, w.owner, "PATCH", w.wsURL+"/settings", map[string]any{"on_leak": "revoke"})
	w.report(t, &w.github, []leak{leakOf(secret)})
	if status, _ := acctVerify(t, w.s.URL, secret); status != 200 {
		t.Fatalf("replay after the switch: got %d, want the key still valid (acted once)", status)
	}
	bad := send(t, w.owner, "PATCH", w.wsURL+"/settings", map[string]any{"on_leak": "delete"})
	expect(t, "on_leak delete", bad, 400, "invalid_request")
}

// TestAttackScannerKeyReportsAnotherWorkspacesToken: Evil Corp's own
// scanner key (leaks:report) reports a token of Acme's. Acme's key keeps
// working, nothing is recorded in Acme, and the answer is the one an
// unknown token gets, so Evil Corp learns nothing.
func TestAttackScannerKeyReportsAnotherWorkspacesToken(t *testing.T) {
	w := newAttackWorld(t)
	_, victim := acctCreateKey(t, w.acme, w.acmeURL, map[string]any{"name": "Acme prod"})
	_, evilScanner := acctCreateKey(t, w.evil, w.evilURL, map[string]any{"name": "scanner", "type": "management", "scopes": []string{"leaks:report"}})
	_, evilOwn := acctCreateKey(t, w.evil, w.evilURL, map[string]any{"name": "Evil prod"})
	unknown := freshToken(t)
	anon := w.v.Client(nil)
	post := func(toks ...string) exchange {
		var leaks []leak
		for _, tok := range toks {
			leaks = append(leaks, leakOf(tok))
		}
		b, _ := json.Marshal(leaks)
		return sendLeaks(t, anon, w.s.URL, b, "Authorization: Bearer "+evilScanner)
	}
	victimAnswer, unknownAnswer := post(victim), post(unknown)
	if victimAnswer.status != 200 || !slices.Equal(labels(t, victimAnswer), []string{"false_positive"}) {
		t.Fatalf("another workspace's token: got %d %s, want false_positive", victimAnswer.status, victimAnswer.raw)
	}
	if strings.ReplaceAll(string(victimAnswer.raw), victim, "") != strings.ReplaceAll(string(unknownAnswer.raw), unknown, "") {
		t.Fatalf("the answers tell a real foreign token from an unknown one: %s vs %s", victimAnswer.raw, unknownAnswer.raw)
	}
	if status, code := acctVerify(t, w.s.URL, victim); status != 200 {
		t.Fatalf("the victim's key: got %d %s, want valid", status, code)
	}
	if evs := leakEvents(t, w.acme, w.acmeURL, "key.leaked"); len(evs) != 0 {
		t.Fatalf("events in the victim's workspace: got %v, want none", evs)
	}
	// Its own workspace's token is acted on.
	if own := post(evilOwn); !slices.Equal(labels(t, own), []string{"true_positive"}) {
		t.Fatalf("own token: got %s, want true_positive", own.raw)
	}
	if status, code := acctVerify(t, w.s.URL, evilOwn); status != 401 || code != "key_revoked" {
		t.Fatalf("own leaked key: got %d %s, want revoked", status, code)
	}
	evs := leakEvents(t, w.evil, w.evilURL, "key.leaked")
	if len(evs) != 1 || acctStr(evs[0], "actor", "type") != "key" {
		t.Fatalf("own key.leaked: got %v, want one by the scanner key", evs)
	}
}

// TestAttackLeakReportWithoutTheScope: a management key without
// leaks:report, a product key, a session and nothing at all may not
// report, and a member cannot mint a scanner key.
func TestAttackLeakReportWithoutTheScope(t *testing.T) {
	w := newPrivWorld(t)
	_, victim := acctCreateKey(t, w.owner, w.wsURL, map[string]any{"name": "prod"})
	body := []leak{leakOf(victim)}
	anon := w.v.Client(nil)
	reader := w.s.managementKey(t, "keys:read", "keys:write")
	_, product := acctCreateKey(t, w.owner, w.wsURL, map[string]any{"name": "product"})
	expect(t, "management key without leaks:report", send(t, anon, "POST", w.s.URL+"/v1/leaks", body, "Authorization: Bearer "+reader), 403, "forbidden")
	expect(t, "product key", send(t, anon, "POST", w.s.URL+"/v1/leaks", body, "X-API-Key: "+product), 401, "unauthenticated")
	expect(t, "session", send(t, w.owner, "POST", w.s.URL+"/v1/leaks", body), 401, "unauthenticated")
	expect(t, "anonymous", send(t, anon, "POST", w.s.URL+"/v1/leaks", body), 401, "unauthenticated")
	expect(t, "GitHub signature with no keys configured", send(t, anon, "POST", w.s.URL+"/v1/leaks", body,
		"Github-Public-Key-Identifier: x", "Github-Public-Key-Signature: MEUCIQ=="), 401, "unauthenticated")
	made := send(t, w.meg, "POST", w.wsURL+"/keys", map[string]any{"name": "scanner", "type": "management", "scopes": []string{"leaks:report"}})
	if made.status/100 == 2 {
		t.Fatalf("a member minted a scanner key: %d %s", made.status, made.raw)
	}
	if status, _ := acctVerify(t, w.s.URL, victim); status != 200 {
		t.Fatalf("the victim's key: got %d, want valid", status)
	}
}

// TestLeakReportOfLookAlikes: look-alikes of a real secret (one character
// changed) are all false_positive and change nothing. That they cost no
// lookup is held in internal/manage's TestLeakBadChecksumCostsNoLookup.
func TestLeakReportOfLookAlikes(t *testing.T) {
	w := newLeakWorld(t)
	_, secret := acctCreateKey(t, w.owner, w.wsURL, map[string]any{"name": "Deploy bot"})
	var leaks []leak
	for i := range 50 {
		// The last character (part of the checksum) changed, never to itself.
		if alike := fmt.Sprintf("%s%c", secret[:len(secret)-1], 'a'+byte(i%26)); alike != secret {
			leaks = append(leaks, leakOf(alike))
		}
	}
	got := w.report(t, &w.github, leaks)
	for i, l := range labels(t, got) {
		if l != "false_positive" {
			t.Fatalf("look-alike %d: got %s, want false_positive", i, l)
		}
	}
	if status, _ := acctVerify(t, w.s.URL, secret); status != 200 {
		t.Fatalf("the real key: got %d, want valid", status)
	}
}

// sendLeaks posts a report: send, for an answer that is an array.
func sendLeaks(t *testing.T, hc *http.Client, base string, body []byte, headers ...string) exchange {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/v1/leaks", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	ex := exchange{status: resp.StatusCode, header: resp.Header, raw: raw}
	if bytes.HasPrefix(raw, []byte("{")) {
		if err := json.Unmarshal(raw, &ex.body); err != nil {
			t.Fatalf("answer is not JSON: %s", raw)
		}
	}
	return ex
}

// freshToken is a well-formed token of no key.
func freshToken(t *testing.T) string {
	t.Helper()
	f, _ := token.NewFormat(token.DefaultPrefix)
	tok, _, err := f.New(rand.Reader, latchkey.Production)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
