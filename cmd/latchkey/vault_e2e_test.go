package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/vault"
)

// TestVaultAuthorizationGrid checks every vault row of the table through
// the API, with a vault whose reveal list names one member only.
func TestVaultAuthorizationGrid(t *testing.T) {
	w := newAuthzWorld(t)
	ctx := context.Background()
	for _, scope := range []string{"vaults:write"} {
		_, secret, err := w.svc.CreateKey(ctx, w.as["owner"], w.s.WorkspaceID, manage.CreateKey{Name: "mk " + scope, Type: latchkey.TypeManagement, Scopes: []string{scope}})
		if err != nil {
			t.Fatal(err)
		}
		w.clients["mk:"+scope] = &http.Client{}
		w.headers["mk:"+scope] = []string{"Authorization: Bearer " + secret}
	}
	ws := "/v1/workspaces/" + w.s.WorkspaceID
	owner := w.clients["owner"]
	mk := func(t *testing.T, path, body string) map[string]any {
		t.Helper()
		e := send(t, owner, "POST", w.s.URL+path, body)
		if e.status != 201 {
			t.Fatalf("POST %s: %d %s", path, e.status, e.raw)
		}
		return e.body
	}
	team := mk(t, ws+"/vaults", `{"name":"Team"}`) // owners, super admins, admins
	one := mk(t, ws+"/vaults", fmt.Sprintf(`{"name":"Only member","reveal_members":[%q]}`, w.as["member"].UserID))
	teamSec := mk(t, ws+"/vaults/"+team["id"].(string)+"/secrets", `{"name":"db","value":"team-value-9f2c"}`)
	oneSec := mk(t, ws+"/vaults/"+one["id"].(string)+"/secrets", `{"name":"db","value":"member-value-7d1e"}`)
	teamReveal := ws + "/vaults/" + team["id"].(string) + "/secrets/" + teamSec["id"].(string) + "/reveal"
	oneReveal := ws + "/vaults/" + one["id"].(string) + "/secrets/" + oneSec["id"].(string) + "/reveal"
	reason := `{"reason":"rotating the database password"}`

	cases := []struct {
		who, method, path, body string
		want                    int
	}{
		{"owner", "POST", teamReveal, reason, 200},
		{"super_admin", "POST", teamReveal, reason, 200},
		{"admin", "POST", teamReveal, reason, 200},
		{"member", "POST", teamReveal, reason, 404}, // not listed: the vault is not even visible
		{"member", "GET", ws + "/vaults/" + team["id"].(string), "", 404},
		{"member", "POST", oneReveal, reason, 200},  // listed by id
		{"member2", "POST", oneReveal, reason, 404}, // another member, not listed
		{"admin", "POST", oneReveal, reason, 403},   // sees the vault, not in its reveal list
		{"admin", "GET", ws + "/vaults/" + one["id"].(string), "", 200},
		{"operator", "POST", teamReveal, reason, 403}, // operators never reveal
		{"operator", "GET", ws + "/vaults", "", 403},
		{"mk:vaults:read", "POST", teamReveal, reason, 200},
		{"mk:vaults:read", "POST", ws + "/vaults", `{"name":"x"}`, 403},
		{"mk:keys:read", "POST", teamReveal, reason, 403},
		{"mk:keys:write", "GET", ws + "/vaults", "", 403},
		{"mk:vaults:write", "POST", ws + "/vaults/" + team["id"].(string) + "/secrets", `{"name":"by key","value":"v"}`, 201},
		{"mk:vaults:write", "POST", teamReveal, reason, 403},
		{"admin", "POST", ws + "/vaults/" + team["id"].(string) + "/secrets", `{"name":"by admin","value":"v"}`, 201},
		{"member", "POST", ws + "/vaults/" + one["id"].(string) + "/secrets", `{"name":"by member","value":"v"}`, 403},
		{"member", "DELETE", ws + "/vaults/" + one["id"].(string), "", 403},
		{"anonymous", "POST", teamReveal, reason, 401},
		{"owner", "POST", teamReveal, `{"reason":""}`, 400},
		{"owner", "POST", teamReveal, `{}`, 400},
		{"owner", "POST", teamReveal, `{"reason":"x","value":"smuggled"}`, 400},
		{"owner", "POST", ws + "/vaults/vlt_nope/secrets/sec_nope/reveal", reason, 404},
	}
	for _, c := range cases {
		e := w.do(t, c.who, c.method, c.path, c.body)
		if e.status != c.want {
			t.Errorf("%s %s %s: got %d, want %d: %s", c.who, c.method, c.path, e.status, c.want, e.raw)
		}
		if c.want != 200 && (bytes.Contains(e.raw, []byte("team-value")) || bytes.Contains(e.raw, []byte("member-value"))) {
			t.Errorf("%s %s: a refused call answered the value: %s", c.who, c.path, e.raw)
		}
	}
	// Another workspace's owner, with A's ids in the path and in its own.
	bOwner := loginAs(t, w.s, "owner-b@example.com", "correct horse battery")
	for _, path := range []string{teamReveal, strings.Replace(teamReveal, w.s.WorkspaceID, w.other, 1)} {
		if e := send(t, bOwner, "POST", w.s.URL+path, reason); e.status != 404 {
			t.Errorf("another workspace's owner on %s: got %d, want 404: %s", path, e.status, e.raw)
		}
	}
	// The reveals are on record with actor, IP and reason.
	evs := send(t, owner, "GET", w.s.URL+ws+"/events?action=secret.revealed", nil)
	data, _ := evs.body["data"].([]any)
	if len(data) != 5 {
		t.Fatalf("secret.revealed events: got %d, want 5 (one per allowed reveal): %s", len(data), evs.raw)
	}
	ev := data[0].(map[string]any)
	if ev["ip"] == "" || ev["data"].(map[string]any)["reason"] != "rotating the database password" || bytes.Contains(evs.raw, []byte("value-")) {
		t.Errorf("reveal event: %v", ev)
	}
}

// TestVaultValueNeverInClear saves a key's secret and a typed secret, then
// searches every file of the data directory for either value; copies a
// ciphertext to another row and expects it not to decrypt; and rotates the
// master key while reveals and writes run.
func TestVaultValueNeverInClear(t *testing.T) {
	s := startServer(t)
	hc := s.login(t)
	ws := "/v1/workspaces/" + s.WorkspaceID
	var v struct{ ID string }
	if st := s.call(t, hc, "POST", ws+"/vaults", map[string]any{"name": "Keys"}, &v); st != 201 {
		t.Fatalf("create vault: %d", st)
	}
	var created struct {
		Key    struct{ ID string }
		Secret string
	}
	if st := s.call(t, hc, "POST", ws+"/keys", map[string]any{"name": "billing", "save_to_vault": map[string]string{"vault_id": v.ID}}, &created); st != 201 {
		t.Fatalf("create key with save_to_vault: %d", st)
	}
	typed := "plain-marker-" + fmt.Sprint(time.Now().UnixNano())
	var sec struct{ ID string }
	if st := s.call(t, hc, "POST", ws+"/vaults/"+v.ID+"/secrets", map[string]any{"name": "typed", "value": typed}, &sec); st != 201 {
		t.Fatalf("create secret: %d", st)
	}
	var vw struct {
		Secrets []struct {
			ID    string
			KeyID string `json:"key_id"`
		}
	}
	s.call(t, hc, "GET", ws+"/vaults/"+v.ID, nil, &vw)
	var keySecret string
	for _, x := range vw.Secrets {
		if x.KeyID == created.Key.ID {
			keySecret = x.ID
		}
	}
	if keySecret == "" {
		t.Fatalf("the key's secret is not in the vault: %+v", vw)
	}
	reveal := func(t *testing.T, id string) (int, string) {
		var out struct{ Value string }
		st := s.call(t, hc, "POST", ws+"/vaults/"+v.ID+"/secrets/"+id+"/reveal", map[string]string{"reason": "test"}, &out)
		return st, out.Value
	}
	if st, got := reveal(t, keySecret); st != 200 || got != created.Secret {
		t.Fatalf("reveal of the key's secret: %d %q", st, got)
	}
	// A reset replaces the saved secret.
	var reset struct{ Secret string }
	if st := s.call(t, hc, "POST", ws+"/keys/"+created.Key.ID+"/reset", map[string]any{}, &reset); st != 200 {
		t.Fatalf("reset: %d", st)
	}
	if st, got := reveal(t, keySecret); st != 200 || got != reset.Secret {
		t.Fatalf("after reset the vault holds %q (%d), want the new secret", got, st)
	}

	searchDataDir(t, s.DataDir, []string{created.Secret, reset.Secret, typed})

	// A database writer copies the typed secret's sealed value into
	// another row: it must not decrypt there.
	ctx := context.Background()
	st := s.Main.store
	orig, err := st.VaultSecret(ctx, s.WorkspaceID, v.ID, sec.ID)
	if err != nil {
		t.Fatal(err)
	}
	moved := &latchkey.VaultSecret{ID: "sec_01J00000000000000000000000", WorkspaceID: s.WorkspaceID, VaultID: v.ID, Name: "moved",
		CreatedAt: orig.CreatedAt, UpdatedAt: orig.UpdatedAt, Sealed: orig.Sealed}
	if err := st.CreateSecret(ctx, moved, latchkey.Event{ID: "evt_01J00000000000000000000000", WorkspaceID: s.WorkspaceID, At: time.Now(), Action: "test.moved", Actor: latchkey.Actor{Type: latchkey.ActorSystem}}); err != nil {
		t.Fatal(err)
	}
	if code, got := reveal(t, moved.ID); code != 500 || got != "" {
		t.Fatalf("reveal of a moved ciphertext: %d %q, want 500 and no value", code, got)
	}

	// Rotation under load: reveals and writes run while every data key is
	// re-wrapped with a new master key.
	newURL, _ := vault.NewLocalURL(nil)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failures atomic.Int64
	var written sync.Map
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if g == 0 {
					val := fmt.Sprintf("load-%d", i)
					var out struct{ ID string }
					if code := s.call(t, hc, "POST", ws+"/vaults/"+v.ID+"/secrets", map[string]any{"name": val, "value": val}, &out); code != 201 {
						failures.Add(1)
						continue
					}
					written.Store(out.ID, val)
				} else if code, got := reveal(t, sec.ID); code != 200 || got != typed {
					failures.Add(1)
				}
			}
		}()
	}
	var out bytes.Buffer
	n, err := rotateMaster(ctx, st, storeFlags{DataDir: s.DataDir}, "", nil, newURL, 2*vaultRefresh+500*time.Millisecond, func(f string, a ...any) { fmt.Fprintf(&out, f+"\n", a...) })
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("rotateMaster: %v (%s)", err, out.String())
	}
	if failures.Load() != 0 {
		t.Fatalf("%d reveals or writes failed during the rotation", failures.Load())
	}
	if n < 3 {
		t.Fatalf("re-wrapped %d data keys, want at least the 3 written before", n)
	}
	left, _ := st.SecretsNotWrappedBy(ctx, vault.KeeperID(newURL), 100)
	if len(left) != 0 {
		// Written by a server that had not yet learnt the new keeper,
		// after the sweep: a second run finishes them.
		if _, err := rotateMaster(ctx, st, storeFlags{DataDir: s.DataDir}, "", nil, newURL, 0, func(string, ...any) {}); err != nil {
			t.Fatal(err)
		}
		if left, _ = st.SecretsNotWrappedBy(ctx, vault.KeeperID(newURL), 100); len(left) != 0 {
			t.Fatalf("%d secrets still under the old keeper", len(left))
		}
	}
	count := 0
	written.Range(func(id, val any) bool {
		count++
		if code, got := reveal(t, id.(string)); code != 200 || got != val {
			t.Errorf("secret written during the rotation: %d %q, want %q", code, got, val)
		}
		return true
	})
	if count == 0 {
		t.Fatal("no write ran during the rotation")
	}
	// Only the new key is needed from now on: a keyring of it alone opens
	// every secret.
	only, err := vault.New(ctx, vault.Options{}, newURL)
	if err != nil {
		t.Fatal(err)
	}
	defer only.Close()
	got, err := st.VaultSecret(ctx, s.WorkspaceID, v.ID, sec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if val, err := only.Open(ctx, got.Sealed, vault.AAD(got.WorkspaceID, got.VaultID, got.ID)); err != nil || string(val) != typed {
		t.Fatalf("open with the new key alone: %q, %v", val, err)
	}
	searchDataDir(t, s.DataDir, []string{typed})
}

// searchDataDir fails if any file under dir holds one of values.
func searchDataDir(t *testing.T, dir string, values []string) {
	t.Helper()
	files := 0
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		files++
		for _, v := range values {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s holds a vault value in clear", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 2 {
		t.Fatalf("searched %d files: the data directory is not where the store is", files)
	}
}
