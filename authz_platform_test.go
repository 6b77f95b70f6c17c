package latchkey

import (
	"testing"
)

// TestPlatformKeysHoldOnlyTheirColumn: over every action of the table, a
// platform key with every scope may do exactly the platformTable's
// actions, only in its own product's workspace (WorkspaceID), and each
// only with its scope; Grant agrees with Authorize.
func TestPlatformKeysHoldOnlyTheirColumn(t *testing.T) {
	full := Principal{Kind: PrincipalPlatform, KeyID: "pk_1", Product: "acme", Scopes: PlatformScopes, MaxRole: RoleAdmin, WorkspaceID: "ws_mine"}
	for _, a := range Actions() {
		need, allowed := PlatformScopeFor(a)
		for _, ws := range []string{"", "ws_mine", "ws_other"} {
			err := Authorize(full, a, Target{WorkspaceID: ws})
			switch {
			case !allowed && err == nil:
				t.Errorf("%s in %q: allowed, but platform keys have no such action", a, ws)
			case allowed && ws == "ws_other" && ErrorCode(err) != ENOTFOUND:
				t.Errorf("%s in another product's workspace: got %v, want not found", a, err)
			case allowed && ws != "ws_other" && err != nil:
				t.Errorf("%s in %q with every scope: got %v, want allowed", a, ws, err)
			}
		}
		if !allowed {
			continue
		}
		var without []string
		for _, s := range PlatformScopes {
			if s != need {
				without = append(without, s)
			}
		}
		narrow := full
		narrow.Scopes = without
		if err := Authorize(narrow, a, Target{WorkspaceID: "ws_mine"}); ErrorCode(err) != EFORBIDDEN {
			t.Errorf("%s without %s: got %v, want forbidden", a, need, err)
		}
		if narrow.Grant(a) != No || full.Grant(a) != All {
			t.Errorf("%s: Grant disagrees with Authorize", a)
		}
	}
	// No other principal may take the platform keys' own actions.
	for _, a := range []Action{ActPortalMembersSync, ActPortalSessionCreate} {
		for _, p := range []Principal{
			{Kind: PrincipalUser, UserID: "usr_1", WorkspaceID: "ws_mine", Role: RoleOwner},
			{Kind: PrincipalKey, KeyID: "key_1", WorkspaceID: "ws_mine", Role: RoleOwner, Scopes: []string{"members:write"}},
			{Kind: PrincipalOperator, UserID: "usr_op"},
			{Kind: PrincipalSCIM, KeyID: "key_2", WorkspaceID: "ws_mine"},
		} {
			if err := Authorize(p, a, Target{WorkspaceID: "ws_mine"}); err == nil {
				t.Errorf("%s by a %s: allowed, want refused", a, p.Kind)
			}
		}
	}
	if err := Authorize(full, ActPlatformKeysManage, Target{}); err == nil {
		t.Error("a platform key managing platform keys: allowed")
	}
	if got := full.Actor(); got.Type != ActorPlatformKey || got.ID != "pk_1" {
		t.Errorf("a platform key's actor: got %+v", got)
	}
}
