package main

import (
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/api/apitest"
)

func TestWorkspaceSettingsEndToEnd(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	v := apitest.New(t)
	owner := v.Client(s.login(t))
	wsURL := s.URL + "/v1/workspaces/" + s.WorkspaceID
	settings := wsURL + "/settings"

	acctAddMember(t, owner, wsURL, map[string]any{"email": "sam@example.com", "role": "super_admin", "password": acctPassword})
	acctAddMember(t, owner, wsURL, map[string]any{"email": "ada@example.com", "role": "admin", "password": acctPassword})
	acctAddMember(t, owner, wsURL, map[string]any{"email": "meg@example.com", "password": acctPassword})
	sam := acctLogin(t, v, s.URL, "sam@example.com", acctPassword)
	ada := acctLogin(t, v, s.URL, "ada@example.com", acctPassword)
	meg := acctLogin(t, v, s.URL, "meg@example.com", acctPassword)

	before := send(t, owner, "GET", settings, nil)
	if before.status != 200 || acctStr(before.body, "expiration", "max_lifetime") != "1y" || before.body["members_may_create_personal_keys"] != true {
		t.Fatalf("default settings = %d %s", before.status, before.raw)
	}

	// The policy is validated as a whole: a 30-day maximum conflicts with
	// the default presets 90d and 1y.
	for name, tc := range map[string]struct {
		body  any
		field string
	}{
		"max lifetime under a preset": {map[string]any{"expiration": map[string]any{"max_lifetime": "30d"}}, "expiration.presets"},
		"max lifetime over 10 years":  {map[string]any{"expiration": map[string]any{"max_lifetime": "20y"}}, "expiration.max_lifetime"},
		"notice longer than max":      {map[string]any{"expiration": map[string]any{"notice_before": []string{"2y"}}}, "expiration.notice_before"},
		"six notice windows":          {map[string]any{"expiration": map[string]any{"notice_before": []string{"1d", "2d", "3d", "4d", "5d", "6d"}}}, "expiration.notice_before"},
		"zero retention":              {map[string]any{"expiration": map[string]any{"revoked_retention": "0"}}, "expiration.revoked_retention"},
		"zero deletion delay":         {map[string]any{"expiration": map[string]any{"delete_after_expiry": "0"}}, "expiration.delete_after_expiry"},
		"non-duration preset":         {map[string]any{"expiration": map[string]any{"presets": []string{"1d", "soon"}}}, "expiration.presets"},
		"unknown issuance":            {map[string]any{"scim_key_issuance": "nobody"}, "scim_key_issuance"},
		"unknown field":               {map[string]any{"colour": "red"}, "colour"},
		"unknown expiration field":    {map[string]any{"expiration": map[string]any{"forever": true}}, "forever"},
		"wrong type":                  {map[string]any{"members_may_create_personal_keys": "yes"}, "members_may_create_personal_keys"},
	} {
		got := send(t, owner, "PATCH", settings, tc.body)
		expect(t, name, got, 400, "invalid_request")
		if acctDetail(got, "field") != tc.field {
			t.Errorf("%s: details.field = %v, want %q (%s)", name, acctDetail(got, "field"), tc.field, got.raw)
		}
	}
	t.Run("malformed durations name their field", func(t *testing.T) {
		for name, body := range map[string]any{
			"duration as a number": `{"expiration": {"max_lifetime": 30}}`,
			"malformed duration":   map[string]any{"expiration": map[string]any{"max_lifetime": "forever"}},
		} {
			got := send(t, owner, "PATCH", settings, body)
			expect(t, name, got, 400, "invalid_request")
			if acctDetail(got, "field") != "expiration.max_lifetime" {
				t.Errorf("%s: details.field = %v, want expiration.max_lifetime (%s)", name, acctDetail(got, "field"), got.raw)
			}
		}
	})
	if got := send(t, owner, "GET", settings, nil); string(got.raw) != string(before.raw) {
		t.Errorf("refused changes changed the settings: %s", got.raw)
	}

	policy := map[string]any{"expiration": map[string]any{"max_lifetime": "30d", "presets": []string{"1d", "5d", "30d"}, "notice_before": []string{"7d", "1d"}}}
	got := send(t, owner, "PATCH", settings, policy)
	exp := acctObj(got.body["expiration"])
	if got.status != 200 || exp["max_lifetime"] != "30d" || len(exp["presets"].([]any)) != 3 || len(exp["notice_before"].([]any)) != 2 || exp["delete_after_expiry"] != "90d" {
		t.Fatalf("patch policy: %d %s", got.status, got.raw)
	}
	tooLong := send(t, owner, "POST", wsURL+"/keys", map[string]any{"name": "quarterly", "expires_in": "90d"})
	expect(t, "a key longer than max_lifetime", tooLong, 400, "invalid_request")
	if msg := acctStr(tooLong.body, "error", "message"); !strings.Contains(msg, "maximum lifetime") || !strings.Contains(msg, "30d") || acctDetail(tooLong, "field") != "expires_in" {
		t.Errorf("the refusal is not clear: %s", tooLong.raw)
	}
	dflt := send(t, owner, "POST", wsURL+"/keys", map[string]any{"name": "default life"})
	if at, err := time.Parse(time.RFC3339, acctStr(dflt.body, "key", "expires_at")); err != nil || at.After(time.Now().Add(30*24*time.Hour+time.Minute)) || at.Before(time.Now().Add(29*24*time.Hour)) {
		t.Errorf("a key without expiry expires at %v, want in 30 days", acctStr(dflt.body, "key", "expires_at"))
	}
	expect(t, "a key within max_lifetime", send(t, owner, "POST", wsURL+"/keys", map[string]any{"name": "monthly", "expires_in": "30d"}), 201, "")
	expect(t, "never, where not allowed", send(t, owner, "POST", wsURL+"/keys", map[string]any{"name": "forever", "expires_in": "never"}), 400, "invalid_request")
	expect(t, "allow never", send(t, sam, "PATCH", settings, map[string]any{"expiration": map[string]any{"allow_never_expire": true}}), 200, "")
	if k := send(t, owner, "POST", wsURL+"/keys", map[string]any{"name": "forever", "expires_in": "never"}); k.status != 201 || acctObj(k.body["key"])["expires_at"] != nil {
		t.Errorf("a never-expiring key: %d %s", k.status, k.raw)
	}

	// SCIM key issuance decides who creates scim keys.
	expect(t, "issuance by the operator", send(t, owner, "PATCH", settings, map[string]any{"scim_key_issuance": "operator", "scim_custom_attributes": true}), 200, "")
	expect(t, "an owner creates a scim key", send(t, owner, "POST", wsURL+"/keys", map[string]any{"name": "okta", "type": "scim"}), 403, "forbidden")
	expect(t, "an admin creates a scim key", send(t, ada, "POST", wsURL+"/keys", map[string]any{"name": "okta", "type": "scim"}), 403, "forbidden")
	expect(t, "issuance by admins", send(t, owner, "PATCH", settings, map[string]any{"scim_key_issuance": "admins"}), 200, "")
	// A SCIM key can deprovision owners: only an owner holds that much.
	expect(t, "an admin creates a scim key", send(t, ada, "POST", wsURL+"/keys", map[string]any{"name": "okta", "type": "scim"}), 403, "forbidden")
	expect(t, "an owner creates a scim key", send(t, owner, "POST", wsURL+"/keys", map[string]any{"name": "okta", "type": "scim"}), 201, "")

	// Who may change settings.
	mk := s.managementKey(t, "keys:read", "keys:write", "members:read", "members:write", "events:read")
	expect(t, "a member", send(t, meg, "PATCH", settings, map[string]any{"scim_custom_attributes": false}), 403, "forbidden")
	expect(t, "an admin", send(t, ada, "PATCH", settings, map[string]any{"scim_custom_attributes": false}), 403, "forbidden")
	expect(t, "a management key", send(t, acctClient(v), "PATCH", settings, map[string]any{"scim_custom_attributes": false}, "Authorization: Bearer "+mk), 403, "forbidden")
	expect(t, "a management key reads", send(t, acctClient(v), "GET", settings, nil, "Authorization: Bearer "+mk), 200, "")
	expect(t, "a member reads", send(t, meg, "GET", settings, nil), 200, "")
	expect(t, "anonymous", send(t, acctClient(v), "PATCH", settings, map[string]any{}), 401, "unauthenticated")

	// Each change is one event with its actor, address and fields; an
	// empty patch changes nothing and records nothing.
	n := len(acctEvents(t, owner, wsURL, "settings.updated"))
	expect(t, "empty patch", send(t, owner, "PATCH", settings, map[string]any{}), 200, "")
	expect(t, "same value", send(t, owner, "PATCH", settings, map[string]any{"expiration": map[string]any{}}), 200, "")
	evs := acctEvents(t, owner, wsURL, "settings.updated")
	if len(evs) != n || n != 4 {
		t.Errorf("settings.updated events: %d, then %d after empty patches; want 4", n, len(evs))
	}
	first := evs[len(evs)-1]
	changed, _ := acctObj(first["data"])["changed"].([]any)
	if acctStr(first, "actor", "type") != "user" || acctStr(first, "actor", "id") != s.OwnerID || acctStr(first, "actor", "label") != s.OwnerEmail ||
		acctStr(first, "ip") != "127.0.0.1" || acctStr(first, "target") != s.WorkspaceID || len(changed) != 3 {
		t.Errorf("settings.updated = %v", first)
	}
	if acctStr(evs[len(evs)-2], "actor", "label") != "sam@example.com" {
		t.Errorf("the super admin's change is recorded as %v", evs[len(evs)-2]["actor"])
	}
	v.ReportCoverage(t, false)
}
