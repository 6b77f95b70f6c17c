package scim

import (
	"testing"

	"github.com/latchkey/latchkey"
)

// FuzzFilter: any filter either resolves or fails with 400 invalidFilter,
// never a panic or another error; the seed corpus is in testdata/fuzz.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{`userName eq "bjensen"`, `emails[type eq "work" and value co "@x"]`} {
		f.Add(s)
	}
	elem := map[string]any{"type": "work", "value": "a@x.io", "primary": true}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseFilter(s)
		if err != nil {
			wantScimError(t, s, err, "invalidFilter")
			return
		}
		for _, r := range []*resource{userResource, groupResource} {
			if _, err := resolveFilter(r, n); err != nil {
				wantScimError(t, s, err, "invalidFilter")
			}
		}
		if _, err := match(n, elem); err != nil {
			wantScimError(t, s, err, "invalidPath")
		}
	})
}

// FuzzPatchPath: any PATCH path parses or fails with a 400, and applying
// an operation on it never panics.
func FuzzPatchPath(f *testing.F) {
	for _, s := range []string{`emails[type eq "work"].value`, `members[value eq "usr_1"]`, `name.givenName`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range []*resource{userResource, groupResource} {
			p, err := parsePatchPath(r, s)
			if err != nil {
				if latchkey.ErrorCode(err) != latchkey.EINVALID {
					t.Fatalf("%q: got %v, want a 400", s, err)
				}
				continue
			}
			for _, name := range []string{"add", "replace", "remove"} {
				doc := map[string]any{"userName": "x", "displayName": "y", "emails": []any{map[string]any{"type": "work", "value": "a@x.io"}},
					"members": []any{map[string]any{"value": "usr_1"}}, "name": map[string]any{"givenName": "g"}}
				err := applyOne(r, doc, name, p, map[string]any{"value": "v"}, true)
				if err != nil && latchkey.ErrorCode(err) != latchkey.EINVALID {
					t.Fatalf("%q %s: got %v, want nil or a 400", s, name, err)
				}
				if _, err := normalize(r, doc, true); err != nil && latchkey.ErrorCode(err) != latchkey.EINVALID {
					t.Fatalf("%q %s: normalize: %v", s, name, err)
				}
			}
		}
	})
}

func wantScimError(t *testing.T, in string, err error, scimType string) {
	t.Helper()
	e, ok := err.(*latchkey.Error)
	if !ok || e.Code != latchkey.EINVALID || e.Details["scim_type"] != scimType {
		t.Fatalf("%q: got %v, want a 400 %s", in, err, scimType)
	}
}
