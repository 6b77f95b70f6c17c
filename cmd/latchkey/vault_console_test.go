package main

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/api/apitest"
)

// consoleForm posts form to the console as a browser would and returns
// the final status and page.
func consoleForm(t *testing.T, hc *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := hc.PostForm(u, form)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func consoleGet(t *testing.T, hc *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var (
	vaultIDIn  = regexp.MustCompile(`/vaults/(vlt_[0-9A-Z]{26})`)
	secretIn   = regexp.MustCompile(`<code id="secret" class="secret-value"[^>]*>([^<]+)</code>`)
	saveFormIn = regexp.MustCompile(`action="[^"]*/keys/(key_[0-9A-Z]{26})/save-to-vault"`)
)

// "Save in vault" on the page that shows a new key's secret once, the
// Vaults page, and a reveal with a reason, through the console's forms;
// then what a wrong secret, a member the vault does not name and another
// workspace's owner get.
func TestConsoleSaveInVaultAndReveal(t *testing.T) {
	t.Parallel()
	w := newPrivWorld(t)
	s := w.s
	owner := s.login(t)
	base := s.URL + "/w/" + s.WorkspaceID

	status, page := consoleForm(t, owner, base+"/vaults", url.Values{"name": {"Team"}, "description": {"CI secrets"}})
	m := vaultIDIn.FindStringSubmatch(page)
	if status != 200 || m == nil || !strings.Contains(page, "The vault was created.") {
		t.Fatalf("create a vault: %d, vault id %v", status, m)
	}
	vaultID := m[1]

	wizard := url.Values{"name": {"CI deploy"}, "type": {"public_api"}, "environment": {"production"}, "expires": {"30d"}, "scope": {"items:read"}}
	status, page = consoleForm(t, owner, base+"/keys", wizard)
	sec, key := secretIn.FindStringSubmatch(page), saveFormIn.FindStringSubmatch(page)
	if status != 200 || sec == nil || key == nil || !strings.Contains(page, "Save in Team") {
		t.Fatalf("the secret's page: %d, secret found %v, save form %v:\n%s", status, sec != nil, key != nil, page)
	}
	secret, keyID := sec[1], key[1]
	save := base + "/keys/" + keyID + "/save-to-vault"

	status, page = consoleForm(t, owner, save, url.Values{"secret": {secret}, "vault_id": {vaultID}})
	if status != 200 || !strings.Contains(page, "Save your API key in Team?") {
		t.Fatalf("save in vault asks to confirm: %d", status)
	}
	// A made-up value under the key's name is refused, confirmed or not.
	other := "lk_prod_" + strings.Repeat("A", 40)
	if status, page = consoleForm(t, owner, save, url.Values{"secret": {other}, "vault_id": {vaultID}, "confirm": {"yes"}}); status != 422 || !strings.Contains(page, "not the key") {
		t.Errorf("saving a value that is not the key's secret: got %d, want 422 saying so", status)
	}
	status, page = consoleForm(t, owner, save, url.Values{"secret": {secret}, "vault_id": {vaultID}, "confirm": {"yes"}})
	if status != 200 || !strings.Contains(page, "saved in the vault") {
		t.Fatalf("save in vault: %d", status)
	}
	if status, page = consoleForm(t, owner, save, url.Values{"secret": {secret}, "vault_id": {vaultID}, "confirm": {"yes"}}); status != 422 || !strings.Contains(page, "kept already") {
		t.Errorf("saving the same key twice: got %d, want 422 saying it is kept already", status)
	}

	status, page = consoleGet(t, owner, base+"/vaults/"+vaultID)
	secretPath := regexp.MustCompile(`/vaults/` + vaultID + `/secrets/(sec_[0-9A-Z]{26})/reveal`).FindStringSubmatch(page)
	if status != 200 || secretPath == nil || !strings.Contains(page, "CI deploy ("+keyID+")") || strings.Contains(page, secret) {
		t.Fatalf("the vault page: %d, lists the key's secret %v, and never its value", status, secretPath != nil)
	}
	reveal := base + "/vaults/" + vaultID + "/secrets/" + secretPath[1] + "/reveal"
	if status, page = consoleForm(t, owner, reveal, url.Values{"reason": {""}}); status != 422 || strings.Contains(page, secret) {
		t.Errorf("a reveal without a reason: got %d, want 422 and no value", status)
	}
	status, page = consoleForm(t, owner, reveal, url.Values{"reason": {"rotating CI"}})
	if status != 200 || !strings.Contains(page, secret) {
		t.Fatalf("reveal: %d, value shown %v", status, strings.Contains(page, secret))
	}
	var evs struct {
		Data []struct {
			Actor struct{ Label string } `json:"actor"`
			Data  map[string]any         `json:"data"`
		} `json:"data"`
	}
	s.call(t, owner, "GET", "/v1/workspaces/"+s.WorkspaceID+"/events?action=secret.revealed", nil, &evs)
	if len(evs.Data) != 1 || evs.Data[0].Data["reason"] != "rotating CI" || evs.Data[0].Actor.Label != s.OwnerEmail {
		t.Errorf("the reveal's event: %+v", evs.Data)
	}

	// A member the vault does not name, and another workspace's owner.
	meg := s.login(t)
	meg.Jar = w.meg.Jar
	v2 := apitest.New(t)
	acctOperator(t, s.DataDir, "support@vendor.example", acctPassword)
	op := acctLogin(t, v2, s.URL, "support@vendor.example", acctPassword)
	evil := send(t, op, "POST", s.URL+"/v1/workspaces", map[string]any{"name": "Evil Corp", "owner": map[string]any{"email": "eve@evil.example"}})
	acctAccept(t, acctClient(v2), s.URL, acctStr(evil.body, "invite_token"), acctPassword)
	eve := acctLogin(t, v2, s.URL, "eve@evil.example", acctPassword)
	for who, hc := range map[string]*http.Client{"a member the vault does not name": meg, "another workspace's owner": eve} {
		if status, _ = consoleGet(t, hc, base+"/vaults/"+vaultID); status != 404 {
			t.Errorf("%s opening the vault: got %d, want 404", who, status)
		}
		if status, page = consoleForm(t, hc, reveal, url.Values{"reason": {"curious"}}); status != 404 || strings.Contains(page, secret) {
			t.Errorf("%s revealing: got %d, want 404 and no value", who, status)
		}
		if status, _ = consoleForm(t, hc, save, url.Values{"secret": {secret}, "vault_id": {vaultID}, "confirm": {"yes"}}); status != 404 {
			t.Errorf("%s saving into the vault: got %d, want 404", who, status)
		}
	}
}
