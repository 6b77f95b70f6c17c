package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHumanMessages(t *testing.T) {
	settings := httptest.NewRequest("POST", "/w/ws_1/settings", nil)
	settings.Pattern = "POST /w/{ws}/settings"
	owner := httptest.NewRequest("POST", "/w/ws_1/members/usr_1/role", strings.NewReader("role=owner"))
	owner.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	owner.Pattern = "POST /w/{ws}/members/{user}/role"
	events := httptest.NewRequest("GET", "/w/ws_1/activity", nil)
	events.Pattern = "GET /w/{ws}/activity"
	unknown := httptest.NewRequest("POST", "/w/ws_1/keys/key_1", nil)
	for _, tc := range []struct {
		name string
		r    *http.Request
		in   string
		want string
	}{
		{"settings need a super admin", settings, "your role (member) may not do this", "You need the Super admin role to do this."},
		{"making an owner needs an owner", owner, "your role (super_admin) may not do this", "You need the Owner role to do this."},
		{"the activity needs an admin", events, "your role (member) may not do this", "You need the Admin role to do this."},
		{"unknown form", unknown, "your role (member) may not do this", "Your role (Member) does not allow this. An owner of the workspace can do it or change your role."},
		{"personal keys only", unknown, "your role (member) may create only your own personal keys", "As a Member, you can create only your own personal keys."},
		{"a field named as the API does", unknown, "rate_limit.period must be between 1s and 1d", "The rate limit's period must be between 1s and 1d."},
		{"a role inside a sentence", unknown, "this key acts with the role (super_admin), above yours", "This key acts with the role (Super admin), above yours."},
		{"already a sentence", unknown, "You cannot create keys here.", "You cannot create keys here."},
		{"ends with a parenthesis", unknown, "choose a network (a CIDR)", "Choose a network (a CIDR)."},
		{"empty", unknown, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := human(tc.r, tc.in); got != tc.want {
				t.Errorf("human(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
