package latchkey

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"1h": time.Hour, "12h": 12 * time.Hour, "1d": Day, "5d": 5 * Day, "30d": 30 * Day,
		"90d": 90 * Day, "1y": Year, "2w": 14 * Day, "90m": 90 * time.Minute, "0s": 0,
	}
	for in, want := range good {
		got, err := ParseDuration(in)
		if err != nil || time.Duration(got) != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-1d", "1.5d", "1x", "10000y", "-5m", "1 d"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
	for in, want := range map[Duration]string{Duration(Year): "1y", Duration(30 * Day): "30d", Duration(90 * time.Minute): "90m", Duration(12 * time.Hour): "12h", Duration(1500 * time.Millisecond): "1.5s"} {
		if got := in.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}

func TestResolveExpiry(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	p := DefaultSettings().Expiration
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	cases := []struct {
		name string
		in   string
		at   *time.Time
		p    func(*ExpirationPolicy)
		want *time.Time
		err  string
	}{
		{name: "default is max lifetime", want: at(Year)},
		{name: "preset 1h", in: "1h", want: at(time.Hour)},
		{name: "preset 1y", in: "1y", want: at(Year)},
		{name: "custom duration", in: "45d", want: at(45 * Day)},
		{name: "custom time", at: at(10 * Day), want: at(10 * Day)},
		{name: "past time", at: at(-time.Second), err: "future"},
		{name: "now is not future", at: at(0), err: "future"},
		{name: "beyond max", in: "366d", err: "maximum lifetime"},
		{name: "time beyond max", at: at(Year + time.Second), err: "maximum lifetime"},
		{name: "both given", in: "1d", at: at(Day), err: "not both"},
		{name: "never refused by default", in: "never", err: "never expire"},
		{name: "never when allowed", in: "never", p: func(p *ExpirationPolicy) { p.AllowNeverExpire = true }},
		{name: "zero duration", in: "0s", err: "positive"},
		{name: "garbage", in: "soon", err: "invalid duration"},
		{name: "smaller max", in: "30d", p: func(p *ExpirationPolicy) { p.MaxLifetime = Duration(7 * Day) }, err: "maximum lifetime"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol := p
			if c.p != nil {
				c.p(&pol)
			}
			got, err := pol.ResolveExpiry(now, c.in, c.at)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || ErrorCode(err) != EINVALID {
					t.Fatalf("got err %v, want EINVALID containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (c.want == nil) || (got != nil && !got.Equal(*c.want)) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestKeyStatus(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	notice := 30 * Day
	ptr := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	cases := []struct {
		name    string
		expires *time.Time
		revoked *time.Time
		want    Status
	}{
		{"never expires", nil, nil, StatusActive},
		{"far", ptr(31 * Day), nil, StatusActive},
		{"notice edge", ptr(30 * Day), nil, StatusExpiring},
		{"inside notice", ptr(time.Hour), nil, StatusExpiring},
		{"expiry instant", ptr(0), nil, StatusExpired},
		{"past", ptr(-Day), nil, StatusExpired},
		{"revoked wins", ptr(-Day), ptr(-2 * Day), StatusRevoked},
		{"revoked active", ptr(Year), ptr(-time.Second), StatusRevoked},
	}
	for _, c := range cases {
		k := &Key{ExpiresAt: c.expires, RevokedAt: c.revoked}
		if got := k.Status(now, notice); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	if err := DefaultSettings().Validate(); err != nil {
		t.Fatalf("default settings invalid: %v", err)
	}
	bad := map[string]func(*Settings){
		"zero max":          func(s *Settings) { s.Expiration.MaxLifetime = 0 },
		"preset over max":   func(s *Settings) { s.Expiration.MaxLifetime = Duration(30 * Day) },
		"bad preset":        func(s *Settings) { s.Expiration.Presets = []string{"soon"} },
		"notice over max":   func(s *Settings) { s.Expiration.NoticeBefore = []Duration{Duration(2 * Year)} },
		"zero retention":    func(s *Settings) { s.Expiration.RevokedRetention = 0 },
		"zero delete after": func(s *Settings) { s.Expiration.DeleteAfterExpiry = 0 },
		"issuance":          func(s *Settings) { s.ScimKeyIssuance = "anyone" },
	}
	for name, mut := range bad {
		s := DefaultSettings()
		mut(&s)
		if err := s.Validate(); ErrorCode(err) != EINVALID {
			t.Errorf("%s: got %v, want EINVALID", name, err)
		}
	}
}

func TestDefaultCatalog(t *testing.T) {
	c := DefaultCatalog()
	for _, name := range []string{TypePublicAPI, TypeSCIM, TypeOnPremise, TypeManagement} {
		if _, ok := c.Type(name); !ok {
			t.Errorf("default catalog lacks %s", name)
		}
	}
	pub, _ := c.Type(TypePublicAPI)
	if len(pub.Scopes) != 9 || !pub.Personal {
		t.Errorf("public_api has %d scopes (personal %v), want Cerby's nine, personal", len(pub.Scopes), pub.Personal)
	}
	got, err := pub.ValidateScopes([]string{"items:read", "activities:read", "items:read"})
	if err != nil || strings.Join(got, ",") != "activities:read,items:read" {
		t.Errorf("ValidateScopes = %v, %v", got, err)
	}
	if _, err := pub.ValidateScopes([]string{"keys:write"}); ErrorCode(err) != EINVALID {
		t.Errorf("foreign scope accepted: %v", err)
	}
	onp, _ := c.Type(TypeOnPremise)
	s, err := onp.ValidateSettings(map[string]any{"retrieve_signatures": true})
	if err != nil || s["retrieve_signatures"] != true || s["send_directory_data"] != false {
		t.Errorf("ValidateSettings = %v, %v", s, err)
	}
	for name, in := range map[string]map[string]any{
		"unknown": {"sign": true}, "type": {"retrieve_signatures": "yes"},
	} {
		if _, err := onp.ValidateSettings(in); ErrorCode(err) != EINVALID {
			t.Errorf("%s: got %v, want EINVALID", name, err)
		}
	}
	scim, _ := c.Type(TypeSCIM)
	if _, err := scim.ValidateSettings(map[string]any{"integration": "onelogin"}); err == nil {
		t.Error("unknown integration accepted")
	}
	if _, err := scim.ValidateSettings(map[string]any{"integration": "okta", "contact_email": "it@acme.test"}); err != nil {
		t.Errorf("valid scim settings refused: %v", err)
	}
}

func TestParseCatalogRefuses(t *testing.T) {
	cases := map[string]string{
		"not json":            `{`,
		"unknown field":       `{"types": [], "extra": 1}`,
		"missing builtins":    `{"types": [{"name": "public_api", "label": "x"}]}`,
		"bad scope":           `{"types": [{"name": "scim", "label": "s"}, {"name": "management", "label": "m"}, {"name": "x", "label": "x", "scopes": [{"name": "Items", "label": "i"}]}]}`,
		"foreign mgmt scope":  `{"types": [{"name": "scim", "label": "s"}, {"name": "management", "label": "m", "scopes": [{"name": "root:all", "label": "r"}]}]}`,
		"repeated type":       `{"types": [{"name": "scim", "label": "s"}, {"name": "scim", "label": "s"}, {"name": "management", "label": "m"}]}`,
		"enum without values": `{"types": [{"name": "scim", "label": "s", "settings": [{"name": "a", "label": "a", "kind": "enum"}]}, {"name": "management", "label": "m"}]}`,
	}
	for name, in := range cases {
		if _, err := ParseCatalog([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestValidateCallbackURL(t *testing.T) {
	for _, ok := range []string{"", "https://hooks.acme.test/latchkey", "http://localhost:9000/x", "http://127.0.0.1/x"} {
		if err := ValidateCallbackURL(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://acme.test/x", "ftp://acme.test", "https://", "https://user:pw@acme.test", "javascript:alert(1)", "/relative"} {
		if err := ValidateCallbackURL(bad); ErrorCode(err) != EINVALID {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	if got, err := NormalizeEmail("  Ann@Acme.TEST "); err != nil || got != "ann@acme.test" {
		t.Errorf("got %q, %v", got, err)
	}
	for _, bad := range []string{"", "ann", "Ann <ann@acme.test>", "a@b@c"} {
		if _, err := NormalizeEmail(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestRoleAllowsScope(t *testing.T) {
	for _, c := range []struct {
		role  Role
		scope string
		want  bool
	}{
		{RoleOwner, "members:write", true},
		{RoleAdmin, "members:write", false},
		{RoleAdmin, "keys:write", true},
		{RoleMember, "keys:write", true}, // their own personal keys
		{RoleMember, "events:read", false},
		{"", "keys:read", false},
	} {
		if got := RoleAllowsScope(c.role, c.scope); got != c.want {
			t.Errorf("RoleAllowsScope(%s, %s) = %v, want %v", c.role, c.scope, got, c.want)
		}
	}
}
