package latchkey

import "testing"

func TestAuthorize(t *testing.T) {
	const ws, other = "ws_a", "ws_b"
	user := func(r Role) Principal {
		return Principal{Kind: PrincipalUser, UserID: "usr_1", WorkspaceID: ws, Role: r}
	}
	mkey := func(r Role, scopes ...string) Principal {
		return Principal{Kind: PrincipalKey, UserID: "usr_1", KeyID: "key_1", WorkspaceID: ws, Role: r, Scopes: scopes}
	}
	wsKey := Target{WorkspaceID: ws, Owner: OwnerWorkspace}
	own := Target{WorkspaceID: ws, Owner: "usr_1"}
	theirs := Target{WorkspaceID: ws, Owner: "usr_2"}
	cases := []struct {
		name string
		p    Principal
		a    Action
		t    Target
		want Code
	}{
		{"anonymous", Principal{}, ActKeysRead, wsKey, EUNAUTHORIZED},
		{"owner reads", user(RoleOwner), ActKeysRead, wsKey, ""},
		{"admin revokes", user(RoleAdmin), ActKeyRevoke, wsKey, ""},
		{"other workspace is not found", user(RoleOwner), ActKeysRead, Target{WorkspaceID: other}, ENOTFOUND},
		{"not a member", user(""), ActKeysRead, wsKey, ENOTFOUND},
		{"member own key", user(RoleMember), ActKeyRevoke, own, ""},
		{"member workspace key hidden", user(RoleMember), ActKeyRevoke, wsKey, ENOTFOUND},
		{"member other's key hidden", user(RoleMember), ActKeysRead, theirs, ENOTFOUND},
		{"member creating a workspace key", user(RoleMember), ActKeyCreate, wsKey, EFORBIDDEN},
		{"member events", user(RoleMember), ActEventsRead, Target{WorkspaceID: ws}, EFORBIDDEN},
		{"admin settings", user(RoleAdmin), ActSettingsWrite, Target{WorkspaceID: ws}, EFORBIDDEN},
		{"super admin owners", user(RoleSuperAdmin), ActOwnersWrite, Target{WorkspaceID: ws}, EFORBIDDEN},
		{"key with scope", mkey(RoleOwner, "keys:write"), ActKeyCreate, wsKey, ""},
		{"key without scope", mkey(RoleOwner, "keys:read"), ActKeyCreate, wsKey, EFORBIDDEN},
		{"key never above creator", mkey(RoleMember, "keys:write"), ActKeyRevoke, wsKey, ENOTFOUND},
		{"key of removed creator", mkey("", "keys:read"), ActKeysRead, wsKey, ENOTFOUND},
		{"key in other workspace", mkey(RoleOwner, "keys:read"), ActKeysRead, Target{WorkspaceID: other}, ENOTFOUND},
		{"key cannot write settings", mkey(RoleOwner, ManagementScopes...), ActSettingsWrite, Target{WorkspaceID: ws}, EFORBIDDEN},
		{"operator lists workspaces", Principal{Kind: PrincipalOperator}, ActWorkspacesList, Target{}, ""},
		{"operator cannot create keys", Principal{Kind: PrincipalOperator}, ActKeyCreate, wsKey, EFORBIDDEN},
		{"user cannot list workspaces", user(RoleOwner), ActWorkspacesList, Target{}, EFORBIDDEN},
		{"unknown action", user(RoleOwner), Action("nope"), wsKey, EINTERNAL},
	}
	for _, c := range cases {
		if got := ErrorCode(Authorize(c.p, c.a, c.t)); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestEveryActionHasARule(t *testing.T) {
	for a, r := range table {
		if r.Scope != "" {
			found := false
			for _, s := range ManagementScopes {
				found = found || s == r.Scope
			}
			if !found {
				t.Errorf("%s needs scope %q, which no management key can hold", a, r.Scope)
			}
		}
	}
}
